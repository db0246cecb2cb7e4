"""The model vault: every artifact encrypted under its own key and signed, every read audited.

A version is stored as one row: a *bundle* of the model directory's files,
encrypted with AES-256-GCM under a fresh data key (the *envelope* key) that is
itself wrapped by the key ring (purpose ``modelsec.vault``), and a manifest
(name, version, kind, owner, training-data hash, metrics, integrity report,
digests of the bundle and the ciphertext) signed with Ed25519 by a key-ring
signing key (purpose ``modelsec.signing``). The name and version are bound as
associated data, so a ciphertext or wrapped key copied to another row fails.

Loading checks, in order, before any byte is deserialised: the manifest names
this row, the signing key is in the key ring and its public key is the one the
manifest names, the signature verifies, the ciphertext is the one signed, the
envelope key unwraps, the bundle decrypts and matches its signed digest, every
file matches its digest, and the unsafe-artifact scanner passes. Any failure is
a :class:`~shopguard.core.errors.ModelError` naming the check that failed (never
a secret), an audit entry and an alert; there is no path that loads unverified
bytes. Imports are scanned too: a file that fails the scan is refused.

Access is by scope (``models:read``, ``models:write``, ``models:promote``,
``models:export``); every read, refusal and denial is an audit event.

References
----------
NIST SP 800-57 (envelope encryption / key wrapping); RFC 8032 (Ed25519);
Sigstore model-transparency (signing ML models) for the manifest-over-digests idea.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from shopguard.core import crypto
from shopguard.core.audit import AuditEvent
from shopguard.core.errors import (
    AuthorizationError,
    DataValidationError,
    InvalidCiphertext,
    KeyRingError,
    ModelError,
    NotFoundError,
)
from shopguard.core.events import Alert, Severity
from shopguard.core.runtime import Runtime
from shopguard.modelsec.scan import ScanReport, scan_bytes
from shopguard.modelsec.tables import versions

__all__ = [
    "GATEWAY_READER",
    "IMAGES_MODEL",
    "OPERATOR",
    "Accessor",
    "ModelKind",
    "ModelVault",
    "Scope",
    "VaultStage",
    "VersionInfo",
    "directory_digest",
    "store_reference_models",
    "verify_export",
]

FORMAT = "shopguard.modelsec.vault/1"
SIGN_PURPOSE = "modelsec.signing"
WRAP_PURPOSE = "modelsec.vault"
_BUNDLE_MAGIC = b"SGMB1\n"
_NAME_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
#: Largest model directory the vault accepts (the bundle is held in memory).
MAX_BUNDLE_BYTES = 512 * 1024**2

Clock = Callable[[], datetime]


class Scope(StrEnum):
    READ = "models:read"
    WRITE = "models:write"
    PROMOTE = "models:promote"
    EXPORT = "models:export"


class VaultStage(StrEnum):
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"


class ModelKind(StrEnum):
    FRAUD = "fraud"
    RECOMMENDER = "recommender"
    REVIEWS = "reviews"
    #: A directory of image classifiers (safetensors + manifest + detector calibrations).
    IMAGES = "images"
    GENERIC = "generic"


@dataclass(frozen=True)
class Accessor:
    """Who uses the vault: a principal id (never a secret) and the scopes it holds."""

    principal: str
    scopes: frozenset[str]


#: The local operator (the CLI run by someone who holds the master key).
OPERATOR = Accessor("cli:operator", frozenset(s.value for s in Scope))
#: The gateway reading the models it serves: read only.
GATEWAY_READER = Accessor("service:gateway", frozenset({Scope.READ.value}))
#: The vault name of the product-image classifiers (kind ``images``).
IMAGES_MODEL = "images"


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: int
    kind: ModelKind
    owner: str
    stage: VaultStage
    created_at: str
    sign_key_id: str
    manifest: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind.value,
            "owner": self.owner,
            "stage": self.stage.value,
            "created_at": self.created_at,
            "sign_key_id": self.sign_key_id,
            "manifest": dict(self.manifest),
        }


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name) <= _NAME_OK or name[0] in ".-":
        raise DataValidationError("model name must be 1-64 of [A-Za-z0-9_.-]", column="name")
    return name


def directory_digest(directory: str | Path) -> str:
    """SHA-256 over a directory's files (relative names and contents, sorted): a data hash."""
    d = Path(directory)
    h = hashlib.sha256()
    for f in sorted(p for p in d.rglob("*") if p.is_file()):
        rel = f.relative_to(d).as_posix().encode()
        h.update(len(rel).to_bytes(4, "big") + rel)
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


