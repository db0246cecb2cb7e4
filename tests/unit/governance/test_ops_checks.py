from __future__ import annotations

from datetime import timedelta

import pyotp

import shopguard.scorecard_checks  # noqa: F401
from shopguard.core.scorecard import CheckContext, Status, checks
from shopguard.gateway.keys import ApiKeyStore
from shopguard.governance.roles import Role

from .conftest import FAST_HASHER

PW = "tulip-harbour-47-quietly"


def _run(name: str, runtime):
    return checks.get(name)().result(CheckContext({"runtime": runtime}))


def test_privileged_mfa_check_when_admin_lacks_mfa_then_fails_and_passes_after(runtime, clock):
    from shopguard.governance.staff import StaffDirectory

    staff = StaffDirectory.from_runtime(runtime, hasher=FAST_HASHER)
    staff.add("root", display_name="Root", role=Role.ADMIN, password=PW)
    staff.add("ann", display_name="Ann", role=Role.ANALYST, password=PW)
    res = _run("operations.privileged_mfa", runtime)
    assert res.status is Status.FAIL and "root" in res.evidence
    enrol = staff.begin_mfa("root")
    staff.confirm_mfa("root", pyotp.TOTP(enrol.secret).now())
    assert _run("operations.privileged_mfa", runtime).status is Status.PASS


def test_unused_keys_check_when_key_never_used_past_policy_then_fails(runtime, clock):
    ApiKeyStore(runtime.engine, runtime.keyring).create(
        name="k", tenant="default", scopes=["fraud:score"]
    )
    assert _run("operations.unused_keys", runtime).status is Status.PASS
    old = clock() - timedelta(days=400)
    ApiKeyStore(runtime.engine, runtime.keyring, clock=lambda: old).create(
        name="old", tenant="default", scopes=["fraud:score"]
    )
    res = _run("operations.unused_keys", runtime)
    assert res.status is Status.FAIL and res.figure.value == 1


def test_training_check_when_nothing_recorded_then_fails(runtime):
    res = _run("operations.training_in_date", runtime)
    assert res.status is Status.FAIL and "drill" in res.evidence


def test_rollback_and_rules_checks_when_run_then_pass(runtime):
    assert _run("operations.model_rollback", runtime).status is Status.PASS
    assert _run("monitoring.alert_rules_valid", runtime).status is Status.PASS
    assert _run("operations.breach_notification_deadlines", runtime).status is Status.PASS


def test_extraction_check_when_no_gateway_then_skipped(runtime):
    res = _run("monitoring.extraction_becomes_incident", runtime)
    assert res.status is Status.SKIPPED
