"""Demo set-up for the operations checks: a small staff with MFA and training on record.

Staff passwords are random per run and never shown; MFA is enrolled with codes
computed from the fresh secrets, as a person would type them. The tabletop
drill on record is marked as demo seed data in its notes; the live drill is
run for real by the ``monitoring.extraction_becomes_incident`` check.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from typing import Any

import pyotp

from shopguard.core.runtime import Runtime
from shopguard.governance.gateway_hook import desk_for
from shopguard.governance.roles import Role
from shopguard.governance.staff import StaffDirectory
from shopguard.governance.training import REQUIRED, DrillResult, TrainingRegister

__all__ = ["setup_operations"]

_STAFF = (
    ("ops-admin", "Store admin", Role.ADMIN, None),
    ("sec-lead", "Security lead", Role.SECURITY_ENGINEER, "ops-admin"),
    ("ml-eng", "ML engineer", Role.ML_ENGINEER, "sec-lead"),
    ("dpo", "Privacy officer", Role.PRIVACY_OFFICER, "ops-admin"),
    ("analyst", "Fraud analyst", Role.ANALYST, "sec-lead"),
)


def setup_operations(rt: Runtime, *, drill_targets: Sequence[str]) -> dict[str, Any]:
    """Create the demo staff and training records; returns the check resources."""
    staff = StaffDirectory.from_runtime(rt)
    existing = {m.username for m in staff.members()}
    for username, name, role, manager in _STAFF:
        if username in existing:
            continue
        password = base64.urlsafe_b64encode(os.urandom(18)).decode()
        staff.add(
            username, display_name=name, role=role, password=password, manager=manager, actor="demo"
        )
        if role is not Role.ANALYST:
            enrol = staff.begin_mfa(username, actor="demo")
            staff.confirm_mfa(username, pyotp.TOTP(enrol.secret).now())
    training = TrainingRegister.from_runtime(rt, staff=staff)
    for m in staff.members():
        for course in REQUIRED[m.role]:
            training.record(m.username, course, actor="demo")
    training.record_drill(
        DrillResult(
            "tabletop",
            "data_breach",
            None,
            None,
            True,
            "demo seed: tabletop on the breach playbook",
        )
    )
    desk_for(rt)
    return {"drill_targets": list(drill_targets)}
