from __future__ import annotations

import pyotp
import pytest

from shopguard.core.errors import AuthenticationError, AuthorizationError, DataValidationError
from shopguard.core.events import Alert
from shopguard.core.runtime import Runtime
from shopguard.governance.passwords import PasswordPolicy, is_breached
from shopguard.governance.roles import PRIVILEGED, ROLE_SCOPES, Role
from shopguard.governance.staff import StaffDirectory

PW = "tulip-harbour-47-quietly"


def _enrol(staff: StaffDirectory, clock, username: str) -> pyotp.TOTP:
    enrol = staff.begin_mfa(username)
    totp = pyotp.TOTP(enrol.secret)
    staff.confirm_mfa(username, totp.at(clock()))
    clock.advance(seconds=30)
    return totp


def test_breached_list_when_common_password_then_found_and_rare_not():
    assert is_breached("password") and is_breached("Dragon") and is_breached("qwerty")
    assert not is_breached("tulip-harbour-47-quietly")


@pytest.mark.parametrize(
    "password", ["short", "baseball1234", "aaaaaaaaaaaaaaaa", "alice-is-my-name-2026"]
)
def test_policy_when_weak_password_then_refused_naming_rule_not_value(password):
    with pytest.raises(DataValidationError) as err:
        PasswordPolicy().check(password, username="alice")
    assert password not in str(err.value)


def test_roles_when_privileged_then_admin_security_ml_privacy_and_auditor_read_only():
    assert Role.ANALYST not in PRIVILEGED and Role.AUDITOR not in PRIVILEGED
    assert {
        Role.ADMIN,
        Role.SECURITY_ENGINEER,
        Role.ML_ENGINEER,
        Role.PRIVACY_OFFICER,
    } <= PRIVILEGED
    assert all(s.endswith(":read") for s in ROLE_SCOPES[Role.AUDITOR])


def test_add_when_password_stored_then_argon2id_hash_only(staff: StaffDirectory, runtime: Runtime):
    import sqlalchemy as sa

    staff.add("alice", display_name="Alice", role=Role.ANALYST, password=PW)
    with runtime.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM ops_staff")).scalar_one()
    assert stored.startswith("$argon2id$") and PW not in stored


def test_login_when_analyst_with_password_then_session_with_role_scopes(staff, clock):
    staff.add("alice", display_name="Alice", role=Role.ANALYST, password=PW)
    session = staff.login("alice", PW)
    assert staff.authenticate(session.token).scopes == ROLE_SCOPES[Role.ANALYST]
    assert PW not in repr(session) and session.token not in repr(session)


def test_login_when_privileged_without_mfa_then_refused(staff):
    staff.add("root", display_name="Root", role=Role.ADMIN, password=PW)
    with pytest.raises(AuthenticationError, match="multi-factor"):
        staff.login("root", PW)
    assert [m.username for m in staff.needs_mfa()] == ["root"]


def test_login_when_totp_right_then_allowed_and_replay_refused(staff, clock):
    staff.add("root", display_name="Root", role=Role.ADMIN, password=PW)
    totp = _enrol(staff, clock, "root")
    code = totp.at(clock())
    staff.login("root", PW, code=code)
    with pytest.raises(AuthenticationError, match="already used"):
        staff.login("root", PW, code=code)
    clock.advance(seconds=30)
    staff.login("root", PW, code=totp.at(clock()))


def test_login_when_totp_wrong_or_missing_then_refused(staff, clock):
    staff.add("root", display_name="Root", role=Role.ADMIN, password=PW)
    totp = _enrol(staff, clock, "root")
    wrong = f"{(int(totp.at(clock())) + 1) % 1_000_000:06d}"
    for code in (wrong, None, "12ab56"):
        with pytest.raises(AuthenticationError):
            staff.login("root", PW, code=code)


def test_recovery_code_when_used_then_works_once(staff, clock):
    staff.add("root", display_name="Root", role=Role.ADMIN, password=PW)
    enrol = staff.begin_mfa("root")
    staff.confirm_mfa("root", pyotp.TOTP(enrol.secret).at(clock()))
    code = enrol.recovery_codes[0]
    staff.login("root", PW, recovery_code=code.lower())
    with pytest.raises(AuthenticationError, match="recovery code"):
        staff.login("root", PW, recovery_code=code)
    assert staff.recovery_codes_left("root") == 9


