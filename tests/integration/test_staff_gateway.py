"""Staff sessions are gateway credentials: log in at the gateway, call real routes with the
role's scopes; MFA for privileged roles, expiry, logout, break-glass and disabled accounts."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp

from shopguard.governance import ops_tables
from shopguard.governance.roles import Role
from shopguard.governance.staff import StaffDirectory
from tests.integration.conftest import Gateway, SyncASGIClient

PW = "tulip-harbour-47-quietly"
LOGIN = "/v1/staff/sessions"
TX = {
    "transaction_id": "STAFF-1",
    "customer_id": "C000001",
    "terminal_id": "PSP1-EP01",
    "amount": 10.0,
    "timestamp": "2025-03-01T12:00:00",
}


def _directory(gateway: Gateway) -> StaffDirectory:
    staff: StaffDirectory = gateway.app.state.staff
    return staff


def _login(c: SyncASGIClient, username: str, **extra: Any) -> Any:
    return c.post(LOGIN, json={"username": username, "password": PW, **extra})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _customer(gateway: Gateway) -> str:
    with gateway.client() as c:
        key = gateway.key()
        r = c.get("/v1/recommendations/C000001", headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    return "C000001"


def test_staff_session_when_analyst_logs_in_then_role_scopes_apply_at_real_routes(
    gateway: Gateway,
) -> None:
    staff = _directory(gateway)
    staff.add("ana", display_name="Ana", role=Role.ANALYST, password=PW)
    cid = _customer(gateway)
    with gateway.client() as c:
        r = _login(c, "ana")
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["token"].startswith("sgs_") and body["role"] == "analyst"
        assert "fraud:score" in body["scopes"] and "consent:read" not in body["scopes"]
        token = body["token"]
        scored = c.post("/v1/fraud/score", json=TX, headers=_bearer(token))
        assert scored.status_code == 200, scored.text
        # Analysts hold no consent scope: a real route refuses them.
        denied = c.get(f"/v1/customers/{cid}/consent", headers=_bearer(token))
        assert denied.status_code == 403
        forged = c.post("/v1/fraud/score", json=TX, headers=_bearer("sgs_" + "A" * 43))
        assert forged.status_code == 401
    principals = [
        rec.principal
        for rec in gateway.runtime.audit.records()
        if rec.details.get("route") == "fraud.score"
    ]
    assert "staff:ana" in principals


def test_staff_session_when_privileged_role_then_mfa_required_and_code_not_replayable(
    gateway: Gateway,
) -> None:
    staff = _directory(gateway)
    staff.add("mel", display_name="Mel", role=Role.ML_ENGINEER, password=PW)
    with gateway.client() as c:
        no_mfa = _login(c, "mel")
        assert no_mfa.status_code == 401
        assert "multi-factor" in no_mfa.json()["detail"]
        enrolment = staff.begin_mfa("mel")
        totp = pyotp.TOTP(enrolment.secret)
        now = time.time()
        staff.confirm_mfa("mel", totp.at(now))
        assert _login(c, "mel").status_code == 401  # no code
        assert (
            _login(c, "mel", code="000000" if totp.at(now) != "000000" else "111111").status_code
            == 401
        )
        nxt = totp.at(now + 30)
        ok = _login(c, "mel", code=nxt)
        assert ok.status_code == 201, ok.text
        assert _login(c, "mel", code=nxt).status_code == 401  # replayed
        token = ok.json()["token"]
        assert c.post("/v1/fraud/score", json=TX, headers=_bearer(token)).status_code == 200
        # ML engineers may not change consent.
        put = c.put(
            "/v1/customers/C000001/consent",
            json={"purpose": "personalisation", "granted": False, "policy_version": "t"},
            headers=_bearer(token),
        )
        assert put.status_code == 403
        recovery = _login(c, "mel", recovery_code=enrolment.recovery_codes[0])
        assert recovery.status_code == 201


def test_staff_session_when_expired_logged_out_or_disabled_then_gateway_refuses(
    gateway: Gateway,
) -> None:
    staff = _directory(gateway)
    staff.add("ana", display_name="Ana", role=Role.ANALYST, password=PW)
    staff.add("zed", display_name="Zed", role=Role.ANALYST, password=PW)
    with gateway.client() as c:
        tokens = [_login(c, u).json()["token"] for u in ("ana", "ana", "zed")]
        for t in tokens:
            assert c.post("/v1/fraud/score", json=TX, headers=_bearer(t)).status_code == 200
        expired, leaving, disabled = tokens
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        with gateway.runtime.engine.begin() as conn:
            conn.execute(
                ops_tables.sessions.update()
                .where(ops_tables.sessions.c.digest == staff._session_digest(expired))
                .values(expires_at=past)
            )
        r = c.post("/v1/fraud/score", json=TX, headers=_bearer(expired))
        assert r.status_code == 401 and "expired" in r.json()["detail"]
        assert c.request("DELETE", LOGIN, headers=_bearer(leaving)).status_code == 204
        assert c.post("/v1/fraud/score", json=TX, headers=_bearer(leaving)).status_code == 401
        staff.disable("zed")
        assert c.post("/v1/fraud/score", json=TX, headers=_bearer(disabled)).status_code == 401
        assert c.request("DELETE", LOGIN).status_code == 401


def test_staff_session_when_break_glass_then_admin_scopes_until_it_ends(
    gateway: Gateway,
) -> None:
    staff = _directory(gateway)
    staff.add("ana", display_name="Ana", role=Role.ANALYST, password=PW)
    cid = _customer(gateway)
    with gateway.client() as c:
        token = _login(c, "ana").json()["token"]
        url = f"/v1/customers/{cid}/consent"
        assert c.get(url, headers=_bearer(token)).status_code == 403
        staff.break_glass(token, reason="incident 42: checking consent records", duration_s=60)
        assert c.get(url, headers=_bearer(token)).status_code == 200
        staff.end_break_glass("ana")
        assert c.get(url, headers=_bearer(token)).status_code == 403


def test_staff_login_when_brute_forced_then_locked_and_right_password_refused(
    gateway: Gateway,
) -> None:
    attempts = gateway.settings.ops_lockout_threshold
    staff = _directory(gateway)
    staff.add("ana", display_name="Ana", role=Role.ANALYST, password=PW)
    with gateway.client() as c:
        codes = [
            c.post(LOGIN, json={"username": "ana", "password": f"wrong-{i}"}).status_code
            for i in range(attempts)
        ]
        assert codes == [401] * attempts
        locked = _login(c, "ana")
    assert locked.status_code == 401 and "locked" in locked.json()["detail"]
    assert PW not in locked.text