# -- bundles: a directory's files as one byte string ------------------------------------------


def _pack(files: Mapping[str, bytes]) -> bytes:
    header = [{"name": n, "size": len(b), "sha256": _sha256(b)} for n, b in sorted(files.items())]
    head = _canonical({"files": header})
    return (
        _BUNDLE_MAGIC
        + len(head).to_bytes(4, "big")
        + head
        + b"".join(files[h["name"]] for h in header)  # type: ignore[index]
    )


def _safe_member(name: Any) -> bool:
    return (
        isinstance(name, str)
        and 0 < len(name) <= 255
        and not name.startswith(("/", "\\"))
        and all(part not in ("", ".", "..") for part in name.replace("\\", "/").split("/"))
    )


def _unpack(bundle: bytes) -> dict[str, bytes]:
    if not bundle.startswith(_BUNDLE_MAGIC) or len(bundle) < len(_BUNDLE_MAGIC) + 4:
        raise ModelError("vault bundle is not a shopguard bundle")
    i = len(_BUNDLE_MAGIC)
    n = int.from_bytes(bundle[i : i + 4], "big")
    try:
        header = json.loads(bundle[i + 4 : i + 4 + n])
        entries = header["files"]
    except (ValueError, KeyError, TypeError):
        raise ModelError("vault bundle header is corrupt") from None
    pos = i + 4 + n
    out: dict[str, bytes] = {}
    for e in entries:
        name, size, digest = e.get("name"), e.get("size"), e.get("sha256")
        if not _safe_member(name) or not isinstance(size, int) or size < 0:
            raise ModelError("vault bundle names an unsafe or malformed member")
        body = bundle[pos : pos + size]
        if len(body) != size or _sha256(body) != digest:
            raise ModelError(f"vault bundle member {name} does not match its digest")
        out[name] = body
        pos += size
    if pos != len(bundle):
        raise ModelError("vault bundle has trailing bytes")
    return out


def _read_directory(source: Path) -> dict[str, bytes]:
    if not source.is_dir():
        raise DataValidationError("model directory does not exist", file=str(source))
    files: dict[str, bytes] = {}
    total = 0
    for f in sorted(source.rglob("*")):
        if f.is_symlink():
            raise DataValidationError("model directory holds a symbolic link", file=str(f))
        if f.is_file():
            data = f.read_bytes()
            total += len(data)
            if total > MAX_BUNDLE_BYTES:
                raise DataValidationError("model directory is too large", file=str(source))
            files[f.relative_to(source).as_posix()] = data
    if not files:
        raise DataValidationError("model directory is empty", file=str(source))
    return files


def _integrity(files: Mapping[str, bytes]) -> tuple[dict[str, Any], list[ScanReport]]:
    reports = [scan_bytes(body, name) for name, body in sorted(files.items())]
    report = {
        "scanner": "shopguard.modelsec.scan/allow-list",
        "verdict": "safe" if all(r.safe for r in reports) else "unsafe",
        "files": [
            {
                "name": r.path,
                "format": r.format,
                "verdict": r.verdict.value,
                "sha256": _sha256(files[r.path]),
            }
            for r in reports
        ],
    }
    return report, reports


