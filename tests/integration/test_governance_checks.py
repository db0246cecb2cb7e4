"""The supply-chain and compliance scorecard checks: pass on a sound deployment, fail on a broken one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import shopguard.governance.checks as gov_checks
from shopguard.core.scorecard import CheckContext, Status, run_checks
from shopguard.demo.run import serve_in_thread
from shopguard.gateway.app import create_app
from shopguard.governance.sbom import InstalledPackage
from shopguard.governance.supply_demo import setup_supply_chain_demo
from shopguard.governance.vendors import VendorRegister

ADVISORIES = Path(__file__).resolve().parents[1] / "unit" / "governance" / "fixtures" / "osv-real-advisories.json"  # fmt: skip


def _status(ctx: CheckContext, name: str) -> tuple[Status, str]:
    [r] = run_checks(ctx, names=[name]).results
    return r.status, r.evidence


@pytest.fixture
def deployed(runtime):
    fraud = runtime.settings.models_dir / "fraud"
    fraud.mkdir(parents=True, exist_ok=True)
    (fraud / "model.json").write_text(json.dumps({"format": "shopguard.fraud"}))
    (fraud / "model.skops").write_bytes(b"weights")
    return runtime


def test_sbom_check_when_deployed_then_pass_and_unhashed_package_fails(deployed, monkeypatch):
    ctx = CheckContext({"runtime": deployed})
    status, evidence = _status(ctx, "supply_chain.sbom_complete")
    assert status is Status.PASS, evidence
    real = gov_checks.sbom.installed_packages()
    monkeypatch.setattr(
        gov_checks.sbom,
        "installed_packages",
        lambda: [*real, InstalledPackage("no-hash", "1.0", None, "none")],
    )
    status, evidence = _status(ctx, "supply_chain.sbom_complete")
    assert status is Status.FAIL and "unhashed 1" in evidence


def test_dependency_check_when_vulnerable_package_installed_then_fail(
    runtime, tmp_path, monkeypatch
):
    ctx = CheckContext({"runtime": runtime, "advisories": ADVISORIES})
    assert _status(ctx, "supply_chain.no_vulnerable_dependencies")[0] is Status.PASS
    info = tmp_path / "site" / "requests-2.19.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: requests\nVersion: 2.19.0\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    status, evidence = _status(ctx, "supply_chain.no_vulnerable_dependencies")
    assert status is Status.FAIL and "requests 2.19.0" in evidence


@pytest.mark.parametrize(("cors", "expected"), [([], Status.PASS), (["*"], Status.FAIL)])
def test_config_check_when_live_gateway_then_clean_unless_cors_wildcard(runtime, cors, expected):
    settings = runtime.settings.model_copy(update={"gateway_cors_origins": cors})
    runtime.settings = settings
    with serve_in_thread(create_app(settings, runtime=runtime)) as base_url:
        ctx = CheckContext({"runtime": runtime, "base_url": base_url})
        status, evidence = _status(ctx, "supply_chain.config_audit_clean")
    assert status is expected, evidence


def test_vendor_check_when_demo_vendors_then_pass_and_unassessed_vendor_fails(runtime):
    setup_supply_chain_demo(runtime)
    ctx = CheckContext({"runtime": runtime})
    assert _status(ctx, "compliance.vendors_assessed")[0] is Status.PASS
    VendorRegister(runtime.engine).add(vendor_id="shadow-ai", name="Shadow", supplies="an LLM")
    status, evidence = _status(ctx, "compliance.vendors_assessed")
    assert status is Status.FAIL and "shadow-ai" in evidence


def test_records_check_when_model_deployed_then_pass_else_fail(runtime, deployed):
    ctx = CheckContext({"runtime": deployed})
    status, evidence = _status(ctx, "compliance.records_generated")
    assert status is Status.PASS, evidence
    for f in (deployed.settings.models_dir / "fraud").iterdir():
        f.unlink()
    (deployed.settings.models_dir / "fraud").rmdir()
    assert _status(ctx, "compliance.records_generated")[0] is Status.FAIL
