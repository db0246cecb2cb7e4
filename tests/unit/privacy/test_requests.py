"""Data-subject requests carry their legal deadline and raise an alert when overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shopguard.core.errors import DataValidationError, NotFoundError
from shopguard.core.events import Alert
from shopguard.core.runtime import Runtime
from shopguard.privacy.requests import (
    Law,
    RequestKind,
    RequestLedger,
    RequestStatus,
    law_for,
)

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def test_open_when_gdpr_or_ccpa_then_30_or_45_days(runtime: Runtime) -> None:
    ledger = RequestLedger(runtime.engine, clock=lambda: T0)
    g = ledger.open(tenant="t", customer_id="C1", kind=RequestKind.ERASE, law=Law.GDPR)
    c = ledger.open(tenant="t", customer_id="C2", kind=RequestKind.EXPORT, law=Law.CCPA)
    assert g.due_at - g.received_at == timedelta(days=30)
    assert c.due_at - c.received_at == timedelta(days=45)
    assert g.status is RequestStatus.OPEN


def test_law_for_when_jurisdiction_then_ccpa_for_us_only() -> None:
    assert law_for("US-CA") is Law.CCPA and law_for("US") is Law.CCPA
    assert law_for("EU") is Law.GDPR and law_for(None) is Law.GDPR


def test_overdue_when_deadline_passed_then_listed_and_alerted(runtime: Runtime) -> None:
    now = [T0]
    ledger = RequestLedger(runtime.engine, clock=lambda: now[0])
    late = ledger.open(tenant="t", customer_id="C1", kind=RequestKind.ERASE, law=Law.GDPR)
    done = ledger.open(tenant="t", customer_id="C2", kind=RequestKind.ERASE, law=Law.GDPR)
    ledger.add_step(done.request_id, "keys_shredded", keys=1)
    ledger.close(done.request_id)
    alerts: list[Alert] = []
    runtime.bus.subscribe("privacy.dsar.overdue", alerts.append)
    now[0] = T0 + timedelta(days=29)
    assert ledger.overdue(bus=runtime.bus) == []
    now[0] = T0 + timedelta(days=31)
    assert [r.request_id for r in ledger.overdue(bus=runtime.bus)] == [late.request_id]
    assert [a.topic for a in alerts] == ["privacy.dsar.overdue"]
    closed = ledger.get(done.request_id)
    assert closed.status is RequestStatus.COMPLETED
    assert closed.steps[0]["step"] == "keys_shredded" and closed.steps[0]["keys"] == 1


def test_ledger_when_bad_input_then_clear_errors(runtime: Runtime) -> None:
    ledger = RequestLedger(runtime.engine)
    with pytest.raises(NotFoundError):
        ledger.get("dsr_nope")
    with pytest.raises(NotFoundError):
        ledger.close("dsr_nope")
    with pytest.raises(DataValidationError):
        ledger.open(tenant="t", customer_id="C", kind=RequestKind.ERASE, law=Law.GDPR,
                    received_at=datetime(2026, 1, 1))  # fmt: skip
