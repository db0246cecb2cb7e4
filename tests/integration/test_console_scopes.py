"""Walk EVERY console route for EVERY staff role: allowed or refused exactly per the scope table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Mount, Route

from shopguard.console.scopes import ROUTES
from shopguard.core.runtime import Runtime
from shopguard.core.settings import Settings
from shopguard.gateway.app import create_app
from shopguard.governance.roles import Role

from ._console import (
    Client,
    add_staff,
    csrf_of,
    login_client,
    quarantine_campaign,
    record_status,
    session_token,
)

# The table of docs/console.md, written out by hand (A admin, S security engineer, M ML
# engineer, P privacy officer, N analyst, U auditor): who may use each route.
EXPECTED = {
    "overview": "ASMPNU",
    "logout": "ASMPNU",
    "incidents": "ASMPU",
    "incident": "ASMPU",
    "incident_step": "AS",
    "incident_action": "AS",
    "incident_notified": "AP",
    "incident_close": "AS",
    "alerts": "ASMPU",
    "audit": "ASPU",
    "audit_verify": "ASPU",
    "quarantine": "ASMNU",
    "quarantine_release": "AS",
    "quarantine_reject": "AS",
    "keys": "ASU",
    "key_create": "AS",
    "key_revoke": "AS",
    "privacy": "AP",
    "vendors": "ASPNU",
    "risks": "ASPNU",
    "risk_update": "AS",
    "models": "ASMU",
    "model_rollback": "AM",
    "redteam": "ASMU",
}
LETTER = {
    Role.ADMIN: "A",
    Role.SECURITY_ENGINEER: "S",
    Role.ML_ENGINEER: "M",
    Role.PRIVACY_OFFICER: "P",
    Role.ANALYST: "N",
    Role.AUDITOR: "U",
}
FORMS = {
    "incident_step": {"step": "review-limits", "note": "walk"},
    "incident_action": {"step": "revoke-key", "target": "0123456789abcdef"},
    "incident_notified": {"reference": "REF-1"},
    "incident_close": {"note": "walk"},
    "quarantine_release": {"reason": "walk test"},
    "quarantine_reject": {"reason": "walk test"},
    "key_create": {"name": "walk", "tenant": "default", "scopes": ["metrics:read"]},
    "risk_update": {"likelihood": "3", "impact": "3"},
}


@pytest.fixture
def walk(settings: Settings) -> Iterator[dict[str, Any]]:
    s = settings.model_copy(update={"console_cookie_secure": False})
    rt = Runtime.open(s)
    app = create_app(s, runtime=rt)
    held = quarantine_campaign(rt, 2)
    secrets = add_staff(rt)
    from shopguard.core.events import Alert, Severity

    rt.bus.publish(Alert("monitor.extraction.x", Severity.HIGH, "test", "walk", {"key_id": "k1"}))
    client = Client(app)
    try:
        yield {"rt": rt, "app": app, "secrets": secrets, "client": client, "record": held[0]}
    finally:
        client.close()
        rt.close()


def _path(template: str, incident_id: int, record_id: int) -> str:
    return "/console" + template.replace("{incident_id:int}", str(incident_id)).replace(
        "{record_id:int}", str(record_id)
    ).replace("{key_id}", "0123456789abcdef").replace("{risk_id}", "R-BIAS").replace(
        "{name}", "fraud"
    )


def test_console_scope_table_when_compared_then_expected_covers_every_route() -> None:
    assert set(EXPECTED) == {r.name for r in ROUTES}


def test_console_routes_when_listed_then_every_one_is_in_the_scope_table(
    walk: dict[str, Any],
) -> None:
    mount = next(r for r in walk["app"].routes if isinstance(r, Mount) and r.path == "/console")
    declared = {(r.method, r.path) for r in ROUTES} | {("GET", "/login"), ("POST", "/login")}
    served = set()
    for r in mount.routes:
        if isinstance(r, Mount):
            assert r.path == "/static"
            continue
        assert isinstance(r, Route)
        for m in r.methods or ():
            if m != "HEAD":
                served.add((m, r.path))
    assert served == declared


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_console_walk_when_every_route_for_role_then_allowed_or_denied_per_table(
    walk: dict[str, Any], role: Role
) -> None:
    c: Client = walk["client"]
    login_client(c, session_token(walk["rt"], role, walk["secrets"]))
    token = csrf_of(c.get("/console/").text)
    incident_id = walk["app"].state.incidents.incidents()[0].id
    keys = walk["app"].state.keys
    probe = keys.create(name="walk-probe", tenant="default", scopes=["metrics:read"])
    keys_before = len(keys.list())
    denied = 0
    # logout last: it ends the session the walk uses.
    for r in sorted(ROUTES, key=lambda r: r.name == "logout"):
        path = _path(r.path, incident_id, walk["record"])
        if r.name == "key_revoke":
            path = path.replace("0123456789abcdef", probe.record.key_id)
        if r.method == "GET":
            resp = c.get(path)
        else:
            resp = c.post(path, data={"csrf": token, **FORMS.get(r.name, {})})
        may = LETTER[role] in EXPECTED[r.name]
        if may:
            assert resp.status_code != 403 and resp.status_code < 500, (r.name, resp.status_code)
            assert "does not have the scope" not in resp.text
        else:
            denied += 1
            assert resp.status_code == 403, (r.name, resp.status_code)
            assert re.search(r"Your role \(\w+\) does not have the scope", resp.text), r.name
    audited = [
        rec
        for rec in walk["rt"].audit.records()
        if rec.action.startswith("console.")
        and rec.principal == f"staff:{role.value.replace('_', '-')}"
        and rec.findings == ("missing_scope",)
    ]
    assert len(audited) == denied
    # A refused action changed nothing: the review is still held, the key still live.
    may_decide = LETTER[role] in EXPECTED["quarantine_release"]
    assert (record_status(walk["rt"], walk["record"]) == "quarantined") is not may_decide
    may_keys = LETTER[role] in EXPECTED["key_revoke"]
    probe_now = next(k for k in keys.list() if k.key_id == probe.record.key_id)
    assert (probe_now.revoked_at is None) is not may_keys
    assert len(keys.list()) == keys_before + (1 if may_keys else 0)
    # every route is now refused without a session
    assert c.get("/console/incidents").status_code == 303