def test_brute_force_when_threshold_reached_then_locked_with_back_off_and_alert(
    staff, clock, runtime
):
    seen: list[Alert] = []
    runtime.bus.subscribe("ops.staff.lockout", seen.append)
    staff.add("alice", display_name="Alice", role=Role.ANALYST, password=PW)
    for _ in range(staff.lockout_threshold):
        with pytest.raises(AuthenticationError, match="invalid"):
            staff.login("alice", "not-the-password-at-all")
    # Locked: even the right password is refused until the back-off passes.
    with pytest.raises(AuthenticationError, match="locked"):
        staff.login("alice", PW)
    assert seen and seen[0].details["username"] == "alice"
    clock.advance(seconds=61)
    with pytest.raises(AuthenticationError, match="invalid"):
        staff.login("alice", "still-wrong-password")
    with pytest.raises(AuthenticationError, match=r"retry in 1[12]\d s"):
        staff.login("alice", PW)  # the second lock lasts twice as long
    clock.advance(seconds=121)
    staff.login("alice", PW)
    assert staff.get("alice").locked_until is None


def test_brute_force_when_audited_then_every_refusal_recorded_without_secret(staff, runtime):
    staff.add("alice", display_name="Alice", role=Role.ANALYST, password=PW)
    with pytest.raises(AuthenticationError):
        staff.login("alice", "guess-number-one-xx")
    runtime.audit.close()
    recs = [r for r in runtime.audit.records() if r.action == "staff.login"]
    assert recs[-1].decision == "deny" and recs[-1].findings == ("bad_password",)
    assert all("guess-number-one-xx" not in str(r.to_json()) for r in recs)


def test_session_when_expired_or_idle_then_refused(staff, clock):
    staff.add("alice", display_name="Alice", role=Role.ANALYST, password=PW)
    s = staff.login("alice", PW)
    clock.advance(seconds=staff.session_idle.total_seconds() + 1)
    with pytest.raises(AuthenticationError, match="inactivity"):
        staff.authenticate(s.token)
    s2 = staff.login("alice", PW)
    for _ in range(20):
        clock.advance(minutes=25)
        if clock() >= s2.expires_at:
            break
        staff.authenticate(s2.token)
    with pytest.raises(AuthenticationError, match="expired"):
        staff.authenticate(s2.token)


def test_last_admin_when_disabled_or_demoted_then_refused(staff):
    staff.add("root", display_name="Root", role=Role.ADMIN, password=PW)
    with pytest.raises(AuthorizationError, match="last enabled admin"):
        staff.disable("root")
    with pytest.raises(AuthorizationError, match="last enabled admin"):
        staff.set_role("root", Role.ANALYST)
    staff.add("root2", display_name="Second", role=Role.ADMIN, password=PW)
    staff.disable("root")
    assert not staff.get("root").active


def test_recover_admin_when_last_admin_locked_then_unlocked_with_new_mfa_and_alert(
    staff, clock, runtime
):
    seen: list[Alert] = []
    runtime.bus.subscribe("*", seen.append)
    staff.add("root", display_name="Root", role=Role.ADMIN, password=PW)
    _enrol(staff, clock, "root")
    for _ in range(staff.lockout_threshold):
        with pytest.raises(AuthenticationError):
            staff.login("root", "wrong-password-here")
    enrol = staff.recover_admin("root", "new-lantern-orchard-93", operator="host-operator")
    staff.confirm_mfa("root", pyotp.TOTP(enrol.secret).at(clock()))
    clock.advance(seconds=30)
    staff.login("root", "new-lantern-orchard-93", code=pyotp.TOTP(enrol.secret).at(clock()))
    assert any(a.topic == "ops.staff.recover_admin" for a in seen)


def test_break_glass_when_granted_then_admin_scopes_until_expiry_and_critical_alert(
    staff, clock, runtime
):
    seen: list[Alert] = []
    runtime.bus.subscribe("ops.break_glass", seen.append)
    staff.add("eve", display_name="Eve", role=Role.ML_ENGINEER, password=PW)
    totp = _enrol(staff, clock, "eve")
    s = staff.login("eve", PW, code=totp.at(clock()))
    assert "*" not in staff.authenticate(s.token).scopes
    elevated = staff.break_glass(s.token, reason="roll back poisoned model at 3am", duration_s=600)
    assert "*" in elevated.scopes and seen[0].severity == "critical"
    clock.advance(seconds=601)
    assert "*" not in staff.authenticate(s.token).scopes


def test_break_glass_when_too_long_or_no_reason_then_refused(staff, clock):
    staff.add("alice", display_name="Alice", role=Role.ANALYST, password=PW)
    s = staff.login("alice", PW)
    with pytest.raises(DataValidationError):
        staff.break_glass(s.token, reason="because", duration_s=600)
    with pytest.raises(DataValidationError):
        staff.break_glass(s.token, reason="a long enough reason", duration_s=10 * 3600)
