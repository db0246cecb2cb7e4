from __future__ import annotations

from datetime import timedelta

import pytest

from shopguard.core.errors import AuthenticationError, DataValidationError, NotFoundError
from shopguard.core.events import Alert, Severity
from shopguard.core.runtime import Runtime
from shopguard.gateway.keys import ApiKeyStore
from shopguard.governance.incidents import IncidentDesk, Status
from shopguard.governance.notify import AlertRouter, Delivery
from shopguard.governance.playbooks import PLAYBOOKS, Containment, Phase
from shopguard.governance.threats import Threat, threat_of


class _Sink:
    name = "memory"

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    def send(self, subject, payload):
        self.sent.append((subject, dict(payload)))


def _desk(runtime: Runtime, clock, sink=None) -> IncidentDesk:
    router = AlertRouter([sink], min_severity=Severity.HIGH) if sink else None
    desk = IncidentDesk.from_runtime(
        runtime, clock=clock, router=router, group_window=timedelta(hours=1)
    )
    desk.attach(runtime.bus)
    return desk


def _extraction(key_id: str = "abc", n: int = 1000, sev=Severity.HIGH) -> Alert:
    return Alert(
        topic="modelsec.extraction.suspected",
        severity=sev,
        source="modelsec.extraction_watch",
        summary="query pattern matches model extraction",
        details={"key_id": key_id, "queries": n},
    )


def test_playbooks_when_listed_then_one_per_threat_with_every_phase():
    assert set(PLAYBOOKS) == set(Threat)
    for pb in PLAYBOOKS.values():
        assert {s.phase for s in pb.steps} == set(Phase)
        assert any(s.action for s in pb.steps if s.phase == Phase.CONTAIN)


@pytest.mark.parametrize(
    ("topic", "threat"),
    [
        ("modelsec.extraction.suspected", Threat.EXTRACTION),
        ("integrity.reviews.poisoning", Threat.POISONING),
        ("assistant.prompt_injection", Threat.PROMPT_INJECTION),
        ("privacy.leak", Threat.DATA_BREACH),
        ("gateway.guard.failed", Threat.AVAILABILITY),
        ("ops.break_glass", Threat.INSIDER_MISUSE),
    ],
)
def test_threat_of_when_topic_known_then_mapped(topic, threat):
    assert threat_of(topic) is threat


def test_ingest_when_alert_published_then_incident_with_playbook_opened(runtime, clock):
    desk = _desk(runtime, clock)
    runtime.bus.publish(_extraction())
    (inc,) = desk.incidents()
    assert inc.threat is Threat.EXTRACTION and inc.status is Status.OPEN
    assert [s["id"] for s in inc.steps] == [s.id for s in PLAYBOOKS[Threat.EXTRACTION].steps]
    assert not inc.personal_data and inc.notify_deadline is None


def test_ingest_when_duplicates_and_same_culprit_then_grouped_and_deduplicated(runtime, clock):
    desk = _desk(runtime, clock)
    for _ in range(5):
        runtime.bus.publish(_extraction())
    runtime.bus.publish(_extraction(n=2000))  # same key, new figures: same incident
    runtime.bus.publish(_extraction(key_id="other"))  # another culprit: a new incident
    a, b = desk.incidents()
    assert a.alert_count == 6 and b.alert_count == 1
    alerts = [e for e in desk.timeline(a.id) if e.kind == "alert"]
    assert len(alerts) == 2  # five identical alerts are one timeline entry


def test_ingest_when_group_window_passed_then_new_incident(runtime, clock):
    desk = _desk(runtime, clock)
    runtime.bus.publish(_extraction())
    clock.advance(hours=2)
    runtime.bus.publish(_extraction())
    assert len(desk.incidents()) == 2


