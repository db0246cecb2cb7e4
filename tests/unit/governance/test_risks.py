from __future__ import annotations

import json

import pytest

from shopguard.core.errors import DataValidationError
from shopguard.core.events import Alert
from shopguard.governance.risks import DEFAULT_RISKS, RiskRegister, load_scorecard, write_heatmap
from shopguard.governance.threats import Threat

ALL_PASS = {
    "api.wrong_key_refused": "pass",
    "api.flood_rate_limited": "pass",
    "api.cross_tenant_read_refused": "pass",
    "operations.audit_log_intact": "pass",
    "operations.privileged_mfa": "pass",
    "operations.unused_keys": "pass",
    "operations.training_in_date": "pass",
    "operations.model_rollback": "pass",
    "monitoring.extraction_becomes_incident": "pass",
    "privacy.consent_opt_out_honoured": "pass",
}


def test_register_when_defaults_then_every_named_threat_present():
    threats = {r.threat for r in DEFAULT_RISKS}
    assert {
        Threat.POISONING,
        Threat.EXTRACTION,
        Threat.EVASION,
        Threat.PROMPT_INJECTION,
        Threat.DATA_BREACH,
        Threat.VENDOR_COMPROMISE,
        Threat.BIAS,
        Threat.INSIDER_MISUSE,
    } <= threats
    assert all(r.controls and 1 <= r.likelihood <= 5 and 1 <= r.impact <= 5 for r in DEFAULT_RISKS)


def test_assess_when_no_evidence_then_residual_equals_inherent(runtime):
    reg = RiskRegister(runtime.engine, runtime.audit)
    ranked = reg.assess({})
    assert all(a.residual == a.inherent for a in ranked)
    assert [a.residual for a in ranked] == sorted((a.residual for a in ranked), reverse=True)


def test_assess_when_check_fails_then_residual_rises_and_alert_raised(runtime):
    seen: list[Alert] = []
    runtime.bus.subscribe("governance.risk.residual_up", seen.append)
    reg = RiskRegister(runtime.engine, runtime.audit, bus=runtime.bus)
    good = {a.risk_id: a for a in reg.assess(ALL_PASS)}
    assert good["R-INSIDER"].residual < good["R-INSIDER"].inherent
    failing = {**ALL_PASS, "operations.privileged_mfa": "fail"}
    bad = {a.risk_id: a for a in reg.assess(failing)}
    assert bad["R-INSIDER"].residual > good["R-INSIDER"].residual
    assert seen and seen[0].details["risk_id"] == "R-INSIDER"
    assert "operations.privileged_mfa" in seen[0].details["failing"]


def test_update_when_out_of_range_then_refused(runtime):
    reg = RiskRegister(runtime.engine, runtime.audit)
    with pytest.raises(DataValidationError):
        reg.update("R-BIAS", likelihood=7, actor="staff:x")
    reg.update("R-BIAS", likelihood=5, actor="staff:x")
    assert next(a for a in reg.assess({}) if a.risk_id == "R-BIAS").likelihood == 5


def test_heatmap_when_written_then_png_and_html_ranked(runtime, tmp_path):
    reg = RiskRegister(runtime.engine, runtime.audit)
    png, page = write_heatmap(reg.assess(ALL_PASS), tmp_path)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "R-EXTRACT" in page.read_text() and "risk-heatmap.png" in page.read_text()


def test_load_scorecard_when_malformed_then_clear_error(tmp_path):
    p = tmp_path / "scorecard.json"
    p.write_text("{not json")
    with pytest.raises(DataValidationError, match="scorecard"):
        load_scorecard(p)
    p.write_text(json.dumps({"checks": [{"id": "a.b", "status": "pass"}]}))
    assert load_scorecard(p) == {"a.b": "pass"}
