"""An AI bill of materials: the deployment as a CycloneDX 1.6 document.

What goes in:

- every installed Python distribution (``pkg:pypi`` purl, version, SHA-256);
- every trained model under ``settings.models_dir`` as a ``machine-learning-model``
  component, hashed over its files, with its training-data hash and model card
  link when the model recorded them;
- every model shipped inside the ``shopguard`` package
  (:data:`shopguard.core.packaged_models.PACKAGED_MODELS`), with its licence, what it was
  trained on and, for third-party weights, the package they were taken from (``purl``);
- the datasets under the state directory (the store's tables) as ``data`` components;
- external AI services and vendors: reverse-proxy upstreams from the settings and
  the vendor register's entries, with the personal data that flows to each.

Hashes of installed packages: a wheel install keeps no hash of the wheel itself,
but its ``RECORD`` file pins the SHA-256 of every installed file, so the SHA-256
of ``RECORD`` identifies the installed contents exactly (property
``shopguard:hash-basis`` says which basis each hash has; an archive hash from
``direct_url.json`` is used when pip recorded one).

Built with cyclonedx-python-lib and validated against the CycloneDX JSON schema
with its validator (:func:`validate_bom_json`).

References
----------
CycloneDX 1.6 specification, https://cyclonedx.org/docs/1.6/json/ (ML-BOM: components
of type ``machine-learning-model``, ``data``).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cyclonedx.model import (
    DataClassification,
    DataFlow,
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.license import DisjunctiveLicense
from cyclonedx.model.service import Service
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from packaging.utils import canonicalize_name

from shopguard import __version__
from shopguard.core.errors import DataValidationError
from shopguard.core.packaged_models import PACKAGE_ROOT, PACKAGED_MODELS, PackagedModel
from shopguard.core.settings import Settings

__all__ = [
    "DATASET_SUFFIXES",
    "BomCompleteness",
    "InstalledPackage",
    "ModelArtifact",
    "SbomSummary",
    "VendorService",
    "bom_to_json",
    "build_bom",
    "check_completeness",
    "installed_packages",
    "model_artifacts",
    "validate_bom_json",
    "write_sbom",
]

logger = logging.getLogger(__name__)

SPEC = SchemaVersion.V1_6
DATASET_SUFFIXES = frozenset({".parquet", ".csv", ".jsonl", ".json", ".npz"})
#: Keys under which a model's metadata may record the hash of its training data.
_TRAINING_DATA_KEYS = (
    "training_data_sha256",
    "training_data_digest",
    "dataset_sha256",
    "data_sha256",
)
_MODEL_CARD_NAMES = ("model_card.md", "model_card.json", "MODEL_CARD.md", "card.md", "card.json")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class InstalledPackage:
    """One installed distribution as the SBOM lists it."""

    name: str
    version: str
    sha256: str | None
    hash_basis: str  # "archive" | "installed-record" | "metadata" | "none"

    @property
    def canonical_name(self) -> str:
        return canonicalize_name(self.name)


@dataclass(frozen=True)
class ModelArtifact:
    """A trained model directory: its files' combined digest and what it recorded."""

    name: str
    path: Path
    sha256: str
    files: tuple[tuple[str, str], ...]  # (relative path, sha256)
    kind: str | None
    training_data_sha256: str | None
    model_card: Path | None


@dataclass(frozen=True)
class VendorService:
    """An external service (AI API, data vendor, cloud) the deployment sends data to."""

    name: str
    supplies: str
    endpoints: tuple[str, ...] = ()
    personal_data: tuple[str, ...] = ()
    depends: tuple[str, ...] = ()
    kind: str = "vendor"


@dataclass(frozen=True)
class SbomSummary:
    path: Path
    packages: int
    models: int  # the deployment's own (``settings.models_dir``)
    datasets: int
    services: int
    spec_version: str = SPEC.to_version()
    packaged_models: int = 0  # shipped inside the shopguard package


