"""The served models' drift feed: routes append, the monitor drains, the rules fire."""

from __future__ import annotations

import numpy as np

from shopguard.core.events import Alert, EventBus
from shopguard.monitor.feed import ModelFeed
from shopguard.monitor.series import SeriesStore
from shopguard.monitor.watch import Monitor


def _feed(feed: ModelFeed, rng: np.random.Generator, n: int, *, loc: float, score: float) -> None:
    for x in rng.normal(loc=loc, size=n):
        feed.observe("fraud", {"amount": float(x)}, float(np.clip(rng.normal(score, 0.05), 0, 1)))


def test_feed_when_first_window_then_reference_and_nothing_judged() -> None:
    feed = ModelFeed(window=100)
    store = SeriesStore()
    _feed(feed, np.random.default_rng(0), 150, loc=0.0, score=0.2)
    assert feed.drain(store.add) == []
    assert feed.pending("fraud") == 0
    assert "shopguard_monitor_drift_psi" not in store.names()


def test_feed_when_same_traffic_then_small_psi_and_when_shifted_then_large() -> None:
    rng = np.random.default_rng(1)
    feed = ModelFeed(window=400)
    store = SeriesStore()
    _feed(feed, rng, 800, loc=0.0, score=0.2)
    same = {f.name: f.value for f in feed.drain(store.add)}
    assert same["amount"] < 0.25 and same["output_shift"] < 0.25  # under the alert line
    _feed(feed, rng, 400, loc=2.0, score=0.7)
    shifted = {f.name: f.value for f in feed.drain(store.add)}
    assert shifted["amount"] > 0.25 and shifted["output_shift"] > 0.25


def test_feed_when_more_than_max_pending_then_oldest_dropped() -> None:
    feed = ModelFeed(window=50, max_pending=60)
    _feed(feed, np.random.default_rng(2), 100, loc=0.0, score=0.2)
    assert feed.pending("fraud") == 60


def test_monitor_when_fed_model_drifts_then_drift_and_output_shift_alerts() -> None:
    bus = EventBus()
    seen: list[Alert] = []
    bus.subscribe("*", seen.append)
    feed = ModelFeed(window=300)
    mon = Monitor(bus=bus, feed=feed)
    rng = np.random.default_rng(3)
    _feed(feed, rng, 600, loc=0.0, score=0.2)
    mon.tick()
    assert not [a for a in seen if a.topic.startswith("monitor.rule.Shopguard")]
    _feed(feed, rng, 300, loc=3.0, score=0.8)
    mon.tick()
    fired = {a.topic: a for a in seen}
    assert "monitor.rule.ShopguardDataDrift" in fired
    assert fired["monitor.rule.ShopguardOutputShift"].details["model"] == "fraud"
    assert b"shopguard_monitor_output_shift_psi" in mon.render()


def test_feed_when_late_labels_disagree_then_accuracy_drop_alert() -> None:
    bus = EventBus()
    seen: list[Alert] = []
    bus.subscribe("*", seen.append)
    feed = ModelFeed(window=100)
    mon = Monitor(bus=bus, feed=feed)
    for i in range(300):
        feed.predicted("fraud", f"t{i}", i % 4 == 0)
    feed.label("fraud", "unknown-payment", True)
    for i in range(100):  # the baseline window: the decisions were right
        feed.label("fraud", f"t{i}", i % 4 == 0)
    mon.tick()
    assert feed.unmatched_labels == 1
    assert not [a for a in seen if a.topic == "monitor.rule.ShopguardAccuracyDrop"]
    for i in range(100, 200):  # then a fifth of them are wrong
        feed.label("fraud", f"t{i}", (i % 4 == 0) != (i % 5 == 0))
    mon.tick()
    (drop,) = [a for a in seen if a.topic == "monitor.rule.ShopguardAccuracyDrop"]
    assert drop.details["model"] == "fraud" and abs(drop.details["value"] - 0.2) < 1e-9


def test_monitor_jobs_when_due_then_run_once_per_period() -> None:
    now = [1000.0]
    runs: list[float] = []
    mon = Monitor(bus=EventBus(), jobs=[(60.0, lambda: runs.append(now[0]))], clock=lambda: now[0])
    for t in (1000.0, 1030.0, 1060.0, 1061.0, 1200.0):
        now[0] = t
        mon.tick()
    assert runs == [1000.0, 1060.0, 1200.0]
