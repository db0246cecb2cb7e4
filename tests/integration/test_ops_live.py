"""Operations against a running gateway: containment guard, live extraction drill."""

from __future__ import annotations

import pandas as pd
import pytest

from shopguard.demo.run import serve_in_thread
from shopguard.gateway.app import create_app
from shopguard.governance.playbooks import Containment
from shopguard.governance.training import TrainingRegister, run_extraction_drill
from shopguard.monitor.watch import Monitor
from shopguard.store.service import STORE_DIR

from .conftest import Gateway, make_settings

REVIEW = {
    "product_id": "P00001",
    "customer_id": "C000001",
    "rating": 5,
    "title": "fine",
    "text": "works as described",
}


def _customers(home) -> list[str]:
    return (
        pd.read_parquet(home / STORE_DIR / "customers.parquet")["customer_id"].astype(str).tolist()
    )


@pytest.mark.parametrize("guard_on", [True, False])
def test_containment_when_key_blocked_then_refused_only_with_guard(gateway_home, guard_on):
    guards = ["authn", "authz", "ops.containment", "rate_limit"] if guard_on else None
    over = (
        {"gateway_guards": guards}
        if guards
        else {"gateway_guards": ["authn", "authz", "rate_limit"]}
    )
    gw = Gateway(make_settings(gateway_home, **over))
    try:
        key = gw.keys.create(name="scraper", tenant="default", scopes=["recommendations:read"])
        cid = _customers(gateway_home)[0]
        with gw.client() as c:
            ok = c.get(f"/v1/recommendations/{cid}", headers={"X-API-Key": key.secret})
            assert ok.status_code == 200
            Containment(gw.runtime.engine, gw.runtime.keyring, gw.settings.models_dir).block(
                key.record.key_id
            )
            gw.app.state.containment = None  # no stale cache in the test
            r = c.get(f"/v1/recommendations/{cid}", headers={"X-API-Key": key.secret})
        # Without the guard the blocked scraper goes on (the attack succeeds).
        assert r.status_code == (403 if guard_on else 200)
        if guard_on:
            assert r.headers["content-type"].startswith("application/problem+json")
    finally:
        gw.close()


def test_containment_when_reviews_frozen_then_submissions_refused_and_reads_allowed(gateway_home):
    gw = Gateway(make_settings(gateway_home))
    try:
        key = gw.key()
        Containment(gw.runtime.engine, gw.runtime.keyring, gw.settings.models_dir).freeze("reviews")
        with gw.client() as c:
            r = c.post("/v1/reviews", json=REVIEW, headers={"X-API-Key": key})
            assert r.status_code == 503 and r.json()["title"] == "Ingestion frozen"
            assert c.get("/v1/products/P00001/reviews", headers={"X-API-Key": key}).status_code in (
                200,
                404,
            )
    finally:
        gw.close()


@pytest.mark.slow
def test_live_drill_when_model_scraped_then_incident_detected_and_key_shut_out(gateway_home):
    settings = make_settings(gateway_home, rate_limit_key="1000/second;100000/minute")
    gw = Gateway(settings)
    try:
        attacker = gw.keys.create(
            name="drill-attacker", tenant="default", scopes=["recommendations:read"]
        )
        honest = gw.key("recommendations:read")
        app = create_app(settings, runtime=gw.runtime)
        desk = app.state.incidents
        monitor = Monitor(bus=gw.runtime.bus, audit=gw.runtime.audit)
        with serve_in_thread(app) as base_url:
            result = run_extraction_drill(
                base_url=base_url,
                attacker_key=attacker.secret,
                attacker_key_id=attacker.record.key_id,
                targets=_customers(gateway_home)[:600],
                incidents=desk,
                tick=monitor.tick,
            )
            import httpx

            cid = _customers(gateway_home)[1]
            still = httpx.get(f"{base_url}/v1/recommendations/{cid}", headers={"X-API-Key": honest})
        assert result.passed, result
        assert result.detect_s is not None and result.detect_s < 30
        assert result.respond_s is not None and result.respond_s < 10
        assert still.status_code == 200  # the honest storefront was not caught up
        (inc,) = [i for i in desk.incidents() if i.threat.value == "extraction"]
        assert "revoked API key" in desk.report(inc.id)
        reg = TrainingRegister.from_runtime(gw.runtime)
        reg.record_drill(result)
        assert reg.drill_status()["live"]["passed"] is True
    finally:
        gw.close()