def test_severity_when_worse_alert_then_escalated_and_routed_again(runtime, clock):
    sink = _Sink()
    desk = _desk(runtime, clock, sink)
    runtime.bus.publish(_extraction(sev=Severity.WARNING))
    assert sink.sent == []  # below the routing threshold
    runtime.bus.publish(_extraction(sev=Severity.CRITICAL))
    (inc,) = desk.incidents()
    assert inc.severity is Severity.CRITICAL
    assert len(sink.sent) == 1 and "CRITICAL" in sink.sent[0][0]
    assert sink.sent[0][1]["threat"] == "extraction"


def test_data_breach_when_opened_then_72h_deadline_tracked_and_overdue(runtime, clock):
    desk = _desk(runtime, clock)
    runtime.bus.publish(
        Alert("privacy.leak.detected", Severity.WARNING, "privacy.output_filter", "PII left")
    )
    (inc,) = desk.incidents()
    assert inc.personal_data and inc.severity is Severity.HIGH
    assert inc.notify_deadline == (clock() + timedelta(hours=72)).isoformat()
    clock.advance(hours=71)
    assert desk.overdue_notifications() == []
    clock.advance(hours=2)
    assert [i.id for i in desk.overdue_notifications()] == [inc.id]
    desk.mark_notified(inc.id, actor="staff:dpo", reference="ICO-123")
    assert desk.overdue_notifications() == []
    assert "MISSED" in desk.report(inc.id)


def test_run_action_when_revoke_key_then_key_refused_and_timeline_records_it(runtime, clock):
    keys = ApiKeyStore(runtime.engine, runtime.keyring, cache_ttl=0)
    issued = keys.create(name="scraper", tenant="default", scopes=["recommendations:read"])
    desk = _desk(runtime, clock)
    runtime.bus.publish(_extraction(key_id=issued.record.key_id))
    (inc,) = desk.incidents()
    keys.authenticate(issued.secret)  # works before containment
    desk.run_action(inc.id, "revoke-key", actor="staff:sec", target=issued.record.key_id)
    with pytest.raises(AuthenticationError):
        keys.authenticate(issued.secret)
    inc = desk.get(inc.id)
    assert inc.status is Status.CONTAINED
    assert next(s for s in inc.steps if s["id"] == "revoke-key")["done"]
    assert [e.kind for e in desk.timeline(inc.id)][-1] == "action"
    report = desk.report(inc.id)
    assert "revoked API key" in report and "[x] **contain**" in report


def test_run_action_when_step_has_no_action_or_unknown_then_refused(runtime, clock):
    desk = _desk(runtime, clock)
    runtime.bus.publish(_extraction())
    (inc,) = desk.incidents()
    with pytest.raises(DataValidationError):
        desk.run_action(inc.id, "review-limits", actor="x", target="y")
    with pytest.raises(NotFoundError):
        desk.run_action(inc.id, "no-such-step", actor="x", target="y")


def test_block_and_freeze_when_contained_then_visible_to_guard_and_liftable(runtime):
    c = Containment(runtime.engine, runtime.keyring, runtime.settings.models_dir, cache_ttl=0)
    c.block("client:abc")
    c.freeze("reviews")
    assert c.is_blocked("client:abc") and c.is_frozen("reviews")
    assert not c.is_blocked("client:other")
    assert c.lift("block", "client:abc") == 1 and not c.is_blocked("client:abc")
    with pytest.raises(DataValidationError):
        c.freeze("everything")


def test_router_when_one_sink_fails_then_others_still_delivered():
    class Broken:
        name = "broken"

        def send(self, subject, payload):
            raise ConnectionError("down")

    good = _Sink()
    out = AlertRouter([Broken(), good]).route("s", {"id": 1})
    assert out == [Delivery("broken", False, "ConnectionError"), Delivery("memory", True)]
    assert good.sent


def test_webhook_when_plain_http_to_remote_host_then_refused():
    from shopguard.core.errors import ConfigError
    from shopguard.governance.notify import WebhookSink

    with pytest.raises(ConfigError, match="https"):
        WebhookSink("http://hooks.example.com/x")
    WebhookSink("https://hooks.example.com/x")
    WebhookSink("http://127.0.0.1:9000/x")
