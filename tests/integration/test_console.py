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
    CAMPAIGN,
    FAST_HASHER,
    PASSWORD,
    USERS,
    Client,
    add_staff,
    csrf_of,
    login_client,
    quarantine_campaign,
    record_status,
    session_token,
)


@pytest.fixture
def env(settings: Settings) -> Iterator[dict[str, Any]]:
    s = settings.model_copy(update={"console_cookie_secure": False})
    rt = Runtime.open(s)
    app = create_app(s, runtime=rt)
    console = app.state.console
    secrets = add_staff(rt)
    client = Client(app)
    try:
        yield {
            "rt": rt,
            "app": app,
            "console": console,
            "secrets": secrets,
            "client": client,
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


def test_console_login_when_user_unknown_then_401_and_audited_without_the_name(
    env: dict[str, Any],
) -> None:
    c: Client = env["client"]
    page = c.get("/console/login")
    resp = c.post(
        "/console/login",
        data={"csrf": csrf_of(page.text), "username": "nobody-here", "password": PASSWORD},
    )
    assert resp.status_code == 401 and "invalid user name or password" in resp.text
    entry = _audit(env, "console.login")[-1]
    assert entry.decision == "deny" and entry.findings == ("authentication_failed",)
    assert "nobody-here" not in str(entry.to_json())


def test_console_when_path_malformed_or_method_wrong_then_console_page_and_audited(
    env: dict[str, Any],
) -> None:
    c = _as(env, Role.ADMIN)
    token = csrf_of(c.get("/console/").text)
    for path, method, status in (
        ("/console/quarantine/abc/release", "POST", 404),
        ("/console/incidents/1;drop/close", "POST", 404),
        ("/console/nowhere", "GET", 404),
        ("/console/keys/0123456789abcdef/revoke", "GET", 405),
    ):
        resp = c.request(
            method, path, data={"csrf": token, "reason": "xyz"} if method == "POST" else None
        )
        assert resp.status_code == status, path
        assert resp.headers["content-security-policy"] == CSP, path
        assert "nothing was changed" in resp.text and "<html" in resp.text, path
    found = [r.findings for r in _audit(env, "console.unknown_route")]
    assert found.count(("no_such_route",)) == 3 and found.count(("method_not_allowed",)) == 1


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
    rt = env["rt"]
    held = quarantine_campaign(rt, 3)
    c = _as(env, Role.SECURITY_ENGINEER)
    page = c.get("/console/quarantine")
    assert "BEST PRODUCT EVER 1" in page.text and "2 record(s) wait" in page.text
    assert "near (" in page.text  # the pipeline's reason is shown
    token = csrf_of(page.text)
    rid = held[0]
    assert c.post(f"/console/quarantine/{rid}/release", data={"csrf": token}).status_code == 422
    assert record_status(rt, rid) == "quarantined"
    resp = c.post(
        f"/console/quarantine/{rid}/release", data={"csrf": token, "reason": "real buyer"}
    )
    assert resp.status_code == 303
    assert record_status(rt, rid) == "released"
    again = c.post(f"/console/quarantine/{rid}/release", data={"csrf": token, "reason": "twice"})
    assert again.status_code == 422 and "not quarantined" in again.text
    rec = _audit(env, "integrity.quarantine.release")[-1]
    assert rec.principal == "staff:security-engineer"
    assert rec.details["record_id"] == rid and rec.details["reason"] == "real buyer"
    gone = c.post("/console/quarantine/9999/reject", data={"csrf": token, "reason": "nope"})
    assert gone.status_code == 404 and record_status(rt, held[1]) == "quarantined"


def test_console_quarantine_when_htmx_request_then_fragment_swaps_card_and_notice(
    env: dict[str, Any],
) -> None:
    rt = env["rt"]
    held = quarantine_campaign(rt, 3)
    c = _as(env, Role.SECURITY_ENGINEER)
    token = csrf_of(c.get("/console/quarantine").text)
    hx = {"HX-Request": "true"}
    resp = c.post(
        f"/console/quarantine/{held[1]}/reject",
        data={"csrf": token, "reason": "paid campaign"},
        headers=hx,
    )
    # A fragment, not a redirect or a whole page: the decided card, the notice, the count.
    assert resp.status_code == 200 and "<html" not in resp.text
    assert f'id="q-card-{held[1]}"' in resp.text and "Rejected: kept as evidence" in resp.text
    assert re.search(r'id="notices"[^>]*hx-swap-oob="true"', resp.text)
    assert f"Record {held[1]} rejected." in resp.text and "1 record(s) wait" in resp.text
    assert resp.headers["content-security-policy"] == CSP
    assert "HX-Request" in resp.headers["vary"]
    assert record_status(rt, held[1]) == "rejected"
    # A refusal answers a fragment too (htmx swaps it into #notices), and changes nothing.
    bad = c.post(f"/console/quarantine/{held[0]}/release", data={"csrf": "x"}, headers=hx)
    assert bad.status_code == 403 and "<html" not in bad.text and 'role="alert"' in bad.text
    assert record_status(rt, held[0]) == "quarantined"
    assert _audit(env, "console.quarantine_release")[-1].findings == ("csrf",)


def test_console_key_revoke_when_htmx_request_then_status_cell_fragment(
    env: dict[str, Any],
) -> None:
    keys = env["app"].state.keys
    issued = keys.create(name="scraper", tenant="default", scopes=["metrics:read"])
    kid = issued.record.key_id
    c = _as(env, Role.SECURITY_ENGINEER)
    page = c.get("/console/keys").text
    assert f'hx-post="/console/keys/{kid}/revoke" hx-target="#key-status-{kid}"' in page
    resp = c.post(
        f"/console/keys/{kid}/revoke", data={"csrf": csrf_of(page)}, headers={"HX-Request": "true"}
    )
    assert resp.status_code == 200 and resp.text.lstrip().startswith("revoked 20")
    assert f"Key {kid} revoked" in resp.text
    assert c.get("/metrics", headers={"x-api-key": issued.secret}).status_code == 401


def test_console_when_htmx_session_missing_then_401_fragment(env: dict[str, Any]) -> None:
    c: Client = env["client"]
    resp = c.post("/console/keys/0123456789abcdef/revoke", headers={"HX-Request": "true"})
    assert resp.status_code == 401 and "<html" not in resp.text
    assert "Nothing was changed; log in again." in resp.text


def test_console_htmx_when_vendored_then_file_matches_recorded_sha256_and_config_is_strict(
    env: dict[str, Any],
) -> None:
    import hashlib
    import json

    static = Path(__file__).resolve().parents[2] / "src" / "shopguard" / "console" / "static"
    digest = hashlib.sha256((static / "htmx.min.js").read_bytes()).hexdigest()
    assert f"`{digest}`" in (static / "VENDORED.md").read_text("utf-8")
    assert "Zero-Clause BSD" in (static / "htmx.LICENSE").read_text("utf-8")
    c = _as(env, Role.ADMIN)
    served = c.get("/console/static/htmx.min.js")
    assert served.status_code == 200 and hashlib.sha256(served.content).hexdigest() == digest
    page = c.get("/console/").text
    meta = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page)
    assert meta, "page has no htmx-config"
    config = json.loads(meta.group(1))
    assert config["allowEval"] is False and config["allowScriptTags"] is False
    assert config["includeIndicatorStyles"] is False and config["historyEnabled"] is False
    assert config["selfRequestsOnly"] is True


