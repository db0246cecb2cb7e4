from __future__ import annotations

from shopguard.core.events import Alert, EventBus, Severity, persist_alerts, recent_alerts
from shopguard.core.runtime import Runtime


def _alert(topic: str = "integrity.burst", **details) -> Alert:
    return Alert(topic=topic, severity=Severity.HIGH, source="test", summary="s", details=details)


def test_publish_when_subscribers_by_topic_and_wildcard_then_each_gets_it_once() -> None:
    bus = EventBus()
    topic, everything, other = [], [], []
    bus.subscribe("integrity.burst", topic.append)
    bus.subscribe("*", everything.append)
    bus.subscribe("gateway.other", other.append)
    bus.publish(_alert())
    assert len(topic) == 1 and len(everything) == 1 and other == []


def test_publish_when_a_subscriber_raises_then_others_still_receive(caplog) -> None:
    bus = EventBus()
    got = []

    def broken(_: Alert) -> None:
        raise RuntimeError("consumer bug")

    bus.subscribe("*", broken)
    bus.subscribe("*", got.append)
    bus.publish(_alert())
    assert len(got) == 1
    assert any("subscriber failed" in r.getMessage() for r in caplog.records)


def test_unsubscribe_when_called_then_no_more_alerts() -> None:
    bus = EventBus()
    got = []
    stop = bus.subscribe("*", got.append)
    stop()
    bus.publish(_alert())
    assert got == []


def test_persist_alerts_when_published_then_stored_newest_first(runtime: Runtime) -> None:
    persist_alerts(runtime.bus, runtime.engine)  # the runtime already persists; a second sink doubles
    runtime.bus.publish(_alert("a.first", n=1))
    runtime.bus.publish(_alert("a.second", n=2))
    rows = recent_alerts(runtime.engine, limit=10)
    topics = [r["topic"] for r in rows]
    assert topics[:4] == ["a.second", "a.second", "a.first", "a.first"]
    assert rows[0]["details"] == {"n": 2} and rows[0]["severity"] == "high"
