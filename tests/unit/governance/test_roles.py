from __future__ import annotations

from shopguard.gateway.app import STORE_SCOPES
from shopguard.governance.roles import ROLE_SCOPES, Role


def test_roles_when_combined_then_every_gateway_scope_reachable():
    granted = set().union(*ROLE_SCOPES.values())
    assert "*" in ROLE_SCOPES[Role.ADMIN]
    # reviews:write is admin-only; assistant:chat and decisions:review are shoppers' scopes
    # (customer JWTs), which no staff role needs.
    customer_scopes = {"assistant:chat", "decisions:review"}
    assert set(STORE_SCOPES) <= granted | {"reviews:write"} | customer_scopes


def test_roles_when_auditor_then_no_write_scope():
    assert not any(s.endswith((":write", ":manage", ":contain")) for s in ROLE_SCOPES[Role.AUDITOR])