class ModelVault:
    """Encrypted, signed, versioned model artifacts with scoped, audited access.

    Parameters
    ----------
    runtime:
        The core runtime (engine, key ring, audit log, event bus).
    clock:
        Injectable clock.
    """

    def __init__(self, runtime: Runtime, *, clock: Clock = _utcnow) -> None:
        self._rt = runtime
        self._clock = clock

    # -- access control and audit ---------------------------------------------------------
    def _require(self, who: Accessor, scope: Scope, target: str) -> None:
        if scope.value in who.scopes or "*" in who.scopes:
            return
        self._audit(who, f"modelsec.vault.{scope.name.lower()}", target, "deny", ["missing_scope"])
        raise AuthorizationError(f"missing scope {scope.value}")

    def _audit(
        self,
        who: Accessor,
        action: str,
        target: str,
        decision: str,
        findings: list[str],
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self._rt.audit.append(
            AuditEvent(
                action=action,
                decision=decision,
                principal=who.principal,
                target=target,
                findings=findings,
                details=dict(details or {}),
            )
        )

    def _refuse(self, who: Accessor, target: str, code: str, message: str) -> ModelError:
        self._audit(who, "modelsec.vault.read", target, "refuse", [code])
        self._rt.bus.publish(
            Alert(
                topic="modelsec.vault.refused",
                severity=Severity.HIGH,
                source="modelsec.vault",
                summary=f"vault refused to load {target}: {code}",
                details={"target": target, "reason": code},
            )
        )
        return ModelError(f"{target}: {message}; refusing to load")

    # -- writing ------------------------------------------------------------------------------
    def put(
        self,
        name: str,
        source: str | Path,
        *,
        kind: ModelKind,
        who: Accessor,
        owner: str | None = None,
        training_data_sha256: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> VersionInfo:
        """Scan, encrypt, sign and store the model directory ``source`` as a new version.

        Raises
        ------
        ModelError
            A file fails the unsafe-artifact scan (the report names the construct).
        """
        _check_name(name)
        target = f"model:{name}"
        self._require(who, Scope.WRITE, target)
        files = _read_directory(Path(source))
        integrity, reports = _integrity(files)
        bad = [r for r in reports if not r.safe]
        if bad:
            reasons = "; ".join(str(f) for r in bad for f in r.findings[:3])
            self._audit(
                who,
                "modelsec.vault.put",
                target,
                "refuse",
                ["unsafe_artifact"],
                {"files": [r.path for r in bad]},
            )
            raise ModelError(f"{target}: refused, unsafe artifact: {reasons}")
        if metrics is None:
            metrics = _metrics_of(files)
        bundle = _pack(files)
        ring = self._rt.keyring
        sign_key = ring.active(SIGN_PURPOSE)
        for _ in range(5):
            with self._rt.engine.connect() as conn:
                latest = conn.execute(
                    sa.select(sa.func.max(versions.c.version)).where(versions.c.name == name)
                ).scalar()
            version = int(latest or 0) + 1
            aad = self._aad(name, version)
            envelope = crypto.new_key()
            ciphertext = crypto.seal(envelope, bundle, context=aad)
            wrapped = ring.seal(WRAP_PURPOSE, envelope, context=aad + b"/key")
            now = self._clock().isoformat()
            manifest = {
                "format": FORMAT,
                "name": name,
                "version": version,
                "kind": kind.value,
                "owner": owner or who.principal,
                "created_at": now,
                "training_data_sha256": training_data_sha256,
                "metrics": json.loads(json.dumps(metrics or {}, default=str)),
                "integrity": integrity,
                "bundle_sha256": _sha256(bundle),
                "ciphertext_sha256": _sha256(ciphertext),
                "sign_key_id": sign_key.key_id,
                "sign_public_key": crypto.signing_public_key(sign_key.secret).hex(),
                "extra": json.loads(json.dumps(extra or {}, default=str)),
            }
            signature = crypto.sign_with_seed(sign_key.secret, _canonical(manifest))
            try:
                with self._rt.engine.begin() as conn:
                    conn.execute(
                        versions.insert().values(
                            name=name,
                            version=version,
                            kind=kind.value,
                            owner=manifest["owner"],
                            stage=VaultStage.STAGING.value,
                            created_at=now,
                            manifest=_canonical(manifest).decode(),
                            signature=signature.hex(),
                            sign_key_id=sign_key.key_id,
                            wrapped_key=wrapped,
                            ciphertext=ciphertext,
                        )
                    )
            except sa.exc.IntegrityError:
                continue  # another writer took this version number
            self._audit(
                who, "modelsec.vault.put", f"{target}@{version}", "allow", [], {"kind": kind.value}
            )
            return self._info_from(manifest, VaultStage.STAGING)
        raise ModelError(f"{target}: could not allocate a version")

    @staticmethod
    def _aad(name: str, version: int) -> bytes:
        return f"shopguard/modelsec/vault/{name}/{version}".encode()

    # -- reading metadata -----------------------------------------------------------------------
    def _row(self, name: str, version: int | None) -> Any:
        c = versions.c
        q = sa.select(versions).where(c.name == name)
        if version is None:
            q = q.order_by(
                sa.case((c.stage == VaultStage.PRODUCTION.value, 0), else_=1), c.version.desc()
            )
        else:
            q = q.where(c.version == version)
        with self._rt.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            raise NotFoundError(
                f"model {name}{'' if version is None else f'@{version}'} is not in the vault"
            )
        return row

    @staticmethod
    def _info_from(manifest: Mapping[str, Any], stage: VaultStage) -> VersionInfo:
        return VersionInfo(
            name=str(manifest["name"]),
            version=int(manifest["version"]),
            kind=ModelKind(manifest["kind"]),
            owner=str(manifest["owner"]),
            stage=stage,
            created_at=str(manifest["created_at"]),
            sign_key_id=str(manifest["sign_key_id"]),
            manifest=manifest,
        )

    def list(self, *, who: Accessor, name: str | None = None) -> list[VersionInfo]:
        """Every version (or every version of ``name``), newest first per name. Metadata only."""
        self._require(who, Scope.READ, f"model:{name or '*'}")
        c = versions.c
        q = sa.select(
            c.name, c.version, c.kind, c.owner, c.stage, c.created_at, c.sign_key_id, c.manifest
        )
        if name is not None:
            q = q.where(c.name == name)
        with self._rt.engine.connect() as conn:
            rows = conn.execute(q.order_by(c.name, c.version.desc())).all()
        self._audit(
            who, "modelsec.vault.list", f"model:{name or '*'}", "allow", [], {"versions": len(rows)}
        )
        return [
            VersionInfo(
                r.name,
                r.version,
                ModelKind(r.kind),
                r.owner,
                VaultStage(r.stage),
                r.created_at,
                r.sign_key_id,
                json.loads(r.manifest),
            )
            for r in rows
        ]

    def show(
        self, name: str, version: int | None = None, *, who: Accessor
    ) -> tuple[VersionInfo, bool, str]:
        """One version's metadata and whether it verifies now: ``(info, ok, reason)``."""
        row = self._row(name, version)
        target = f"model:{name}@{row.version}"
        self._require(who, Scope.READ, target)
        try:
            self._verified_files(row, who)
            ok, reason = True, "signature, key and digests verify"
        except ModelError as exc:
            ok, reason = False, str(exc)
        info = VersionInfo(
            row.name,
            row.version,
            ModelKind(row.kind),
            row.owner,
            VaultStage(row.stage),
            row.created_at,
            row.sign_key_id,
            json.loads(row.manifest),
        )
        return info, ok, reason

    # -- verified reading -------------------------------------------------------------------------
    def _verified_files(self, row: Any, who: Accessor) -> dict[str, bytes]:
        target = f"model:{row.name}@{row.version}"
        try:
            manifest = json.loads(row.manifest)
        except ValueError:
            raise self._refuse(
                who, target, "manifest_corrupt", "manifest is not valid JSON"
            ) from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise self._refuse(
                who, target, "manifest_foreign", "manifest is not a shopguard vault manifest"
            )
        if manifest.get("name") != row.name or manifest.get("version") != row.version:
            raise self._refuse(
                who, target, "manifest_swapped", "manifest belongs to another model version"
            )
        ring = self._rt.keyring
        try:
            sign_key = ring.get(str(row.sign_key_id))
        except KeyRingError:
            raise self._refuse(
                who,
                target,
                "signing_key_missing",
                f"signing key {row.sign_key_id} is not in the key ring",
            ) from None
        public = crypto.signing_public_key(sign_key.secret)
        if (
            manifest.get("sign_public_key") != public.hex()
            or manifest.get("sign_key_id") != row.sign_key_id
        ):
            raise self._refuse(
                who, target, "signing_key_mismatch", "manifest names another signing key"
            )
        try:
            crypto.verify_signature(public, _canonical(manifest), bytes.fromhex(row.signature))
        except (InvalidCiphertext, ValueError):
            raise self._refuse(
                who, target, "signature_invalid", "manifest signature does not verify"
            ) from None
        ciphertext = bytes(row.ciphertext)
        if _sha256(ciphertext) != manifest.get("ciphertext_sha256"):
            raise self._refuse(
                who,
                target,
                "artifact_mismatch",
                "encrypted artifact is not the one signed (swapped or corrupt)",
            )
        aad = self._aad(row.name, row.version)
        try:
            envelope = ring.open_(bytes(row.wrapped_key), context=aad + b"/key")
        except InvalidCiphertext:
            raise self._refuse(
                who,
                target,
                "envelope_key_invalid",
                "envelope key does not unwrap with the key ring (wrong or missing key)",
            ) from None
        try:
            bundle = crypto.open_(envelope, ciphertext, context=aad)
        except InvalidCiphertext:
            raise self._refuse(
                who, target, "decrypt_failed", "artifact does not decrypt under its envelope key"
            ) from None
        if _sha256(bundle) != manifest.get("bundle_sha256"):
            raise self._refuse(
                who,
                target,
                "bundle_mismatch",
                "decrypted artifact does not match its signed digest",
            )
        try:
            files = _unpack(bundle)
        except ModelError as exc:
            raise self._refuse(who, target, "bundle_corrupt", str(exc)) from None
        for name, body in files.items():
            if not scan_bytes(body, name).safe:
                raise self._refuse(
                    who, target, "unsafe_artifact", f"member {name} fails the unsafe-artifact scan"
                )
        return files

    def files(self, name: str, version: int | None = None, *, who: Accessor) -> dict[str, bytes]:
        """The verified files of a version (production, else latest, when ``version`` is None)."""
        row = self._row(name, version)
        target = f"model:{name}@{row.version}"
        self._require(who, Scope.READ, target)
        files = self._verified_files(row, who)
        self._audit(who, "modelsec.vault.read", target, "allow", [], {"kind": row.kind})
        return files

    @contextmanager
    def materialised(
        self, name: str, version: int | None = None, *, who: Accessor
    ) -> Iterator[Path]:
        """A private temporary directory holding a verified version's files."""
        files = self.files(name, version, who=who)
        tmp = Path(tempfile.mkdtemp(prefix="shopguard-vault-"))
        try:
            for member, body in files.items():
                dest = tmp / member
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(body)
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def load(self, name: str, version: int | None = None, *, who: Accessor) -> Any:
        """Verify, then deserialise a model with its own safe loader (skops / npz / JSON)."""
        row = self._row(name, version)
        kind = ModelKind(row.kind)
        with self.materialised(name, row.version, who=who) as d:
            return _load_kind(kind, d)

    # -- lifecycle -----------------------------------------------------------------------------------
    def promote(
        self, name: str, version: int, *, who: Accessor, stage: VaultStage = VaultStage.PRODUCTION
    ) -> VersionInfo:
        """Move a version to ``stage``; promoting to production archives the previous one.

        A version that no longer verifies cannot be promoted.
        """
        row = self._row(name, version)
        target = f"model:{name}@{version}"
        self._require(who, Scope.PROMOTE, target)
        self._verified_files(row, who)
        with self._rt.engine.begin() as conn:
            if stage is VaultStage.PRODUCTION:
                conn.execute(
                    versions.update()
                    .where(versions.c.name == name, versions.c.stage == VaultStage.PRODUCTION.value)
                    .values(stage=VaultStage.ARCHIVED.value)
                )
            conn.execute(
                versions.update()
                .where(versions.c.name == name, versions.c.version == version)
                .values(stage=stage.value)
            )
        self._audit(who, "modelsec.vault.promote", target, "allow", [], {"stage": stage.value})
        return self._info_from(json.loads(row.manifest), stage)

    def export(self, name: str, version: int | None, dest: str | Path, *, who: Accessor) -> Path:
        """Write a verified version's files plus ``vault-manifest.json``, its signature and the
        signing public key to ``dest`` (which must not exist), for release or offline checks."""
        row = self._row(name, version)
        target = f"model:{name}@{row.version}"
        self._require(who, Scope.EXPORT, target)
        out = Path(dest)
        if out.exists():
            raise DataValidationError("export destination already exists", file=str(out))
        files = self._verified_files(row, who)
        out.mkdir(parents=True)
        for member, body in files.items():
            p = out / member
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(body)
        manifest = json.loads(row.manifest)
        (out / "vault-manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        )
        (out / "vault-manifest.sig").write_text(row.signature + "\n")
        (out / "vault-signing-key.pub").write_text(manifest["sign_public_key"] + "\n")
        self._audit(who, "modelsec.vault.export", target, "allow", [])
        return out


def verify_export(directory: str | Path, *, public_key_hex: str | None = None) -> dict[str, Any]:
    """Check an exported version offline: signature over the manifest, then every file's digest.

    Raises :class:`ModelError` naming the first check that fails; returns the manifest.
    """
    d = Path(directory)
    try:
        manifest = json.loads((d / "vault-manifest.json").read_text())
        signature = bytes.fromhex((d / "vault-manifest.sig").read_text().strip())
    except (OSError, ValueError):
        raise ModelError(f"{d}: not a vault export (manifest or signature missing)") from None
    pub = bytes.fromhex(public_key_hex or manifest.get("sign_public_key", ""))
    try:
        crypto.verify_signature(pub, _canonical(manifest), signature)
    except InvalidCiphertext:
        raise ModelError(f"{d}: manifest signature does not verify") from None
    for f in manifest["integrity"]["files"]:
        p = d / f["name"]
        if not p.is_file() or _sha256(p.read_bytes()) != f["sha256"]:
            raise ModelError(f"{d}: file {f['name']} does not match the signed manifest")
    return dict(manifest)


def _metrics_of(files: Mapping[str, bytes]) -> dict[str, Any]:
    body = files.get("metrics.json")
    if body is None:
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _load_kind(kind: ModelKind, directory: Path) -> Any:
    if kind is ModelKind.FRAUD:
        from shopguard.store.fraud import FraudModel

        return FraudModel.load(directory)
    if kind is ModelKind.RECOMMENDER:
        from shopguard.store.recommender import Recommender

        return Recommender.load(directory)
    if kind is ModelKind.REVIEWS:
        from shopguard.store.reviews import ReviewRanker

        return ReviewRanker.load(directory)
    if kind is ModelKind.IMAGES:
        from shopguard.store.images import load_classifier

        manifest = json.loads((directory / "manifest.json").read_text())
        return {str(name): load_classifier(str(name), directory) for name in manifest}
    if kind is ModelKind.GENERIC:
        raise ModelError("generic models have no loader; use ModelVault.files()")
    raise AssertionError(kind)  # pragma: no cover - exhaustive


def store_reference_models(
    vault: ModelVault,
    models_dir: str | Path,
    *,
    who: Accessor,
    store_dir: str | Path | None = None,
    promote: bool = True,
    images_dir: str | Path | None = None,
) -> list[VersionInfo]:
    """Put the store's reference models (``fraud``, ``recommender``, ``reviews`` under
    ``models_dir``) into the vault, with the store data's digest as the training-data hash,
    and the image classifiers (``images``: ``images_dir``, default the shipped weights)."""
    root = Path(models_dir)
    data_hash = (
        directory_digest(store_dir) if store_dir is not None and Path(store_dir).is_dir() else None
    )
    out = []
    for name, kind in (
        ("fraud", ModelKind.FRAUD),
        ("recommender", ModelKind.RECOMMENDER),
        ("reviews", ModelKind.REVIEWS),
    ):
        if not (root / name).is_dir():
            raise ModelError(f"model {name} not found under {root}")
        info = vault.put(name, root / name, kind=kind, who=who, training_data_sha256=data_hash)
        if promote:
            info = vault.promote(name, info.version, who=who)
        out.append(info)
    if images_dir is None:
        from shopguard.store.images import reference_model_path

        images_dir = reference_model_path("robust").parent
    info = vault.put(IMAGES_MODEL, Path(images_dir), kind=ModelKind.IMAGES, who=who)
    if promote:
        info = vault.promote(IMAGES_MODEL, info.version, who=who)
    out.append(info)
    return out
