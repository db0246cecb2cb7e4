"""The vendor register's HTTP routes behind the gateway's guards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shopguard.governance.vendors import QUESTIONS, Answer, Clause
from tests.integration.conftest import Gateway, make_settings

GOOD = {q.id: (Answer.YES if q.good is Answer.YES else Answer.NO).value for q in QUESTIONS}
VENDOR = {
    "name": "Example LLM API",
    "supplies": "hosted LLM for the assistant",
    "personal_data": ["free_text"],
    "depends": {"models": ["assistant"]},
    "clauses": [c.value for c in Clause],
    "breach_notification_hours": 24,
    "certifications": [{"name": "SOC 2 Type II", "expires": "2099-01-01"}],
}


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    g = Gateway(make_settings(tmp_path / ".shopguard"))
    yield g
    g.close()


def test_vendors_when_no_credentials_or_wrong_scope_then_refused(gw):
    with gw.client() as c:
        assert c.get("/v1/vendors").status_code == 401
        reader = {"X-API-Key": gw.key("vendors:read")}
        assert c.get("/v1/vendors", headers=reader).status_code == 200
        assert c.put("/v1/vendors/llm", json=VENDOR, headers=reader).status_code == 403
        other = {"X-API-Key": gw.key("fraud:score")}
        assert c.get("/v1/vendors", headers=other).status_code == 403


def test_vendors_when_registered_assessed_and_incident_then_rating_tracks(gw):
    h = {"X-API-Key": gw.key("vendors:read", "vendors:write")}
    with gw.client() as c:
        r = c.put("/v1/vendors/llm", json=VENDOR, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["rating"]["overdue"] is True
        r = c.post("/v1/vendors/llm/assessments", json={"answers": GOOD}, headers=h)
        assert r.status_code == 200
        body = r.json()
        assert body["latest_assessment"]["passed"] is True
        low = body["rating"]["risk"]
        r = c.post(
            "/v1/vendors/llm/events",
            json={"kind": "incident", "severity": "high", "summary": "prompt logs exposed"},
            headers=h,
        )
        assert r.status_code == 200 and r.json()["rating"]["risk"] > low
        listed = c.get("/v1/vendors", headers=h).json()["vendors"]
        assert [v["vendor_id"] for v in listed] == ["llm"]
        assert len(c.get("/v1/vendors/llm", headers=h).json()["risk_history"]) >= 2


def test_vendors_when_bad_input_then_problem_json_and_nothing_stored(gw):
    h = {"X-API-Key": gw.key("vendors:read", "vendors:write")}
    with gw.client() as c:
        r = c.put("/v1/vendors/llm", json={**VENDOR, "personal_data": ["dna"]}, headers=h)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        assert c.get("/v1/vendors/llm", headers=h).status_code == 404
        assert c.put("/v1/vendors/llm", json=VENDOR, headers=h).status_code == 200
        r = c.post("/v1/vendors/llm/assessments", json={"answers": {"nope": "yes"}}, headers=h)
        assert r.status_code == 422
        r = c.post(
            "/v1/vendors/llm/assessments", json={"answers": {"enc.transit": "n/a"}}, headers=h
        )
        assert r.status_code == 422
        r = c.post("/v1/vendors/llm/assessments", json={"answers": {"ac.mfa": "yes"}}, headers=h)
        assert r.status_code == 200
        assert r.json()["latest_assessment"]["complete"] is False
        assert r.json()["latest_assessment"]["passed"] is False


CANARY_EMAIL = "canary.5d81c2@example.org"
CANARY_CARD = "4000 0566 5566 5556"


def test_canary_when_personal_data_in_bad_vendor_input_then_never_in_logs_audit_or_errors(
    gw, caplog
):
    h = {"X-API-Key": gw.key("vendors:read", "vendors:write")}
    bodies = []
    with gw.client() as c:
        assert c.put("/v1/vendors/llm", json=VENDOR, headers=h).status_code == 200
        attempts = [
            ("PUT", "/v1/vendors/llm", {**VENDOR, "personal_data": [CANARY_EMAIL]}),
            ("PUT", "/v1/vendors/llm", {**VENDOR, "clauses": [CANARY_CARD]}),
            (
                "POST",
                "/v1/vendors/llm/events",
                {"kind": "incident", "severity": CANARY_EMAIL, "summary": "x"},
            ),
            ("PUT", "/v1/vendors/llm", {**VENDOR, "endpoints": [CANARY_EMAIL]}),
            ("POST", "/v1/vendors/llm/assessments", {"answers": {"ac.mfa": CANARY_CARD}}),
            ("PUT", f"/v1/vendors/{CANARY_EMAIL}", VENDOR),
        ]
        for method, url, body in attempts:
            r = c.request(method, url, json=body, headers=h)
            assert r.status_code in {404, 422}, (url, r.status_code)
            bodies.append(r.text)
    gw.runtime.audit.close()
    audit = "\n".join(str(r.to_json()) for r in gw.runtime.audit.records())
    logs = "\n".join(r.getMessage() for r in caplog.records if r.name != "httpx")
    for needle in (CANARY_EMAIL, CANARY_CARD):
        assert needle not in audit and needle not in logs
        assert all(needle not in b for b in bodies)