@dataclass(frozen=True)
class BomCompleteness:
    missing_packages: tuple[str, ...]
    missing_models: tuple[str, ...]
    unhashed: tuple[str, ...]
    packages: int
    models: int

    @property
    def complete(self) -> bool:
        return not (self.missing_packages or self.missing_models or self.unhashed)

    @property
    def coverage(self) -> float:
        total = self.packages + self.models
        if total == 0:
            return 1.0
        return 1.0 - (len(self.missing_packages) + len(self.missing_models)) / total


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _archive_hash(dist: importlib.metadata.Distribution) -> str | None:
    raw = dist.read_text("direct_url.json")
    if not raw:
        return None
    try:
        info = json.loads(raw)
    except json.JSONDecodeError:
        return None
    archive = info.get("archive_info") if isinstance(info, dict) else None
    hashes = archive.get("hashes") if isinstance(archive, dict) else None
    if isinstance(hashes, dict) and isinstance(hashes.get("sha256"), str):
        return str(hashes["sha256"]).lower()
    legacy = archive.get("hash") if isinstance(archive, dict) else None
    if isinstance(legacy, str) and legacy.startswith("sha256="):
        return legacy.split("=", 1)[1].lower()
    return None


def installed_packages(
    distributions: Iterable[importlib.metadata.Distribution] | None = None,
) -> list[InstalledPackage]:
    """Every installed distribution once (the first on ``sys.path`` wins, as imports do)."""
    seen: dict[str, InstalledPackage] = {}
    for dist in distributions if distributions is not None else importlib.metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata is not None else None
        if not name:
            continue
        key = canonicalize_name(name)
        if key in seen:
            continue
        digest, basis = _archive_hash(dist), "archive"
        if digest is None:
            for fname, what in (("RECORD", "installed-record"), ("METADATA", "metadata")):
                text = dist.read_text(fname)
                if text:
                    digest, basis = hashlib.sha256(text.encode("utf-8")).hexdigest(), what
                    break
            else:
                basis = "none"
        seen[key] = InstalledPackage(name, dist.version or "0", digest, basis)
    return sorted(seen.values(), key=lambda p: p.canonical_name)


def _find_training_hash(meta: Any) -> str | None:
    if not isinstance(meta, dict):
        return None
    for key in _TRAINING_DATA_KEYS:
        value = meta.get(key)
        if isinstance(value, str) and value:
            return value
    nested = meta.get("training_data")
    if isinstance(nested, dict):
        for key in ("sha256", "digest"):
            value = nested.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def model_artifacts(models_dir: Path) -> list[ModelArtifact]:
    """Each model directory under ``models_dir`` with a digest over all of its files.

    Raises
    ------
    DataValidationError
        A model's JSON metadata file is not valid JSON (named, with the model).
    """
    if not models_dir.is_dir():
        return []
    found: list[ModelArtifact] = []
    for d in sorted(p for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in d.rglob("*") if p.is_file() and not p.name.startswith("."))
        if not files:
            continue
        digests = tuple((f.relative_to(d).as_posix(), _sha256_file(f)) for f in files)
        combined = hashlib.sha256()
        for rel, digest in digests:
            combined.update(f"{rel}\0{digest}\n".encode())
        kind: str | None = None
        training: str | None = None
        for f in files:
            if f.suffix != ".json":
                continue
            try:
                meta = json.loads(f.read_text("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise DataValidationError(
                    "model metadata is not valid JSON", file=str(f.relative_to(models_dir))
                ) from None
            if isinstance(meta, dict):
                kind = kind or (
                    str(meta["format"]) if isinstance(meta.get("format"), str) else None
                )
                training = training or _find_training_hash(meta)
        card = next((d / n for n in _MODEL_CARD_NAMES if (d / n).is_file()), None)
        found.append(ModelArtifact(d.name, d, combined.hexdigest(), digests, kind, training, card))
    return found


def _datasets(home: Path) -> list[tuple[str, Path]]:
    roots = [("store", home / "store")]
    tenants = home / "tenants"
    if tenants.is_dir():
        roots += [(f"tenants/{t.name}/store", t / "store") for t in sorted(tenants.iterdir())]
    out = []
    for label, root in roots:
        if root.is_dir():
            for f in sorted(root.iterdir()):
                if f.is_file() and f.suffix in DATASET_SUFFIXES:
                    out.append((f"{label}/{f.name}", f))
    return out


def _packaged_component(model: PackagedModel, root: Path) -> Component:
    """A shipped model as a component: one digest over its files, licence, provenance."""
    combined = hashlib.sha256()
    missing = []
    for rel in model.files:
        path = root / rel
        if not path.is_file():
            missing.append(rel)
            continue
        combined.update(f"{rel}\0{_sha256_file(path)}\n".encode())
    props = [
        _prop("packaged", "true"),
        _prop("origin", model.origin),
        _prop("trained-on", model.trained_on),
        _prop("built-by", model.built_by),
        _prop("files", len(model.files)),
    ]
    if missing:  # a damaged install: said, not hidden (and no hash that would vouch for it)
        props.append(_prop("missing-files", ",".join(missing)))
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=model.name,
        version=combined.hexdigest()[:12],
        bom_ref=f"packaged-model:{model.name}",
        purl=PackageURL.from_string(model.source_purl) if model.source_purl else None,
        licenses=[DisjunctiveLicense(id=model.licence)],
        hashes=[]
        if missing
        else [HashType(alg=HashAlgorithm.SHA_256, content=combined.hexdigest())],
        properties=props,
    )


