"""The gateway end to end through its ASGI app: authN, authZ, tenants, limits, hardening, audit."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.routing import APIRoute

from shopguard.core.audit import AuditEvent
from shopguard.gateway.app import route_policy
from tests.integration.conftest import ALL_SCOPES, Gateway, make_settings

TX = {
    "transaction_id": "T-1",
    "customer_id": "C000001",
    "terminal_id": "PSP1-EP01",
    "amount": 42.5,
    "timestamp": "2025-03-01T12:00:00",
}


def _example_request(route: APIRoute) -> tuple[str, str, dict | None]:
    path = route.path.replace("{customer_id}", "C000001").replace("{product_id}", "P00001")
    path = path.replace("{path:path}", "x")
    method = sorted(route.methods)[0]
    body = None
    if route.path == "/v1/fraud/score":
        body = TX
    elif route.path.endswith("/consent") and method == "PUT":
        body = {"purpose": "marketing", "granted": False, "policy_version": "v1"}
    elif route.path == "/v1/reviews":
        body = {
            "product_id": "P00001",
            "customer_id": "C000001",
            "rating": 5,
            "title": "t",
            "text": "x",
        }
    return method, path, body


def test_every_route_when_credentials_missing_bad_or_underscoped_then_401_401_403(
    gateway: Gateway,
) -> None:
    routes = [r for r in gateway.app.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 6
    weak = gateway.key("nothing:here")
    with gateway.client() as client:
        for route in routes:
            policy = route_policy(route)
            assert policy is not None, route.path
            if policy.public:
                continue
            method, path, body = _example_request(route)
            none = client.request(method, path, json=body)
            bad = client.request(
                method, path, json=body, headers={"X-API-Key": "sgk_" + "0" * 16 + "_" + "A" * 43}
            )
            under = client.request(method, path, json=body, headers={"X-API-Key": weak})
            assert (none.status_code, bad.status_code, under.status_code) == (401, 401, 403), (
                route.path
            )
            for r in (none, bad, under):
                assert r.headers["content-type"].startswith("application/problem+json")


def test_routes_when_properly_scoped_then_served(gateway: Gateway) -> None:
    key = {"X-API-Key": gateway.key()}
    with gateway.client() as client:
        assert client.get("/healthz").status_code == 200
        r = client.post("/v1/fraud/score", json=TX, headers=key)
        assert r.status_code == 200 and 0 <= r.json()["score"] <= 1
        r = client.get("/v1/recommendations/C000001", headers=key)
        assert r.status_code == 200 and len(r.json()["products"]) == 10
        review = {
            "product_id": "P00001",
            "customer_id": "C000001",
            "rating": 4,
            "title": "ok",
            "text": "fine",
        }
        r = client.post("/v1/reviews", json=review, headers=key)
        assert r.status_code == 201
        r = client.get("/v1/products/P00001/reviews", headers=key)
        assert r.status_code == 200
        assert any(x["title"] == "ok" for x in r.json()["reviews"])
        m = client.get("/metrics", headers=key)
        assert m.status_code == 200 and b"shopguard_gateway_requests" in m.content


def test_tenant_isolation_when_other_tenant_key_then_cannot_read_or_write(gateway: Gateway) -> None:
    mine = {"X-API-Key": gateway.key(tenant="default")}
    theirs = {"X-API-Key": gateway.key(tenant="other")}
    only_default = "C000900"  # tenant 'other' has 300 customers
    with gateway.client() as client:
        assert client.get(f"/v1/recommendations/{only_default}", headers=mine).status_code == 200
        assert client.get(f"/v1/recommendations/{only_default}", headers=theirs).status_code == 404
        review = {
            "product_id": "P00001",
            "customer_id": "C000001",
            "rating": 1,
            "title": "secret-A",
            "text": "x",
        }
        assert client.post("/v1/reviews", json=review, headers=mine).status_code == 201
        seen_by_other = client.get("/v1/products/P00001/reviews?limit=100", headers=theirs).json()[
            "reviews"
        ]
        assert all(r["title"] != "secret-A" for r in seen_by_other)
        write_b = {
            "product_id": "P00120",
            "customer_id": only_default,
            "rating": 1,
            "title": "x",
            "text": "x",
        }
        assert client.post("/v1/reviews", json=write_b, headers=theirs).status_code == 404
        nobody = {"X-API-Key": gateway.key(tenant="ghost")}
        assert client.get("/v1/recommendations/C000001", headers=nobody).status_code == 404


def test_rate_limit_when_flooded_then_429_with_retry_after_and_ratelimit_headers(
    gateway_home,
) -> None:
    gw = Gateway(make_settings(gateway_home, rate_limit_key="5/minute"))
    key = {"X-API-Key": gw.key()}
    try:
        with gw.client() as client:
            codes = [client.get("/v1/products/P00001/reviews", headers=key) for _ in range(7)]
    finally:
        gw.close()
    assert [r.status_code for r in codes] == [200] * 5 + [429] * 2
    assert int(codes[0].headers["ratelimit-limit"]) == 5
    assert int(codes[4].headers["ratelimit-remaining"]) == 0
    assert int(codes[5].headers["retry-after"]) >= 1
    assert codes[5].json()["status"] == 429


def test_rate_limit_when_redis_unreachable_then_503_fail_closed(gateway_home) -> None:
    gw = Gateway(make_settings(gateway_home, redis_url="redis://127.0.0.1:1/0"))
    key = {"X-API-Key": gw.key()}
    try:
        with gw.client() as client:
            r = client.get("/v1/products/P00001/reviews", headers=key)
        alerts = []
        gw.runtime.bus.subscribe("*", alerts.append)
    finally:
        gw.close()
    assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({**TX, "is_admin": True}, 422, id="unknown-field"),
        pytest.param({**TX, "amount": -1}, 422, id="negative-amount"),
        pytest.param(b"{not json", 422, id="malformed-json"),
        pytest.param(b"x" * 2_000_000, 413, id="oversized"),
    ],
)
def test_fraud_score_when_bad_body_then_problem_json_without_echo(
    gateway: Gateway, body, status
) -> None:
    key = {"X-API-Key": gateway.key(), "content-type": "application/json"}
    content = json.dumps(body).encode() if isinstance(body, dict) else body
    with gateway.client() as client:
        r = client.post("/v1/fraud/score", content=content, headers=key)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in r.text and 'is_admin": true' not in r.text


def test_responses_when_any_then_security_headers_and_no_cors(gateway: Gateway) -> None:
    with gateway.client() as client:
        r = client.get("/healthz", headers={"Origin": "https://evil.example"})
        pre = client.options(
            "/v1/fraud/score",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in r.headers
    assert "access-control-allow-origin" not in pre.headers
    assert "server" not in r.headers


def test_audit_when_request_answered_then_entry_already_durable(gateway: Gateway) -> None:
    key_secret = gateway.key()
    key_id = key_secret.split("_")[1]
    with gateway.client() as client:
        r = client.get("/v1/recommendations/C000001", headers={"X-API-Key": key_secret})
        denied = client.get("/v1/recommendations/C000001")
    rid = r.headers["x-request-id"]
    records = {rec.request_id: rec for rec in gateway.runtime.audit.records()}
    assert rid in records and denied.headers["x-request-id"] in records
    rec = records[rid]
    assert rec.principal == key_id and rec.decision == "allow"
    assert rec.details["tenant"] == "default" and rec.details["route"] == "recommendations.read"
    assert "C000001" not in json.dumps(rec.to_json())  # customer ids are pseudonymised
    assert records[denied.headers["x-request-id"]].decision == "deny"
    assert gateway.runtime.audit.verify().ok


def test_audit_when_sink_fails_then_503_not_the_answer(gateway: Gateway, monkeypatch) -> None:
    from shopguard.core.errors import AuditSinkError

    async def broken(event: AuditEvent):
        raise AuditSinkError("down")

    monkeypatch.setattr(gateway.runtime.audit, "append_async", broken)
    with gateway.client() as client:
        r = client.get("/v1/recommendations/C000001", headers={"X-API-Key": gateway.key()})
    assert r.status_code == 503 and "products" not in r.text


def test_guard_when_it_crashes_then_request_refused_and_alert(
    gateway: Gateway, monkeypatch
) -> None:
    alerts = []
    gateway.runtime.bus.subscribe("*", alerts.append)
    limiter = gateway.app.state.limiter

    async def boom(**kw):
        raise RuntimeError("bug")

    monkeypatch.setattr(limiter, "hit", boom)
    with gateway.client() as client:
        r = client.get("/v1/recommendations/C000001", headers={"X-API-Key": gateway.key()})
    assert r.status_code == 503
    assert any(a.topic == "gateway.guard.failed" for a in alerts)


def test_canary_when_personal_data_sent_then_absent_from_logs_audit_and_errors(
    gateway: Gateway, caplog
) -> None:
    email, card = "canary.7f3a9c@example.org", "4111111111111111"
    key = {"X-API-Key": gateway.key()}
    caplog.set_level(logging.DEBUG)
    bodies = []
    with gateway.client() as client:
        review = {
            "product_id": "P00001",
            "customer_id": "C000001",
            "rating": 5,
            "title": f"mail me {email}",
            "text": f"my card {card}",
        }
        bodies.append(client.post("/v1/reviews", json=review, headers=key).text)
        bodies.append(client.post("/v1/reviews", json={**review, "rating": 9}, headers=key).text)
        bodies.append(
            client.post("/v1/fraud/score", json={**TX, "customer_id": email}, headers=key).text
        )
        bodies.append(client.get(f"/v1/recommendations/{card}", headers=key).text)
    audit = "\n".join(json.dumps(r.to_json()) for r in gateway.runtime.audit.records())
    # The test's own HTTP client logs URLs client-side; everything server-side must be clean.
    logs = "\n".join(r.getMessage() for r in caplog.records if r.name != "httpx")
    for needle in (email, card):
        assert needle not in audit
        assert needle not in logs
        assert all(needle not in b for b in bodies[1:])


def test_scopes_when_wildcard_then_everything_allowed(gateway: Gateway) -> None:
    with gateway.client() as client:
        r = client.get("/metrics", headers={"X-API-Key": gateway.key("*")})
    assert r.status_code == 200


def test_all_scopes_constant_covers_every_route(gateway: Gateway) -> None:
    declared = set()
    for r in gateway.app.routes:
        if isinstance(r, APIRoute):
            declared |= route_policy(r).scopes
    assert declared == set(ALL_SCOPES)
