"""The extraction watch in the live gateway: an extraction attack is blocked, shoppers are not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopguard.store.schema import load_store
from shopguard.store.service import STORE_DIR
from tests.integration.conftest import Gateway, make_settings

GUARDS = ["authn", "authz", "rate_limit", "extraction_watch", "extraction_degrade"]


def _gateway(home, **over) -> Gateway:
    return Gateway(
        make_settings(
            home,
            gateway_guards=over.pop("guards", GUARDS),
            rate_limit_key="1000/second",
            rate_limit_ip="1000/second",
            **over,
        )
    )


def _random_tx(rng: np.random.Generator, i: int) -> dict:
    return {
        "transaction_id": f"x{i}",
        "customer_id": "C-attacker",
        "terminal_id": "T-1",
        "amount": round(float(rng.uniform(1, 3000)), 2),
        "timestamp": f"2025-06-01T{int(rng.integers(0, 24)):02d}:00:00",
        "device_is_new": bool(rng.random() < 0.5),
        "ship_bill_mismatch": bool(rng.random() < 0.5),
        "ip_country_mismatch": bool(rng.random() < 0.5),
        "account_age_days": int(rng.integers(0, 3650)),
        "card_present": bool(rng.random() < 0.5),
    }


def _attack(gw: Gateway, n: int) -> list[int]:
    key = gw.key("fraud:score")
    rng = np.random.default_rng(0)
    codes = []
    with gw.client() as c:
        for i in range(n):
            r = c.post("/v1/fraud/score", json=_random_tx(rng, i), headers={"X-API-Key": key})
            codes.append(r.status_code)
            if r.status_code == 403:
                assert r.headers["content-type"].startswith("application/problem+json")
                break
    return codes


def test_extraction_watch_when_random_query_attack_then_alerted_degraded_and_blocked(
    gateway_home,
) -> None:
    gw = _gateway(gateway_home)
    alerts = []
    gw.runtime.bus.subscribe("modelsec.extraction.alert", alerts.append)
    gw.runtime.bus.subscribe("modelsec.extraction.block", alerts.append)
    try:
        codes = _attack(gw, 300)
        assert codes[-1] == 403
        assert len(codes) <= 60
        assert alerts and alerts[0].details["reasons"]
        actions = [(r.action, r.decision) for r in gw.runtime.audit.records()]
        assert ("modelsec.extraction", "block") in actions
    finally:
        gw.close()


def test_extraction_watch_when_guard_off_then_attack_runs_unhindered(gateway_home) -> None:
    gw = _gateway(gateway_home, guards=["authn", "authz", "rate_limit"])
    try:
        codes = _attack(gw, 120)
        assert codes == [200] * 120
    finally:
        gw.close()


def test_extraction_watch_when_shoppers_replayed_then_none_flagged(gateway_home) -> None:
    gw = _gateway(gateway_home)
    store = load_store(gateway_home / STORE_DIR)
    tx = store.transactions.sort_values("TX_DATETIME")
    try:
        served = 0
        with gw.client() as c:
            for cid, group in list(tx.groupby("CUSTOMER_ID"))[:40]:
                # Each shopper's own credential, as a storefront's signed-in sessions would have.
                key = gw.key("fraud:score")
                for row in group.to_dict("records"):
                    body = {
                        "transaction_id": str(row["TRANSACTION_ID"]),
                        "customer_id": str(cid),
                        "terminal_id": str(row["TERMINAL_ID"]),
                        "amount": float(row["TX_AMOUNT"]),
                        "timestamp": pd.Timestamp(row["TX_DATETIME"]).isoformat(),
                        "device_is_new": bool(row["device_is_new"]),
                        "ship_bill_mismatch": bool(row["ship_bill_mismatch"]),
                        "ip_country_mismatch": bool(row["ip_country_mismatch"]),
                        "account_age_days": int(row["account_age_days"]),
                    }
                    # One client address per shopper, as a storefront's browsers would be.
                    r = c.post(
                        "/v1/fraud/score",
                        json=body,
                        headers={"X-API-Key": key},
                    )
                    assert r.status_code == 200
                    served += 1
        assert served > 40
    finally:
        gw.close()


def test_extraction_watch_when_recommendations_enumerated_then_blocked(gateway_home) -> None:
    gw = _gateway(gateway_home)
    store = load_store(gateway_home / STORE_DIR)
    customers = store.customers["customer_id"].astype(str).tolist()[:60]
    try:
        key = gw.key("recommendations:read")
        codes = []
        with gw.client() as c:
            for cid in customers:
                r = c.get(f"/v1/recommendations/{cid}", headers={"X-API-Key": key})
                codes.append(r.status_code)
                if r.status_code == 403:
                    break
        assert codes[-1] == 403 and len(codes) <= 20
    finally:
        gw.close()


def test_extraction_watch_when_redis_configured_then_workers_share_state(gateway_home) -> None:
    import uuid

    prefix = f"sgtest:{uuid.uuid4().hex[:8]}:"
    first = _gateway(
        gateway_home, redis_url="redis://127.0.0.1:6379/0", extraction_redis_prefix=prefix
    )
    second = Gateway(first.settings)
    try:
        key = first.key("fraud:score")
        rng = np.random.default_rng(0)
        codes = []
        with first.client() as c:
            for i in range(300):
                r = c.post("/v1/fraud/score", json=_random_tx(rng, i), headers={"X-API-Key": key})
                codes.append(r.status_code)
                if r.status_code == 403:
                    break
        assert codes[-1] == 403
        # Another worker (its own app and monitor, the same Redis) refuses the stream at once.
        with second.client() as c:
            r = c.post("/v1/fraud/score", json=_random_tx(rng, 999), headers={"X-API-Key": key})
        assert r.status_code == 403
    finally:
        second.close()
        first.close()
