"""The web console: login with MFA, cookies, CSRF, expiry, scopes, bad input, actions (issue 13)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest

from shopguard.console.app import CSP
from shopguard.core.events import Alert, Severity
from shopguard.core.runtime import Runtime
from shopguard.core.settings import Settings
from shopguard.gateway.app import create_app
from shopguard.governance.roles import Role
from shopguard.governance.staff import StaffDirectory

from ._console import (
    FAST_HASHER,
    PASSWORD,
    USERS,
    Client,
    add_staff,
    csrf_of,
    fake_quarantine,
    login_client,
    session_token,
)


@pytest.fixture
def env(settings: Settings) -> Iterator[dict[str, Any]]:
    s = settings.model_copy(update={"console_cookie_secure": False})
    rt = Runtime.open(s)
    app = create_app(s, runtime=rt)
    console = app.state.console
    console.providers.quarantine = lambda _rt: quarantine
    quarantine = fake_quarantine(rt)
    secrets = add_staff(rt)
    client = Client(app)
    try:
        yield {
            "rt": rt,
            "app": app,
            "console": console,
            "secrets": secrets,
            "client": client,
            "quarantine": quarantine,
        }
    finally:
        client.close()
        rt.close()


def _as(env: dict[str, Any], role: Role) -> Client:
    c: Client = env["client"]
    login_client(c, session_token(env["rt"], role, env["secrets"]))
    return c


def _audit(env: dict[str, Any], action: str) -> list[Any]:
    return [r for r in env["rt"].audit.records() if r.action == action]


def test_console_login_when_password_and_totp_then_session_cookie_is_httponly_strict(
    env: dict[str, Any],
) -> None:
    c: Client = env["client"]
    page = c.get("/console/login")
    assert page.status_code == 200
    resp = c.post(
        "/console/login",
        data={
            "csrf": csrf_of(page.text),
            "username": USERS[Role.SECURITY_ENGINEER],
            "password": PASSWORD,
            "code": pyotp.TOTP(env["secrets"][Role.SECURITY_ENGINEER]).now(),
        },
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/console/"
    cookie = next(
        v for k, v in resp.headers.multi_items() if k == "set-cookie" and "sg_console=" in v
    )
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    home = c.get("/console/")
    assert home.status_code == 200 and "security-engineer" in home.text
    assert _audit(env, "console.login")[-1].decision == "allow"


def test_console_login_when_code_wrong_or_missing_then_refused_without_session(
    env: dict[str, Any],
) -> None:
    c: Client = env["client"]
    for code in ("000000", ""):
        page = c.get("/console/login")
        resp = c.post(
            "/console/login",
            data={
                "csrf": csrf_of(page.text),
                "username": USERS[Role.ADMIN],
                "password": PASSWORD,
                "code": code,
            },
        )
        assert resp.status_code == 401
        assert "verification code" in resp.text
        assert "sg_console=" not in resp.headers.get("set-cookie", "").replace("_pre=", "")
    denies = [r for r in _audit(env, "staff.login") if r.decision == "deny"]
    assert len(denies) == 2


def test_console_login_when_csrf_missing_then_refused_and_audited(env: dict[str, Any]) -> None:
    c: Client = env["client"]
    c.get("/console/login")
    resp = c.post(
        "/console/login",
        data={"username": USERS[Role.ANALYST], "password": PASSWORD},
    )
    assert resp.status_code == 403 and "security token" in resp.text
    assert _audit(env, "console.login")[-1].findings == ("csrf",)
    assert not [r for r in _audit(env, "staff.login") if r.decision == "allow"]


def test_console_cookie_when_secure_default_then_host_prefixed_and_secure(
    settings: Settings,
) -> None:
    rt = Runtime.open(settings)
    try:
        add_staff(rt)
        c = Client(create_app(settings, runtime=rt))
        page = c.get("/console/login")
        pre = page.headers["set-cookie"]
        assert pre.startswith("__Host-sg_console_pre=")
        assert "secure" in pre.lower() and "path=/" in pre.lower()
        c.close()
    finally:
        rt.close()


def test_console_pages_when_rendered_then_strict_csp_and_no_inline_script_or_style(
    env: dict[str, Any],
) -> None:
    c = _as(env, Role.ADMIN)
    for path in (
        "/",
        "/incidents",
        "/alerts",
        "/audit",
        "/quarantine",
        "/keys",
        "/privacy",
        "/vendors",
        "/risks",
        "/models",
        "/redteam",
    ):
        resp = c.get("/console" + path)
        assert resp.status_code == 200, path
        assert resp.headers["content-security-policy"] == CSP
        assert "unsafe-inline" not in CSP and "script-src 'self'" in CSP
        assert not re.search(r"<script(?![^>]*\bsrc=)", resp.text), path
        assert " style=" not in resp.text and "<style" not in resp.text, path
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", resp.text, re.S):
            assert 'name="csrf"' in form, (path, form[:120])


def test_console_key_revoke_when_csrf_missing_or_forged_then_refused_and_key_still_works(
    env: dict[str, Any],
) -> None:
    keys = env["app"].state.keys
    issued = keys.create(name="probe", tenant="default", scopes=["metrics:read"])
    c = _as(env, Role.SECURITY_ENGINEER)
    forged = env["console"].csrf_for("sgs_someone-elses-session")
    for data in ({}, {"csrf": forged}, {"csrf": ""}):
        resp = c.post(f"/console/keys/{issued.record.key_id}/revoke", data=data)
        assert resp.status_code == 403
        assert "security token is missing or wrong" in resp.text
    assert keys.list()[0].revoked_at is None
    assert c.get("/metrics", headers={"x-api-key": issued.secret}).status_code == 200
    denies = [r for r in _audit(env, "console.key_revoke") if r.decision == "deny"]
    assert len(denies) == 3 and all(r.findings == ("csrf",) for r in denies)


def test_console_key_revoke_when_confirmed_then_next_request_with_key_is_refused(
    env: dict[str, Any],
) -> None:
    keys = env["app"].state.keys
    issued = keys.create(name="scraper", tenant="default", scopes=["metrics:read"])
    c = _as(env, Role.SECURITY_ENGINEER)
    assert c.get("/metrics", headers={"x-api-key": issued.secret}).status_code == 200
    page = c.get("/console/keys")
    resp = c.post(f"/console/keys/{issued.record.key_id}/revoke", data={"csrf": csrf_of(page.text)})
    assert resp.status_code == 303
    assert "revoked" in c.get("/console/keys").text
    assert c.get("/metrics", headers={"x-api-key": issued.secret}).status_code == 401
    assert _audit(env, "console.key_revoke")[-1].decision == "allow"
    assert _audit(env, "console.key_revoke")[-1].principal == "staff:security-engineer"


def test_console_key_create_when_fields_malformed_then_422_and_nothing_created(
    env: dict[str, Any],
) -> None:
    c = _as(env, Role.ADMIN)
    token = csrf_of(c.get("/console/keys").text)
    bad = [
        {"name": "x y<script>", "tenant": "default", "scopes": ["metrics:read"]},
        {"name": "ok", "tenant": "default", "scopes": ["root:all"]},
        {"name": "ok", "tenant": "default"},
        {"name": "ok", "tenant": "default", "scopes": ["metrics:read"], "days": "-3"},
    ]
    for data in bad:
        resp = c.post("/console/keys", data={"csrf": token, **data})
        assert resp.status_code == 422, data
        assert "<script>" not in resp.text
    assert env["app"].state.keys.list() == []
    resp = c.post(
        "/console/keys",
        data={"csrf": token, "name": "partner", "tenant": "default", "scopes": ["metrics:read"]},
    )
    assert resp.status_code == 201 and "sgk_" in resp.text
    assert [k.name for k in env["app"].state.keys.list()] == ["partner"]


def test_console_when_role_lacks_scope_then_403_with_reason_and_nothing_changed(
    env: dict[str, Any],
) -> None:
    issued = env["app"].state.keys.create(name="k", tenant="default", scopes=["metrics:read"])
    c = _as(env, Role.ANALYST)
    token = csrf_of(c.get("/console/").text)
    resp = c.post(f"/console/keys/{issued.record.key_id}/revoke", data={"csrf": token})
    assert resp.status_code == 403
    assert "analyst" in resp.text and "keys:manage" in resp.text
    assert env["app"].state.keys.list()[0].revoked_at is None
    assert _audit(env, "console.key_revoke")[-1].findings == ("missing_scope",)


def test_console_when_session_idle_too_long_then_get_redirects_and_post_refused(
    env: dict[str, Any],
) -> None:
    now = [datetime.now(UTC)]
    env["console"].staff = StaffDirectory.from_runtime(
        env["rt"], hasher=FAST_HASHER, clock=lambda: now[0]
    )
    issued = env["app"].state.keys.create(name="k", tenant="default", scopes=["metrics:read"])
    c = _as(env, Role.SECURITY_ENGINEER)
    token = csrf_of(c.get("/console/keys").text)
    now[0] += timedelta(hours=1)
    resp = c.get("/console/keys")
    assert resp.status_code == 303 and resp.headers["location"].endswith("reason=expired")
    assert "session expired" in c.get(resp.headers["location"]).text.lower()
    resp = c.post(f"/console/keys/{issued.record.key_id}/revoke", data={"csrf": token})
    assert resp.status_code == 401 and "expired" in resp.text
    assert env["app"].state.keys.list()[0].revoked_at is None
    assert _audit(env, "console.key_revoke")[-1].findings == ("session_invalid",)


def test_console_audit_verify_when_clicked_then_chain_reported_intact(env: dict[str, Any]) -> None:
    c = _as(env, Role.AUDITOR)
    page = c.get("/console/audit")
    resp = c.post("/console/audit/verify", data={"csrf": csrf_of(page.text)})
    assert resp.status_code == 303
    assert "Audit chain verified" in c.get("/console/audit").text
    assert "staff.add" in c.get("/console/audit", params={"q": "staff.add"}).text


def test_console_audit_search_when_filter_malformed_then_422(env: dict[str, Any]) -> None:
    c = _as(env, Role.AUDITOR)
    assert c.get("/console/audit", params={"q": "x" * 500}).status_code == 422
    assert c.get("/console/alerts", params={"severity": "apocalyptic"}).status_code == 422


def test_console_incident_when_containment_clicked_then_key_revoked_and_timeline_shows_it(
    env: dict[str, Any],
) -> None:
    rt = env["rt"]
    issued = env["app"].state.keys.create(name="bot", tenant="default", scopes=["metrics:read"])
    rt.bus.publish(
        Alert(
            topic="monitor.extraction.enumeration",
            severity=Severity.HIGH,
            source="test",
            summary="key enumerates customers",
            details={"key_id": issued.record.key_id},
        )
    )
    inc = env["app"].state.incidents.incidents()[0]
    c = _as(env, Role.SECURITY_ENGINEER)
    page = c.get(f"/console/incidents/{inc.id}")
    assert page.status_code == 200 and "Revoke key" in page.text and "Timeline" in page.text
    resp = c.post(
        f"/console/incidents/{inc.id}/action",
        data={"csrf": csrf_of(page.text), "step": "revoke-key", "target": issued.record.key_id},
    )
    assert resp.status_code == 303
    after = c.get(f"/console/incidents/{inc.id}")
    assert f"revoked API key {issued.record.key_id}" in after.text
    assert c.get("/metrics", headers={"x-api-key": issued.secret}).status_code == 401
    bad = c.post(
        f"/console/incidents/{inc.id}/action",
        data={"csrf": csrf_of(page.text), "step": "revoke-key", "target": "a b;c"},
    )
    assert bad.status_code == 422 and "Target is malformed" in bad.text


def test_console_quarantine_when_released_with_reason_then_decided_and_audited(
    env: dict[str, Any],
) -> None:
    c = _as(env, Role.SECURITY_ENGINEER)
    page = c.get("/console/quarantine")
    assert "BEST PRODUCT EVER" in page.text
    token = csrf_of(page.text)
    assert c.post("/console/quarantine/1/release", data={"csrf": token}).status_code == 422
    assert env["quarantine"].records[1].status == "quarantined"
    resp = c.post("/console/quarantine/1/release", data={"csrf": token, "reason": "real buyer"})
    assert resp.status_code == 303
    assert env["quarantine"].records[1].status == "released"
    again = c.post("/console/quarantine/1/release", data={"csrf": token, "reason": "twice"})
    assert again.status_code == 422 and "not quarantined" in again.text
    rec = _audit(env, "integrity.quarantine.release")[-1]
    assert rec.principal == "staff:security-engineer"


def test_console_quarantine_when_module_absent_then_page_says_not_installed(
    env: dict[str, Any],
) -> None:
    env["console"].providers.quarantine = None
    c = _as(env, Role.ADMIN)
    assert "Not installed" in c.get("/console/quarantine").text
    token = csrf_of(c.get("/console/").text)
    resp = c.post("/console/quarantine/1/release", data={"csrf": token, "reason": "x y z"})
    assert resp.status_code == 404 and "not installed" in resp.text


def test_console_risk_update_when_out_of_range_then_422_and_register_unchanged(
    env: dict[str, Any],
) -> None:
    c = _as(env, Role.SECURITY_ENGINEER)
    page = c.get("/console/risks")
    assert page.status_code == 200 and "<svg" in page.text
    risk_id = re.search(r'action="/console/risks/([A-Z0-9-]+)"', page.text).group(1)
    token = csrf_of(page.text)
    resp = c.post(
        f"/console/risks/{risk_id}", data={"csrf": token, "likelihood": "9", "impact": "2"}
    )
    assert resp.status_code == 422
    assert not _audit(env, "risk.update")
    resp = c.post(
        f"/console/risks/{risk_id}", data={"csrf": token, "likelihood": "1", "impact": "2"}
    )
    assert resp.status_code == 303 and _audit(env, "risk.update")


def test_console_overview_when_scorecard_and_traffic_then_charts_render(
    env: dict[str, Any], tmp_path: Path
) -> None:
    import json

    home = env["rt"].settings.home
    (home / "scorecard.json").write_text(
        json.dumps(
            {
                "generated_at": "2026-11-26T12:00:00+00:00",
                "checks": [
                    {"id": "api.a", "area": "api", "status": "pass", "evidence": "ok"},
                    {"id": "api.b", "area": "api", "status": "fail", "evidence": "bad"},
                ],
            }
        )
    )
    c = _as(env, Role.ADMIN)
    c.get("/metrics")  # a denied gateway request
    page = c.get("/console/")
    assert page.text.count("<svg") == 3
    assert "api.b" in page.text and "Denial rate" in page.text
    rows = re.findall(r"<tr><td>\d\d:\d\d</td><td>(\d+)</td><td>(\d+)</td></tr>", page.text)
    # the one gateway request, denied; the console's own page views are not gateway traffic
    assert [sum(int(a) for a, _ in rows), sum(int(d) for _, d in rows)] == [0, 1]


def test_console_check_when_live_gateway_then_passes_and_weak_console_fails(
    env: dict[str, Any],
) -> None:
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    from shopguard.console.checks import ConsoleHardened
    from shopguard.core.scorecard import CheckContext, Status
    from shopguard.demo.run import serve_in_thread

    with serve_in_thread(env["app"]) as base_url:
        res = ConsoleHardened().result(CheckContext({"base_url": base_url}))
    assert res.status is Status.PASS, res.evidence
    weak = FastAPI()

    @weak.api_route("/console/{path:path}", methods=["GET", "POST"])
    async def anything(path: str) -> HTMLResponse:
        resp = HTMLResponse("<form method=post></form>")
        resp.set_cookie("session", "x")
        return resp

    with serve_in_thread(weak) as base_url:
        res = ConsoleHardened().result(CheckContext({"base_url": base_url}))
    assert res.status is Status.FAIL
    assert "CSP" in res.evidence and "httponly" in res.evidence and "CSRF" in res.evidence


def test_console_requests_when_audited_by_gateway_then_labelled_with_route_and_staff(
    env: dict[str, Any],
) -> None:
    c = _as(env, Role.AUDITOR)
    c.get("/console/alerts")
    rec = [r for r in env["rt"].audit.records() if r.details.get("route") == "console.alerts"][-1]
    assert rec.principal == "staff:auditor" and rec.decision == "allow"


class _Runs:
    def list_runs(self) -> list[dict[str, Any]]:
        return [
            {
                "run_id": "r2",
                "at": "2026-11-26T10:00",
                "suite": "assistant",
                "results": {
                    "inject.basic": "blocked",
                    "leak.orders": "succeeded",
                    "b64": "blocked",
                },
            },
            {
                "run_id": "r1",
                "at": "2026-11-25T10:00",
                "suite": "assistant",
                "results": {"inject.basic": "blocked", "leak.orders": "blocked"},
            },
        ]


def test_console_redteam_when_runs_provided_then_diff_shows_changed_outcomes(
    env: dict[str, Any],
) -> None:
    c = _as(env, Role.AUDITOR)
    assert "Not installed" in c.get("/console/redteam").text
    env["console"].providers.redteam = lambda _rt: _Runs()
    text = c.get("/console/redteam").text
    diff = text[text.index("Changes since the previous run") :]
    assert "leak.orders" in diff and "b64" in diff and "inject.basic" not in diff


def test_console_when_cookies_not_secure_and_host_not_loopback_then_refused(
    env: dict[str, Any],
) -> None:
    c = _as(env, Role.ADMIN)
    resp = c.get("http://console.example.com/console/login")
    assert resp.status_code == 403 and "only on 127.0.0.1" in resp.text
    assert "set-cookie" not in resp.headers
    assert c.get("http://console.example.com/console/keys").status_code == 403
    assert c.get("http://127.0.0.1/console/keys").status_code == 200


def test_console_keys_when_listed_then_access_review_flags_shown(env: dict[str, Any]) -> None:
    env["app"].state.keys.create(name="wide-open", tenant="default", scopes=["fraud:score"])
    text = _as(env, Role.AUDITOR).get("/console/keys").text
    assert "wide-open" in text and "orphaned" in text
    assert "Revoke" not in text  # auditors see, never act


def test_console_models_when_card_files_then_fairness_and_robustness_shown(
    env: dict[str, Any],
) -> None:
    import json

    d = env["rt"].settings.models_dir / "fraud"
    d.mkdir(parents=True, exist_ok=True)
    (d / "metrics.json").write_text(json.dumps({"auc": 0.91}))
    (d / "fairness.json").write_text(json.dumps({"demographic_parity_ratio": 0.87}))
    env["console"].providers.cards = None
    text = _as(env, Role.ML_ENGINEER).get("/console/models").text
    assert "demographic_parity_ratio" in text and "0.91" in text
    assert "Robustness" in text and "not measured yet" in text
    env["console"].providers.cards = lambda name, root: {
        "intended_use": "score card transactions",
        "metrics": {},
        "fairness": None,
        "robustness": {"evasion_success": 0.02},
    }
    text = env["client"].get("/console/models").text  # same session
    assert "score card transactions" in text and "evasion_success" in text
