from __future__ import annotations

from datetime import timedelta

import pytest

from shopguard.core.errors import DataValidationError
from shopguard.core.events import Alert
from shopguard.governance.roles import Role
from shopguard.governance.threats import Threat
from shopguard.governance.training import (
    REQUIRED,
    DrillResult,
    TrainingRegister,
    tabletop_script,
)

PW = "tulip-harbour-47-quietly"


@pytest.fixture
def reg(runtime, clock, staff):
    return TrainingRegister.from_runtime(runtime, staff=staff, clock=clock)


def test_required_when_every_role_then_awareness_course_required():
    assert set(REQUIRED) == set(Role)
    assert all("security-awareness" in courses for courses in REQUIRED.values())


def test_status_when_course_ages_then_ok_expiring_overdue(reg, staff, clock):
    staff.add("ann", display_name="Ann", role=Role.AUDITOR, password=PW)
    assert {s.state for s in reg.status()} == {"missing"}
    reg.record("ann", "security-awareness")
    reg.record("ann", "privacy-gdpr")
    assert {s.state for s in reg.status()} == {"ok"}
    clock.advance(days=340)
    assert {s.state for s in reg.status()} == {"expiring"}
    clock.advance(days=30)
    assert {s.state for s in reg.status()} == {"overdue"}


def test_alert_overdue_when_training_missing_or_drill_never_run_then_one_alert(reg, staff, runtime):
    seen: list[Alert] = []
    runtime.bus.subscribe("ops.training.overdue", seen.append)
    staff.add("ann", display_name="Ann", role=Role.AUDITOR, password=PW)
    assert reg.alert_overdue() == 2 + 2  # two courses, two drill kinds
    assert seen[0].details["people"] == ["ann"] and set(seen[0].details["drills"]) == {
        "tabletop",
        "live",
    }


def test_drills_when_recorded_then_due_after_interval(reg, clock):
    reg.record_drill(DrillResult("live", "extraction", 4.2, 0.1, True, "ok"))
    assert reg.drill_status()["live"]["overdue"] is False
    clock.advance(days=91)
    assert reg.drill_status()["live"]["overdue"] is True
    with pytest.raises(DataValidationError):
        reg.record_drill(DrillResult("chaos", "x", None, None, True, ""))


def test_record_when_unknown_course_or_future_date_then_refused(reg, staff, clock):
    staff.add("ann", display_name="Ann", role=Role.AUDITOR, password=PW)
    with pytest.raises(DataValidationError):
        reg.record("ann", "basket-weaving")
    with pytest.raises(DataValidationError):
        reg.record("ann", "phishing", completed_at=clock() + timedelta(days=1))


def test_tabletop_script_when_breach_then_walks_every_step_including_72h():
    script = tabletop_script(Threat.DATA_BREACH)
    assert any("72 hours" in line for line in script)
    assert len(script) == 2 + 7
