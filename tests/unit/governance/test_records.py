"""Regulator-ready records: art. 30 record, DPIAs, controls matrix."""

from __future__ import annotations

import json

import pytest

from shopguard.core.errors import DataValidationError
from shopguard.governance.records import (
    CONTROLS,
    controls_matrix,
    default_data_map,
    dpias,
    generate_records,
    load_data_map,
    record_of_processing,
)
from shopguard.governance.vendors import Clause, VendorRegister
from shopguard.privacy.consent import ConsentLedger, Purpose


def test_ropa_when_generated_then_every_consent_purpose_with_ledger_counts(runtime):
    ledger = ConsentLedger(runtime.engine)
    ledger.record_many(
        tenant="default",
        decisions=[("c1", "personalisation", True), ("c2", "personalisation", False)],
        source="import",
        policy_version="t",
    )
    ropa = record_of_processing(default_data_map(), engine=runtime.engine)
    by_purpose = {a.get("consent_purpose"): a for a in ropa["activities"]}
    assert {p.value for p in Purpose} <= set(by_purpose)
    assert by_purpose["personalisation"]["consent"] == {
        "granted": 1,
        "refused_or_withdrawn": 1,
        "tenant": "default",
    }
    assert ropa["consent_purposes_not_in_data_map"] == []
    fraud = next(a for a in ropa["activities"] if a["id"] == "fraud")
    assert fraud["legal_basis_article"] == "GDPR art. 6(1)(f)"
    assert fraud["automated_decision_art22"] is True


def test_ropa_when_data_map_omits_a_consent_purpose_then_gap_reported(runtime, tmp_path):
    doc = {
        "controller": "Shop Ltd",
        "activities": [
            {
                "id": "recs",
                "name": "Recommendations",
                "purpose": "personalise",
                "legal_basis": "consent",
                "consent_purpose": "personalisation",
                "data_categories": ["order_history"],
            }
        ],
    }
    (runtime.settings.home / "datamap.json").write_text(json.dumps(doc))
    ropa = record_of_processing(load_data_map(runtime.settings), engine=runtime.engine)
    assert set(ropa["consent_purposes_not_in_data_map"]) == {
        "analytics",
        "marketing",
        "model_training",
    }
    assert ropa["controller"]["name"] == "Shop Ltd"


@pytest.mark.parametrize(
    ("activity", "needle"),
    [
        ({"id": "a", "name": "n", "purpose": "p"}, "legal_basis"),
        ({"id": "a", "name": "n", "purpose": "p", "legal_basis": "vibes"}, "legal_basis"),
        ({"id": "a", "name": "n", "purpose": "p", "legal_basis": "consent"}, "consent_purpose"),
        (
            {"id": "a", "name": "n", "purpose": "p", "legal_basis": "contract",
             "data_categories": ["shoe_size"]},
            "data category",
        ),
    ],
)  # fmt: skip
def test_data_map_when_malformed_then_error_names_activity_and_field(runtime, activity, needle):
    (runtime.settings.home / "datamap.json").write_text(json.dumps({"activities": [activity]}))
    with pytest.raises(DataValidationError) as err:
        load_data_map(runtime.settings)
    assert needle in str(err.value) and "activity 1" in str(err.value)


def test_ropa_when_vendor_linked_by_model_then_listed_as_recipient(runtime):
    VendorRegister(runtime.engine).add(
        vendor_id="signals",
        name="Device Signals",
        supplies="device reputation",
        personal_data=["device", "location"],
        depends={"models": ["fraud"]},
        clauses=[Clause.DATA_PROCESSING_AGREEMENT.value],
    )
    ropa = record_of_processing(default_data_map(), vendors=VendorRegister(runtime.engine).all())
    fraud = next(a for a in ropa["activities"] if a["id"] == "fraud")
    [recipient] = fraud["recipients"]
    assert recipient["vendor"] == "signals" and recipient["dpa_signed"] is True
    assert recipient["personal_data"] == ["device", "location"]


def test_matrix_when_scorecard_given_then_evidence_follows_check_status():
    card = {
        "checks": [
            {"id": "api.flood_rate_limited", "area": "api", "status": "pass", "evidence": "ok"},
            {"id": "supply_chain.sbom_complete", "area": "supply_chain", "status": "fail"},
            {"id": "x.unusual", "area": "integrity", "status": "skipped"},
        ]
    }
    rows = {r["control"]: r for r in controls_matrix(card)}
    assert rows["SG-RATELIMIT"]["evidence"] == "evidenced"
    assert rows["SG-SBOM"]["evidence"] == "failing"
    assert rows["SG-POISON"]["evidence"] == "no evidence"
    assert "AML.T0010" in rows["SG-SBOM"]["mitre_atlas"]
    assert "LLM03" in rows["SG-SBOM"]["owasp_llm_top10_2025"]


def test_matrix_when_every_control_then_mapped_to_a_regulation_and_a_framework():
    for c in CONTROLS:
        assert c.gdpr or c.ccpa, c.id
        assert c.checks or c.areas, c.id
    atlas = {t for c in CONTROLS for t in c.atlas}
    assert all(t.startswith("AML.T") for t in atlas)
    ml = {t for c in CONTROLS for t in c.owasp_ml}
    assert ml <= {f"ML{i:02d}" for i in range(1, 11)}


def test_dpia_when_model_lacks_card_and_fairness_then_open_actions_not_invented(runtime):
    fraud = runtime.settings.models_dir / "fraud"
    fraud.mkdir(parents=True)
    (fraud / "model.json").write_text(json.dumps({"format": "shopguard.fraud"}))
    (fraud / "metrics.json").write_text(json.dumps({"auc": 0.9}))
    matrix = controls_matrix(None)
    [d] = dpias(default_data_map(), settings=runtime.settings, matrix=matrix)
    assert d["dpia"] == "fraud/fraud"
    assert d["model_card"] is None and d["fairness_audit"] is None
    assert any("model card" in a for a in d["open_actions"])
    assert any("fairness audit" in a for a in d["open_actions"])
    assert d["model_facts"]["metrics"] == {"auc": 0.9}
    assert d["residual_risk"] == "high"


def test_dpia_when_card_fairness_and_evidence_present_then_prefilled_and_lower_risk(runtime):
    fraud = runtime.settings.models_dir / "fraud"
    fraud.mkdir(parents=True)
    (fraud / "model_card.json").write_text(json.dumps({"intended_use": "score payments"}))
    (fraud / "fairness.json").write_text(json.dumps({"demographic_parity_difference": 0.02}))
    everything = {
        "checks": [{"id": c, "area": "x", "status": "pass"} for ctl in CONTROLS for c in ctl.checks]
        + [{"id": f"{a}.probe", "area": a, "status": "pass"} for ctl in CONTROLS for a in ctl.areas]
    }
    [d] = dpias(default_data_map(), settings=runtime.settings, matrix=controls_matrix(everything))
    assert d["model_card"] == {"intended_use": "score payments"}
    assert d["fairness_audit"] == {"demographic_parity_difference": 0.02}
    assert d["residual_risk"] == "acceptable" and d["open_actions"] == []


def test_generate_records_when_runtime_then_all_parts(runtime):
    out = generate_records(runtime, scorecard=None)
    assert {"data_map", "ropa", "matrix", "dpias"} <= set(out)
    assert len(out["matrix"]) == len(CONTROLS)