def _prop(name: str, value: object) -> Property:
    return Property(name=f"shopguard:{name}", value=str(value))


def build_bom(
    settings: Settings,
    *,
    packages: Sequence[InstalledPackage] | None = None,
    vendors: Sequence[VendorService] = (),
    model_datasets: Mapping[str, Sequence[str]] | None = None,
    clock: Callable[[], datetime] | None = None,
    packaged: Sequence[PackagedModel] = PACKAGED_MODELS,
    package_root: Path = PACKAGE_ROOT,
) -> Bom:
    """The deployment's bill of materials (packages, models, datasets, services).

    ``model_datasets`` maps a model name to the dataset labels the data map declares
    for it (``store/transactions``); each becomes a dependency of the model component
    and the dataset's SHA-256 a ``shopguard:declared-data`` property, kept apart from a
    training-data hash the model itself recorded.
    """
    bom = Bom()
    bom.metadata.timestamp = (clock or (lambda: datetime.now(UTC)))()
    root = Component(
        type=ComponentType.APPLICATION,
        name="shopguard-deployment",
        version=__version__,
        bom_ref="shopguard-deployment",
        description="A store's AI features behind shopguard",
    )
    bom.metadata.component = root
    parts: list[Component] = []
    for pkg in packages if packages is not None else installed_packages():
        comp = Component(
            type=ComponentType.LIBRARY,
            name=pkg.name,
            version=pkg.version,
            bom_ref=f"pkg:pypi/{pkg.canonical_name}@{pkg.version}",
            purl=PackageURL(type="pypi", name=pkg.canonical_name, version=pkg.version),
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=pkg.sha256)] if pkg.sha256 else [],
            properties=[_prop("hash-basis", pkg.hash_basis)],
        )
        parts.append(comp)
    home = settings.home
    data_parts: dict[str, Component] = {}
    for label, path in _datasets(home):
        data_parts[label] = Component(
            type=ComponentType.DATA,
            name=label,
            bom_ref=f"data:{label}",
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=_sha256_file(path))],
            properties=[_prop("bytes", path.stat().st_size)],
        )
    model_deps: list[tuple[Component, list[Component]]] = []
    for model in model_artifacts(settings.models_dir):
        refs = []
        props = [
            _prop("model-path", model.path.relative_to(home).as_posix()),
            _prop("files", len(model.files)),
            _prop("training-data-sha256", model.training_data_sha256 or "not recorded"),
        ]
        if model.kind:
            props.append(_prop("model-format", model.kind))
        if model.model_card is not None:
            refs.append(
                ExternalReference(
                    type=ExternalReferenceType.MODEL_CARD,
                    url=XsUri(model.model_card.resolve().as_uri()),
                )
            )
        else:
            props.append(_prop("model-card", "missing"))
        used = []
        for declared in (model_datasets or {}).get(model.name, ()):
            for label, comp in data_parts.items():
                if label.rsplit(".", 1)[0] == declared:
                    used.append(comp)
                    digest = next(iter(comp.hashes)).content
                    props.append(_prop("declared-data", f"{label}=sha256:{digest}"))
        comp = Component(
            type=ComponentType.MACHINE_LEARNING_MODEL,
            name=model.name,
            version=model.sha256[:12],
            bom_ref=f"model:{model.name}",
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=model.sha256)],
            external_references=refs,
            properties=props,
        )
        parts.append(comp)
        if used:
            model_deps.append((comp, used))
    parts.extend(_packaged_component(m, package_root) for m in packaged)
    parts.extend(data_parts.values())
    for comp in parts:
        bom.components.add(comp)
    bom.register_dependency(root, parts)
    for model_comp, used in model_deps:
        bom.register_dependency(model_comp, used)
    services = [
        Service(
            name=f"upstream:{name}",
            bom_ref=f"service:upstream:{name}",
            group="upstream",
            endpoints=[XsUri(url)],
            x_trust_boundary=True,
            description="reverse-proxied model service",
        )
        for name, url in sorted(settings.upstreams.items())
    ]
    for vendor in vendors:
        services.append(
            Service(
                name=vendor.name,
                bom_ref=f"service:vendor:{vendor.name}",
                group=vendor.kind,
                provider=OrganizationalEntity(name=vendor.name),
                description=vendor.supplies,
                endpoints=[XsUri(e) for e in vendor.endpoints],
                x_trust_boundary=True,
                data=[
                    DataClassification(flow=DataFlow.OUTBOUND, classification=f"personal:{c}")
                    for c in vendor.personal_data
                ],
                properties=[_prop("depends", ",".join(vendor.depends) or "none")],
            )
        )
    for svc in services:
        bom.services.add(svc)
    return bom


