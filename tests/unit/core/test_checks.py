from __future__ import annotations

from shopguard.core.audit import AuditEvent, AuditLog, VerifyReport
from shopguard.core.checks import AuditChainIntact, AuditTamperDetected
from shopguard.core.runtime import Runtime
from shopguard.core.scorecard import CheckContext, Status


def _fill(rt: Runtime) -> None:
    for i in range(9):
        rt.audit.append(AuditEvent(action="x", decision="deny" if i % 2 else "allow"))


def test_tamper_check_when_log_mixed_then_all_four_tamperings_caught(runtime: Runtime) -> None:
    _fill(runtime)
    res = AuditTamperDetected().result(CheckContext({"runtime": runtime}))
    assert res.status is Status.PASS and res.figure is not None and res.figure.value == 4


def test_tamper_check_when_verification_is_blind_then_fails(runtime: Runtime, monkeypatch) -> None:
    _fill(runtime)
    monkeypatch.setattr(AuditLog, "verify", lambda self: VerifyReport(True, 0))
    res = AuditTamperDetected().result(CheckContext({"runtime": runtime}))
    assert res.status is Status.FAIL and "missed" in res.evidence


def test_intact_check_when_log_edited_then_fails_naming_entry(runtime: Runtime) -> None:
    import sqlalchemy as sa

    _fill(runtime)
    assert AuditChainIntact().result(CheckContext({"runtime": runtime})).status is Status.PASS
    with runtime.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET action = 'y' WHERE seq = 2"))
    res = AuditChainIntact().result(CheckContext({"runtime": runtime}))
    assert res.status is Status.FAIL and "entry 2" in res.evidence
