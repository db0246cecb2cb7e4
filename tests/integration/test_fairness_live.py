"""The gateway's fraud route serves the selected fairness mitigation and monitors decline gaps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shopguard.cli import main
from shopguard.core.events import Alert
from shopguard.fairness.serving import MITIGATION_FILE, load_mitigation
from shopguard.store.fraud import FraudModel
from shopguard.store.generate import write_store
from shopguard.store.schema import load_store
from shopguard.store.service import STORE_DIR
from tests.integration.conftest import Gateway, make_settings

REGIONS = ("EU-north", "UK", "US")


@pytest.fixture
def regional_home(gateway_home: Path) -> Path:
    """The trained store with a ``region`` per customer, as a proxy would make it: EU-south
    holds everyone with a fraudulent payment and the quarter of customers whose genuine
    payments the model scores highest; the rest spread over three other regions."""
    store = load_store(gateway_home / STORE_DIR)
    tx = store.transactions
    scores = FraudModel.load(gateway_home / "models" / "fraud").score(tx)
    genuine = tx["TX_FRAUD"].to_numpy() == 0
    mean = pd.Series(scores[genuine]).groupby(tx["CUSTOMER_ID"].astype(str).to_numpy()[genuine])
    high = mean.mean().sort_values(ascending=False)
    risky = set(tx.loc[tx["TX_FRAUD"] == 1, "CUSTOMER_ID"].astype(str))
    risky |= set(high.index[: len(high) // 4])
    ids = store.customers["customer_id"].astype(str)
    store.customers["region"] = [
        "EU-south" if c in risky else REGIONS[i % len(REGIONS)] for i, c in enumerate(ids)
    ]
    write_store(store, gateway_home / STORE_DIR, fmt="parquet", overwrite=True)
    return gateway_home


def _bodies(home: Path, *, fraud: int, n: int) -> list[dict[str, Any]]:
    store = load_store(home / STORE_DIR)
    region = dict(zip(store.customers["customer_id"].astype(str), store.customers["region"]))
    tx = store.transactions[store.transactions["TX_FRAUD"] == fraud].tail(n)
    return [
        {
            "transaction_id": f"L-{row['TRANSACTION_ID']}",
            "customer_id": str(row["CUSTOMER_ID"]),
            "terminal_id": str(row["TERMINAL_ID"]),
            "amount": float(row["TX_AMOUNT"]),
            "timestamp": pd.Timestamp(row["TX_DATETIME"]).isoformat(),
            "device_is_new": bool(row["device_is_new"]),
            "ship_bill_mismatch": bool(row["ship_bill_mismatch"]),
            "ip_country_mismatch": bool(row["ip_country_mismatch"]),
            "account_age_days": int(row["account_age_days"]),
            "_region": region[str(row["CUSTOMER_ID"])],
        }
        for row in tx.to_dict("records")
    ]


def _post(gw: Gateway, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    key = {"X-API-Key": gw.key()}
    out = []
    with gw.client() as client:
        for b in bodies:
            r = client.post(
                "/v1/fraud/score", json={k: v for k, v in b.items() if k != "_region"}, headers=key
            )
            assert r.status_code == 200, r.text
            out.append({**r.json(), "_region": b["_region"], "_rid": r.headers["x-request-id"]})
    return out


def _gateway(home: Path, alerts: list[Alert] | None = None, **over: Any) -> Gateway:
    gw = Gateway(make_settings(home, **over))
    if alerts is not None:
        gw.runtime.bus.subscribe("fairness.gap", alerts.append)
    return gw


@pytest.mark.slow
def test_fraud_route_when_decline_gap_crosses_bar_then_alert_with_groups_from_store(
    regional_home: Path,
) -> None:
    over = {
        "fairness_monitor_attributes": ["region"],
        "fairness_monitor_gap_bar": 0.3,
        "fairness_min_group_size": 3,
    }
    genuine = _bodies(regional_home, fraud=0, n=24)
    calm: list[Alert] = []
    gw = _gateway(regional_home, calm, **over)
    try:
        _post(gw, genuine)
    finally:
        gw.close()
    assert calm == []  # genuine traffic: no region is declined more than another
    skewed: list[Alert] = []
    gw = _gateway(regional_home, skewed, **over)
    try:
        elsewhere = [b for b in _bodies(regional_home, fraud=0, n=200) if b["_region"] in REGIONS]
        out = _post(gw, elsewhere[:15] + _bodies(regional_home, fraud=1, n=12))
        mon = gw.app.state.fairness.monitor("default", "region")
        rates = mon.status("selection_rate").rates
    finally:
        gw.close()
    south = [o for o in out if o["_region"] == "EU-south"]
    declined = sum(o["decision"] == "decline" for o in south) / len(south)
    assert rates["EU-south"] == pytest.approx(declined)
    assert declined > 0.3, declined  # the gap is real in the responses
    assert len(skewed) == 1
    alert = skewed[0]
    assert alert.details["attribute"] == "region" and alert.details["tenant"] == "default"
    assert alert.details["gap"] > 0.3 and "EU-south" in alert.details["rates"]


@pytest.mark.slow
def test_fraud_route_when_threshold_mitigation_selected_then_decisions_use_group_offsets(
    regional_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPGUARD_HOME", str(regional_home))
    bodies = _bodies(regional_home, fraud=0, n=16) + _bodies(regional_home, fraud=1, n=6)
    # selected but not fitted yet: fail closed (503), never an unmitigated decision
    gw = _gateway(regional_home, fairness_mitigation={"fraud": "threshold"})
    try:
        with gw.client() as client:
            body = {k: v for k, v in bodies[0].items() if k != "_region"}
            r = client.post("/v1/fraud/score", json=body, headers={"X-API-Key": gw.key()})
        assert r.status_code == 503
        assert r.headers["content-type"].startswith("application/problem+json")
    finally:
        gw.close()

    code = main(
        [
            "fairness",
            "mitigate",
            "--model",
            "fraud",
            "--sensitive",
            "region",
            "--validation-days",
            "80",
            "--min-group-size",
            "20",
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    mit = load_mitigation(regional_home / "models" / "fraud")
    assert Path(report["file"]).name == MITIGATION_FILE and mit.attribute == "region"
    assert mit.shift.offsets_["EU-south"] < 0  # its genuine payments score higher

    gw = _gateway(regional_home)
    try:
        raw = _post(gw, bodies)
    finally:
        gw.close()
    gw = _gateway(regional_home, fairness_mitigation={"fraud": "threshold"})
    try:
        served = _post(gw, bodies)
        gw.runtime.audit.close()
        findings = {r.request_id: r.findings for r in gw.runtime.audit.records()}
    finally:
        gw.close()
    assert all(o["mitigation"] is None for o in raw)
    assert all(o["mitigation"] == "threshold" for o in served)
    checked = 0
    for before, after in zip(raw, served, strict=True):
        assert "mitigation:threshold" in findings[after["_rid"]]
        if before["score"] >= 1e-3:  # responses round to 6 decimals: compare where it is exact
            expect = mit.adjust(before["score"], before["_region"])
            assert after["score"] == pytest.approx(expect, rel=1e-3)
            checked += 1
    assert checked >= 5
    south = np.array([o["_region"] == "EU-south" for o in raw])
    lowered = np.array([a["score"] < b["score"] for a, b in zip(served, raw, strict=True)])
    assert south.any() and lowered[south].all()
