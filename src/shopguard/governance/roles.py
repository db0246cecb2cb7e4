"""Staff roles and the scopes each grants.

A role is a named set of scopes. The gateway scopes (``fraud:score``,
``metrics:read``...) are the ones its routes declare; the ``ops:*``,
``staff:*``, ``incidents:*``, ``risk:*`` and ``audit:*`` scopes are the console's
and the CLI's. Auditors read and change nothing. Every role except analyst and
auditor is *privileged* and must have multi-factor authentication.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["PRIVILEGED", "ROLE_SCOPES", "Role", "scopes_for"]


class Role(StrEnum):
    ADMIN = "admin"
    SECURITY_ENGINEER = "security_engineer"
    ML_ENGINEER = "ml_engineer"
    PRIVACY_OFFICER = "privacy_officer"
    ANALYST = "analyst"
    AUDITOR = "auditor"


_READ = frozenset(
    {
        "audit:read",
        "incidents:read",
        "risk:read",
        "ops:read",
        "metrics:read",
        "staff:read",
        "models:read",  # the vault's versions, cards and results (read is audited)
    }
)

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset({"*"}),
    Role.SECURITY_ENGINEER: _READ
    | {
        "incidents:write",
        "incidents:contain",
        "keys:manage",
        "ops:review",
        "risk:write",
        "drills:run",
        "reviews:read",
        "quarantine:decide",  # release/reject quarantined records in the console
        "fraud:score",
        "vendors:read",
        "vendors:write",
    },
    Role.ML_ENGINEER: frozenset(
        {
            "models:deploy",
            "models:rollback",
            "models:read",
            "fraud:score",
            "fraud:label",
            "images:classify",
            "recommendations:read",
            "reviews:read",
            "metrics:read",
            "incidents:read",
        }
    ),
    Role.PRIVACY_OFFICER: frozenset(
        {
            "consent:read",
            "consent:write",
            "privacy:dsar",
            "privacy:reidentify",
            "vendors:read",
            "incidents:read",
            "incidents:notify",
            "risk:read",
            "audit:read",
        }
    ),
    Role.ANALYST: frozenset(
        {"fraud:score", "recommendations:read", "reviews:read", "metrics:read", "risk:read"}
    ),
    Role.AUDITOR: _READ,
}

#: Roles that must use multi-factor authentication (everything that can change something
#: beyond scoring and reading).
PRIVILEGED: frozenset[Role] = frozenset(
    {Role.ADMIN, Role.SECURITY_ENGINEER, Role.ML_ENGINEER, Role.PRIVACY_OFFICER}
)


def scopes_for(role: Role) -> frozenset[str]:
    """The scopes ``role`` grants."""
    return ROLE_SCOPES[role]