def test_canary_when_quarantined_review_holds_personal_data_then_absent_from_audit_logs_errors(
    env: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    email, card = "canary.console13.5d1e@example.org", "4000 0566 5566 5556"
    rt = env["rt"]
    text = f"{CAMPAIGN} five stars, mail me at {email}, paid with {card}"
    with caplog.at_level("DEBUG"):
        held = quarantine_campaign(rt, 3, text=text)
        c = _as(env, Role.SECURITY_ENGINEER)
        page = c.get("/console/quarantine")
        assert email in page.text  # the reviewer reads the review before deciding
        token = csrf_of(page.text)
        hx = {"HX-Request": "true"}
        bodies = [
            c.post(f"/console/quarantine/{held[0]}/release", data={"csrf": token}).text,
            c.post(f"/console/quarantine/{held[0]}/release", data={"csrf": "x"}, headers=hx).text,
            c.post(
                f"/console/quarantine/{held[0]}/release",
                data={"csrf": token, "reason": "genuine"},
                headers=hx,
            ).text,
            c.post(
                f"/console/quarantine/{held[0]}/reject", data={"csrf": token, "reason": "again"}
            ).text,
        ]
    dumped = " ".join(str(r.to_json()) for r in rt.audit.records())
    logged = " ".join(r.getMessage() for r in caplog.records)
    for secret in (email, card, card.replace(" ", "")):
        assert secret not in dumped and secret not in logged
        assert not any(secret in b for b in bodies)


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
