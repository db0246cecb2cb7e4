"""The console's scope table: which staff scopes each page and action needs.

Every console route is declared here, once, with the scopes that admit it (a
user needs *any one* of them; ``*`` admits everything). ``None`` means any
logged-in staff member (the overview, which then shows only the sections the
user's scopes allow; and logging out). The scopes are the staff roles' scopes of
:mod:`shopguard.governance.roles`. ``tests/integration/test_console_scopes.py``
walks every route for every role against this table.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ROUTES", "ConsoleRoute", "allowed", "route"]


@dataclass(frozen=True)
class ConsoleRoute:
    name: str
    method: str
    path: str  # relative to /console
    scopes: frozenset[str] | None  # any one admits; None: any logged-in staff member


def _r(name: str, method: str, path: str, *scopes: str, any_staff: bool = False) -> ConsoleRoute:
    return ConsoleRoute(name, method, path, None if any_staff else frozenset(scopes))


ROUTES: tuple[ConsoleRoute, ...] = (
    _r("overview", "GET", "/", any_staff=True),
    _r("logout", "POST", "/logout", any_staff=True),
    _r("incidents", "GET", "/incidents", "incidents:read"),
    _r("incident", "GET", "/incidents/{incident_id:int}", "incidents:read"),
    _r("incident_step", "POST", "/incidents/{incident_id:int}/step", "incidents:write"),
    _r("incident_action", "POST", "/incidents/{incident_id:int}/action", "incidents:contain"),
    _r("incident_notified", "POST", "/incidents/{incident_id:int}/notified", "incidents:notify"),
    _r("incident_close", "POST", "/incidents/{incident_id:int}/close", "incidents:write"),
    _r("alerts", "GET", "/alerts", "incidents:read"),
    _r("audit", "GET", "/audit", "audit:read"),
    _r("audit_verify", "POST", "/audit/verify", "audit:read"),
    _r("quarantine", "GET", "/quarantine", "reviews:read", "quarantine:decide", "ops:read"),
    _r("quarantine_release", "POST", "/quarantine/{record_id:int}/release", "quarantine:decide"),
    _r("quarantine_reject", "POST", "/quarantine/{record_id:int}/reject", "quarantine:decide"),
    _r("keys", "GET", "/keys", "keys:manage", "ops:read"),
    _r("key_create", "POST", "/keys", "keys:manage"),
    _r("key_revoke", "POST", "/keys/{key_id}/revoke", "keys:manage"),
    _r("privacy", "GET", "/privacy", "privacy:dsar", "consent:read"),
    _r("vendors", "GET", "/vendors", "risk:read"),
    _r("risks", "GET", "/risks", "risk:read"),
    _r("risk_update", "POST", "/risks/{risk_id}", "risk:write"),
    _r("models", "GET", "/models", "models:deploy", "models:rollback", "ops:read"),
    _r("model_rollback", "POST", "/models/{name}/rollback", "models:rollback"),
    _r("redteam", "GET", "/redteam", "ops:read", "models:deploy"),
)


def route(name: str) -> ConsoleRoute:
    return next(r for r in ROUTES if r.name == name)


def allowed(user_scopes: frozenset[str], r: ConsoleRoute) -> bool:
    """May a holder of ``user_scopes`` use ``r``?"""
    if r.scopes is None or "*" in user_scopes:
        return True
    return bool(r.scopes & user_scopes)
