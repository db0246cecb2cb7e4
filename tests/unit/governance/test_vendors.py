"""Vendor risk register: scoring, clauses, monitoring over time, alerts, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shopguard.core.errors import DataValidationError, NotFoundError
from shopguard.core.events import Alert
from shopguard.governance.vendors import (
    QUESTIONS,
    Answer,
    Clause,
    RiskLevel,
    VendorRegister,
    score_questionnaire,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
GOOD = {q.id: (Answer.YES if q.good is Answer.YES else Answer.NO).value for q in QUESTIONS}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def register(runtime, clock):
    return VendorRegister(runtime.engine, audit=runtime.audit, bus=runtime.bus, clock=clock)


def _add(register, vid="llm", **kw):
    args = {
        "vendor_id": vid,
        "name": "Example LLM API",
        "supplies": "hosted LLM for the assistant",
        "personal_data": ["free_text", "order_history"],
        "depends": {"models": ["assistant"]},
        "clauses": [c.value for c in Clause],
        "breach_notification_hours": 48,
        "certifications": [("ISO/IEC 27001", "2026-12-31")],
        **kw,
    }
    return register.add(**args)


def test_score_when_all_good_then_full_score_and_pass():
    a = score_questionnaire(GOOD)
    assert a.score == 1.0 and a.complete and a.passed


def test_score_when_answer_missing_then_zero_weight_kept_and_incomplete_never_pass():
    partial = dict(GOOD)
    del partial["ir.plan"]
    partial["cert.pentest"] = None
    a = score_questionnaire(partial)
    assert not a.complete and not a.passed
    assert set(a.missing) == {"ir.plan", "cert.pentest"}
    total = sum(q.weight for q in QUESTIONS)
    assert a.score == pytest.approx((total - 2 - 1) / total, abs=1e-4)


def test_score_when_all_missing_then_zero_not_pass():
    a = score_questionnaire({})
    assert a.score == 0.0 and not a.passed and len(a.missing) == len(QUESTIONS)


def test_score_when_vendor_trains_on_our_data_then_critical_failure():
    a = score_questionnaire({**GOOD, "ai.trains_on_our_data": "yes"})
    assert a.critical_failed == ("ai.trains_on_our_data",)
    assert not a.passed


def test_score_when_na_then_question_dropped_only_where_allowed():
    a = score_questionnaire({**GOOD, "ai.retention": "n/a"})
    assert a.score == 1.0 and a.complete
    with pytest.raises(DataValidationError, match=r"enc\.transit"):
        score_questionnaire({**GOOD, "enc.transit": "n/a"})


@pytest.mark.parametrize(
    ("answers", "needle"),
    [({"nope.q": "yes"}, "unknown question"), ({"ac.mfa": "maybe"}, "ac.mfa")],
)
def test_score_when_bad_answers_then_error_names_question(answers, needle):
    with pytest.raises(DataValidationError, match=needle):
        score_questionnaire(answers)


def test_register_when_clauses_missing_or_slow_breach_notice_then_listed(register):
    v = _add(register, clauses=["data_processing_agreement"], breach_notification_hours=96)
    missing = set(v.missing_clauses)
    assert Clause.BREACH_NOTIFICATION in missing and Clause.AUDIT_RIGHTS in missing
    assert Clause.DATA_PROCESSING_AGREEMENT not in missing


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"vendor_id": "Bad Id!"}, "vendor id"),
        ({"personal_data": ["dna"]}, "personal data category"),
        ({"clauses": ["dpa"]}, "contract clause"),
        ({"certifications": [("SOC 2", "next year")]}, "ISO date"),
        ({"depends": {"servers": ["x"]}}, "depends"),
    ],
)
def test_register_when_bad_input_then_clear_error_and_nothing_stored(register, kw, needle):
    with pytest.raises(DataValidationError, match=needle):
        _add(register, **kw)
    assert register.all() == []


def test_rating_when_assessed_well_then_low_and_due_in_a_year(register):
    _add(register)
    register.assess("llm", GOOD)
    r = register.rate("llm")
    assert r.level is RiskLevel.LOW and not r.overdue
    assert r.reassess_due.startswith("2027-01-01")


def test_rating_when_never_assessed_then_overdue_and_riskier_than_assessed(register):
    _add(register, "a")
    _add(register, "b")
    register.assess("b", GOOD)
    ra, rb = register.rate("a"), register.rate("b")
    assert ra.overdue and "never assessed" in ra.reasons
    assert ra.risk > rb.risk


def test_rating_when_time_passes_then_overdue_expired_and_level_rises(register, clock):
    _add(register)
    register.assess("llm", GOOD)
    fresh = register.rate("llm")
    later = register.rate("llm", at=T0 + timedelta(days=400))
    assert later.overdue and later.expired_certifications == ("ISO/IEC 27001",)
    assert later.risk > fresh.risk and later.level.rank > fresh.level.rank


def test_rating_when_incidents_recorded_then_rises_and_fades_over_a_year(register, clock):
    _add(register)
    register.assess("llm", GOOD)
    base = register.rate("llm").risk
    after = register.record_event(
        "llm", kind="incident", severity="critical", summary="prompt log leak"
    )
    assert after.risk > base
    register.record_event("llm", kind="sla_breach", severity="low", summary="4h outage")
    assert register.rate("llm").risk > after.risk
    faded = register.rate("llm", at=T0 + timedelta(days=364))
    assert faded.risk < after.risk


def test_monitor_when_overdue_and_degraded_then_alerts_on_bus_and_audited(register, runtime, clock):
    seen: list[Alert] = []
    runtime.bus.subscribe("governance.vendor", seen.append)
    _add(register)
    register.assess("llm", GOOD)
    assert register.monitor() == []
    clock.now = T0 + timedelta(days=400)
    alerts = register.monitor()
    reasons = {a.details["reason"] for a in alerts}
    assert {"overdue", "certification_expired", "degraded"} <= reasons
    assert [a.summary for a in seen] == [a.summary for a in alerts]
    history = register.history("llm")
    assert history[-1][2].rank > history[0][2].rank
    runtime.audit.close()
    actions = [r.action for r in runtime.audit.records()]
    assert "vendor.assess" in actions and "vendor.alert" in actions


def test_assess_when_incomplete_then_stored_as_incomplete_and_rated_worse(register):
    _add(register, "full")
    _add(register, "gappy")
    register.assess("full", GOOD)
    half = {k: v for i, (k, v) in enumerate(GOOD.items()) if i % 2 == 0}
    result = register.assess("gappy", half)
    assert not result.complete
    stored = register.latest_assessment("gappy")
    assert stored is not None and not stored.complete and stored.missing == result.missing
    assert register.rate("gappy").risk > register.rate("full").risk


def test_get_when_unknown_vendor_then_not_found(register):
    with pytest.raises(NotFoundError):
        register.get("ghost")
    with pytest.raises(NotFoundError):
        register.assess("ghost", GOOD)


def test_event_when_bad_kind_or_severity_then_rejected(register):
    _add(register)
    with pytest.raises(DataValidationError, match="kind"):
        register.record_event("llm", kind="outage", severity="low", summary="x")
    with pytest.raises(DataValidationError, match="severity"):
        register.record_event("llm", kind="incident", severity="huge", summary="x")
    assert register.events("llm") == []
