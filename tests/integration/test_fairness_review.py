"""Reason codes on fraud declines (response and audit log) and human review of a decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from shopguard.store.schema import load_store
from tests.integration.conftest import Gateway


def _risky_bodies(home: Path) -> list[dict[str, Any]]:
    tx = load_store(home / "store").transactions
    fraud = tx[tx["TX_FRAUD"] == 1].tail(40)
    return [
        {
            "transaction_id": f"R-{row['TRANSACTION_ID']}",
            "customer_id": str(row["CUSTOMER_ID"]),
            "terminal_id": str(row["TERMINAL_ID"]),
            "amount": float(row["TX_AMOUNT"]),
            "timestamp": pd.Timestamp(row["TX_DATETIME"]).isoformat(),
            "device_is_new": bool(row["device_is_new"]),
            "ship_bill_mismatch": bool(row["ship_bill_mismatch"]),
            "ip_country_mismatch": bool(row["ip_country_mismatch"]),
            "account_age_days": int(row["account_age_days"]),
        }
        for row in fraud.to_dict("records")
    ]


def _flagged(gateway: Gateway, client: Any, key: dict[str, str]) -> tuple[dict[str, Any], str]:
    for body in _risky_bodies(gateway.settings.home):
        r = client.post("/v1/fraud/score", json=body, headers=key)
        assert r.status_code == 200
        if r.json()["decision"] != "approve":
            return r.json(), r.headers["x-request-id"]
    raise AssertionError("no risky transaction was flagged")


def test_fraud_score_when_flagged_then_reason_codes_in_response_and_audit(
    gateway: Gateway,
) -> None:
    key = {"X-API-Key": gateway.key()}
    with gateway.client() as client:
        out, request_id = _flagged(gateway, client, key)
    assert out["reasons"], out
    assert all(r["contribution"] > 0 and r["description"] for r in out["reasons"])
    contributions = [r["contribution"] for r in out["reasons"]]
    assert contributions == sorted(contributions, reverse=True)
    assert out["decision_id"].startswith("d1.")
    gateway.runtime.audit.close()
    entry = next(r for r in gateway.runtime.audit.records() if r.request_id == request_id)
    assert [f for f in entry.findings if f.startswith("reason:")] == [
        f"reason:{r['code']}" for r in out["reasons"]
    ]


def test_review_when_genuine_decision_then_case_with_deadline_once(gateway: Gateway) -> None:
    key = {"X-API-Key": gateway.key()}
    with gateway.client() as client:
        out, _ = _flagged(gateway, client, key)
        url = f"/v1/decisions/{out['decision_id']}/review"
        first = client.post(url, json={"statement": "I made this purchase myself."}, headers=key)
        again = client.post(url, json={}, headers=key)
    assert first.status_code == 201, first.text
    case = first.json()
    assert case["status"] == "open"
    opened = pd.Timestamp(case["opened_at"])
    assert pd.Timestamp(case["deadline_at"]) - opened == pd.Timedelta(
        days=gateway.settings.fairness_review_deadline_days
    )
    assert again.status_code == 201 and again.json()["case_id"] == case["case_id"]


def test_review_when_decision_id_forged_or_other_tenant_then_404(gateway: Gateway) -> None:
    key = {"X-API-Key": gateway.key()}
    other = {"X-API-Key": gateway.key(tenant="other")}
    with gateway.client() as client:
        out, _ = _flagged(gateway, client, key)
        did = out["decision_id"]
        forged = did[:-4] + ("0000" if not did.endswith("0000") else "1111")
        r_forged = client.post(f"/v1/decisions/{forged}/review", json={}, headers=key)
        r_other = client.post(f"/v1/decisions/{did}/review", json={}, headers=other)
        r_junk = client.post("/v1/decisions/nonsense/review", json={}, headers=key)
    assert (r_forged.status_code, r_other.status_code, r_junk.status_code) == (404, 404, 404)
    assert r_forged.headers["content-type"].startswith("application/problem+json")
