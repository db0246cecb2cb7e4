"""The AI bill of materials: contents, hashes, schema validity, completeness."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from shopguard.core.errors import DataValidationError
from shopguard.core.settings import load_settings
from shopguard.governance.sbom import (
    InstalledPackage,
    VendorService,
    bom_to_json,
    build_bom,
    check_completeness,
    installed_packages,
    model_artifacts,
    validate_bom_json,
    write_sbom,
)

PKGS = [
    InstalledPackage("requests", "2.34.2", "ab" * 32, "installed-record"),
    InstalledPackage("Scikit_Learn", "1.5.0", "cd" * 32, "archive"),
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / ".shopguard"
    fraud = home / "models" / "fraud"
    fraud.mkdir(parents=True)
    (fraud / "model.skops").write_bytes(b"model bytes")
    (fraud / "model.json").write_text(
        json.dumps({"format": "shopguard.fraud", "training_data_sha256": "f" * 64})
    )
    (fraud / "model_card.md").write_text("# Fraud model card\n")
    rec = home / "models" / "recommender"
    rec.mkdir()
    (rec / "recommender.json").write_text(json.dumps({"format": "shopguard.recommender"}))
    store = home / "store"
    store.mkdir()
    (store / "orders.parquet").write_bytes(b"PAR1 fake")
    return home


def _doc(home: Path, **kw) -> dict:
    settings = load_settings(home=home, upstreams={"images": "https://vision.example.com"})
    return json.loads(bom_to_json(build_bom(settings, packages=PKGS, **kw)))


def test_bom_when_built_then_valid_cyclonedx_1_6(home):
    settings = load_settings(home=home)
    text = bom_to_json(build_bom(settings, packages=PKGS))
    doc = validate_bom_json(text)
    assert doc["bomFormat"] == "CycloneDX"
    assert doc["specVersion"] == "1.6"


def test_bom_when_packages_then_purl_version_and_sha256(home):
    comps = {c["name"]: c for c in _doc(home)["components"]}
    req = comps["requests"]
    assert req["type"] == "library"
    assert req["purl"] == "pkg:pypi/requests@2.34.2"
    assert req["hashes"] == [{"alg": "SHA-256", "content": "ab" * 32}]
    assert comps["Scikit_Learn"]["purl"] == "pkg:pypi/scikit-learn@1.5.0"


def test_bom_when_models_present_then_ml_components_with_training_hash_and_card(home):
    comps = {c["name"]: c for c in _doc(home)["components"]}
    fraud = comps["fraud"]
    assert fraud["type"] == "machine-learning-model"
    props = {p["name"]: p["value"] for p in fraud["properties"]}
    assert props["shopguard:training-data-sha256"] == "f" * 64
    [ref] = fraud["externalReferences"]
    assert ref["type"] == "model-card" and ref["url"].endswith("model_card.md")
    rec_props = {p["name"]: p["value"] for p in comps["recommender"]["properties"]}
    assert rec_props["shopguard:training-data-sha256"] == "not recorded"
    assert rec_props["shopguard:model-card"] == "missing"


def test_model_hash_when_any_file_changes_then_hash_changes(home):
    before = {m.name: m.sha256 for m in model_artifacts(home / "models")}
    (home / "models" / "fraud" / "model.skops").write_bytes(b"tampered")
    after = {m.name: m.sha256 for m in model_artifacts(home / "models")}
    assert before["fraud"] != after["fraud"]
    assert before["recommender"] == after["recommender"]


def test_bom_when_datasets_and_services_then_data_components_and_vendor_data_flows(home):
    vendor = VendorService(
        "Example LLM API",
        "hosted LLM",
        endpoints=("https://llm.example.com/v1",),
        personal_data=("free_text",),
    )
    doc = _doc(home, vendors=[vendor])
    data = [c for c in doc["components"] if c["type"] == "data"]
    assert [c["name"] for c in data] == ["store/orders.parquet"]
    expected = hashlib.sha256(b"PAR1 fake").hexdigest()
    assert data[0]["hashes"][0]["content"] == expected
    services = {s["name"]: s for s in doc["services"]}
    assert services["upstream:images"]["endpoints"] == ["https://vision.example.com"]
    llm = services["Example LLM API"]
    assert llm["data"] == [{"flow": "outbound", "classification": "personal:free_text"}]
    validate_bom_json(json.dumps(doc))


def test_completeness_when_everything_listed_then_complete_else_names_missing(home):
    models = model_artifacts(home / "models")
    doc = _doc(home)
    assert check_completeness(doc, packages=PKGS, models=models).complete
    extra = [*PKGS, InstalledPackage("left-out", "1.0", "ee" * 32, "archive")]
    gap = check_completeness(doc, packages=extra, models=models)
    assert gap.missing_packages == ("left-out",)
    assert gap.coverage < 1.0
    doc["components"] = [c for c in doc["components"] if c["name"] != "fraud"]
    assert check_completeness(doc, packages=PKGS, models=models).missing_models == ("fraud",)


def test_installed_packages_when_real_environment_then_every_distribution_hashed():
    pkgs = installed_packages()
    names = {p.canonical_name for p in pkgs}
    assert {"cyclonedx-python-lib", "pip-audit", "sqlalchemy"} <= names
    assert all(p.sha256 for p in pkgs if p.hash_basis != "none")
    assert sum(1 for p in pkgs if p.sha256) / len(pkgs) > 0.95


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{not json", "not JSON"),
        ('{"bomFormat": "CycloneDX"}', "specVersion"),
        (
            '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": '
            '[{"type": "gadget", "name": "x"}]}',
            "components/0/type",
        ),
    ],
)
def test_validate_when_malformed_sbom_then_error_names_path(text, needle):
    with pytest.raises(DataValidationError) as err:
        validate_bom_json(text, source="bom.json")
    assert needle in str(err.value) and "bom.json" in str(err.value)


def test_models_when_metadata_not_json_then_error_names_file(home):
    (home / "models" / "fraud" / "model.json").write_text("{broken")
    with pytest.raises(DataValidationError, match=r"fraud/model\.json"):
        model_artifacts(home / "models")


def test_write_sbom_when_called_then_file_written_and_counts_reported(home, tmp_path):
    out = tmp_path / "out" / "bom.json"
    summary = write_sbom(load_settings(home=home), out, packages=PKGS)
    assert (summary.packages, summary.models, summary.datasets) == (2, 2, 1)
    from shopguard.core.packaged_models import PACKAGED_MODELS

    assert summary.packaged_models == len(PACKAGED_MODELS)
    validate_bom_json(out.read_text())


def test_bom_when_data_map_declares_model_datasets_then_model_depends_on_hashed_data(home):
    doc = _doc(home, model_datasets={"fraud": ("store/orders",), "recommender": ()})
    fraud = next(c for c in doc["components"] if c["name"] == "fraud")
    props = [p["value"] for p in fraud["properties"] if p["name"] == "shopguard:declared-data"]
    expected = hashlib.sha256(b"PAR1 fake").hexdigest()
    assert props == [f"store/orders.parquet=sha256:{expected}"]
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert deps["model:fraud"] == ["data:store/orders.parquet"]
    validate_bom_json(json.dumps(doc))


def test_bom_when_built_then_packaged_models_listed_with_licence_and_provenance(home):
    from shopguard.core.packaged_models import PACKAGE_ROOT

    comps = {c["name"]: c for c in _doc(home)["components"]}
    enc = comps["assistant.use_lite_encoder"]
    assert enc["type"] == "machine-learning-model"
    assert enc["purl"] == "pkg:npm/%40energetic-ai/model-embeddings-en@0.2.0"
    assert enc["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    props = {p["name"]: p["value"] for p in enc["properties"]}
    assert props["shopguard:origin"] == "third-party"
    # the digest covers the shipped files, so a swapped weights file shows
    combined = hashlib.sha256()
    for rel in ("assistant/use_lite.safetensors", "assistant/use_lite_tokenizer.json"):
        digest = hashlib.sha256((PACKAGE_ROOT / rel).read_bytes()).hexdigest()
        combined.update(f"{rel}\0{digest}\n".encode())
    assert enc["hashes"] == [{"alg": "SHA-256", "content": combined.hexdigest()}]
    own = {p["name"]: p["value"] for p in comps["assistant.injection_detector"]["properties"]}
    assert own["shopguard:origin"] == "shopguard" and "deepset" in own["shopguard:trained-on"]
    assert "purl" not in comps["assistant.injection_detector"]


def test_bom_when_packaged_file_missing_then_said_and_not_hashed(home, tmp_path):
    from shopguard.core.packaged_models import PackagedModel

    root = tmp_path / "pkg"
    (root / "m").mkdir(parents=True)
    (root / "m" / "a.npz").write_bytes(b"weights")
    models = (
        PackagedModel("ok", ("m/a.npz",), "Apache-2.0", "shopguard", "x", "y"),
        PackagedModel("broken", ("m/a.npz", "m/gone.npz"), "MIT", "third-party", "x", "y"),
    )
    comps = {c["name"]: c for c in _doc(home, packaged=models, package_root=root)["components"]}
    assert comps["ok"]["hashes"]
    assert not comps["broken"].get("hashes")
    props = {p["name"]: p["value"] for p in comps["broken"]["properties"]}
    assert props["shopguard:missing-files"] == "m/gone.npz"
    validate_bom_json(bom_to_json(build_bom(load_settings(home=home), packages=PKGS)))


def test_packaged_models_when_package_scanned_then_every_weights_file_declared():
    # shipping weights without saying where they came from fails here
    from shopguard.core.packaged_models import PACKAGE_ROOT, PACKAGED_MODELS, WEIGHT_SUFFIXES

    declared = {f for m in PACKAGED_MODELS for f in m.files}
    shipped = {
        p.relative_to(PACKAGE_ROOT).as_posix()
        for p in PACKAGE_ROOT.rglob("*")
        if p.is_file() and p.suffix in WEIGHT_SUFFIXES
    }
    assert shipped <= declared
    assert all((PACKAGE_ROOT / f).is_file() for f in declared)
    assert len({m.name for m in PACKAGED_MODELS}) == len(PACKAGED_MODELS)
    third = [m for m in PACKAGED_MODELS if m.origin == "third-party"]
    assert third and all(m.source_purl for m in third)