def bom_to_json(bom: Bom) -> str:
    return JsonV1Dot6(bom).output_as_string(indent=2)


def validate_bom_json(text: str, *, source: str = "SBOM") -> dict[str, Any]:
    """Parse and validate a CycloneDX 1.6 JSON document; return it as a dict.

    Raises
    ------
    DataValidationError
        Not JSON, or the CycloneDX schema rejects it (the message names the JSON path).
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataValidationError(
            f"not JSON (line {exc.lineno}, column {exc.colno})", file=source
        ) from None
    error = JsonStrictValidator(SPEC).validate_str(text)
    if error is not None:
        inner = error.data
        path = "/".join(str(p) for p in getattr(inner, "absolute_path", ())) or "(document)"
        message = str(getattr(inner, "message", "schema violation")).splitlines()[0][:200]
        raise DataValidationError(
            f"not valid CycloneDX {SPEC.to_version()} at {path}: {message}", file=source
        )
    return doc  # type: ignore[no-any-return]


def check_completeness(
    doc: Mapping[str, Any],
    *,
    packages: Sequence[InstalledPackage],
    models: Sequence[ModelArtifact],
) -> BomCompleteness:
    """Is every installed package and every model in the document, each with a hash?"""
    comps = [c for c in doc.get("components", []) if isinstance(c, dict)]
    listed_pkgs: dict[str, dict[str, Any]] = {
        str(canonicalize_name(str(c.get("name", "")))): c
        for c in comps
        if c.get("type") == "library"
    }
    listed_models = {
        str(c.get("name")): c for c in comps if c.get("type") == "machine-learning-model"
    }
    missing_pkgs = tuple(
        p.canonical_name
        for p in packages
        if p.canonical_name not in listed_pkgs
        or listed_pkgs[p.canonical_name].get("version") != p.version
    )
    missing_models = tuple(m.name for m in models if m.name not in listed_models)
    unhashed = tuple(
        sorted(
            str(c.get("name"))
            for c in [*listed_pkgs.values(), *listed_models.values()]
            if not c.get("hashes")
        )
    )
    return BomCompleteness(missing_pkgs, missing_models, unhashed, len(packages), len(models))


def write_sbom(
    settings: Settings,
    out: Path,
    *,
    packages: Sequence[InstalledPackage] | None = None,
    vendors: Sequence[VendorService] = (),
    model_datasets: Mapping[str, Sequence[str]] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> SbomSummary:
    """Build, validate and write the SBOM to ``out`` (atomically)."""
    bom = build_bom(
        settings, packages=packages, vendors=vendors, model_datasets=model_datasets, clock=clock
    )
    text = bom_to_json(bom)
    doc = validate_bom_json(text, source=out.name)
    by_type: dict[str, int] = {}
    for comp in doc.get("components", []):
        kind = comp["type"]
        if str(comp.get("bom-ref", "")).startswith("packaged-model:"):
            kind = "packaged"
        by_type[kind] = by_type.get(kind, 0) + 1
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(text + "\n", "utf-8")
    tmp.replace(out)
    return SbomSummary(
        out,
        packages=by_type.get("library", 0),
        models=by_type.get("machine-learning-model", 0),
        datasets=by_type.get("data", 0),
        services=len(doc.get("services", [])),
        packaged_models=by_type.get("packaged", 0),
    )
