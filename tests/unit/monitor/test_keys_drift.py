from __future__ import annotations

import numpy as np
import pytest

from shopguard.core.audit import AuditEvent
from shopguard.core.errors import DataValidationError
from shopguard.core.events import Alert
from shopguard.monitor.drift import ModelWatch, psi
from shopguard.monitor.series import SeriesStore
from shopguard.monitor.watch import Monitor


def _requests(runtime, key: str, targets: list[str], decision: str = "allow") -> None:
    for t in targets:
        runtime.audit.submit(
            AuditEvent(
                action="GET /v1/recommendations/{customer_id}",
                decision=decision,
                principal=key,
                target=f"customer:{t}",
                details={"route": "recommendations.read"},
            )
        )
    runtime.audit.append(AuditEvent(action="flush", decision="allow"))


def test_monitor_when_key_enumerates_customers_then_extraction_alert(runtime):
    seen: list[Alert] = []
    runtime.bus.subscribe("*", seen.append)
    mon = Monitor(bus=runtime.bus, audit=runtime.audit)
    # Peers behave: a few requests over few customers.
    for k in ("storefront-a", "storefront-b", "storefront-c"):
        _requests(runtime, k, [f"c{i % 7}" for i in range(30)])
    mon.tick()
    assert not [a for a in seen if a.topic.startswith("monitor.rule.ShopguardKey")]
    _requests(runtime, "scraper", [f"c{i}" for i in range(400)])
    mon.tick()
    fired = {a.topic for a in seen}
    assert "monitor.rule.ShopguardKeyEnumeration" in fired
    assert "monitor.rule.ShopguardKeyVolumeAnomaly" in fired
    assert all(a.details["key_id"] == "scraper" for a in seen if "ShopguardKey" in a.topic)


def test_psi_when_same_distribution_then_small_and_when_shifted_then_large():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=5000)
    assert psi(ref, rng.normal(size=2000)) < 0.05
    assert psi(ref, rng.normal(loc=1.0, size=2000)) > 0.25


def test_model_watch_when_outputs_shift_and_accuracy_drops_then_rules_fire():
    from shopguard.core.events import EventBus
    from shopguard.monitor.rules import RuleEngine

    rng = np.random.default_rng(1)
    store = SeriesStore()
    bus = EventBus()
    seen: list[Alert] = []
    bus.subscribe("*", seen.append)
    watch = ModelWatch(
        "fraud",
        reference_inputs={"amount": rng.lognormal(3, 1, 5000)},
        reference_scores=rng.beta(1, 20, 5000),
        baseline_accuracy=0.95,
        sink=store.add,
        clock=lambda: 100.0,
    )
    watch.observe_inputs({"amount": rng.lognormal(3, 1, 1000)})
    watch.observe_outputs(rng.beta(1, 20, 1000))
    y = rng.integers(0, 2, 500)
    watch.observe_labels(y, y)
    engine = RuleEngine.builtin(store, bus=bus)
    assert engine.evaluate(100.0) == []
    watch.observe_inputs({"amount": rng.lognormal(4, 1, 1000)})  # poisoned / drifted inputs
    watch.observe_outputs(rng.beta(2, 5, 1000))
    watch.observe_labels(y, 1 - y)
    engine.evaluate(100.0)
    assert {a.topic for a in seen} == {
        "monitor.rule.ShopguardDataDrift",
        "monitor.rule.ShopguardOutputShift",
        "monitor.rule.ShopguardAccuracyDrop",
    }
    assert all(a.details["threat"] == "poisoning" for a in seen)


def test_model_watch_when_unknown_feature_then_refused():
    w = ModelWatch("m", reference_inputs={"a": np.arange(100)}, reference_scores=np.arange(100))
    with pytest.raises(DataValidationError):
        w.observe_inputs({"b": [1, 2, 3]})


def test_monitor_render_when_scraped_by_prometheus_then_same_rules_fire(runtime):
    from shopguard.core.events import EventBus
    from shopguard.monitor.rules import RuleEngine

    mon = Monitor(bus=runtime.bus, audit=runtime.audit)
    _requests(runtime, "scraper", [f"c{i}" for i in range(250)])
    mon.tick()
    text = mon.render().decode()
    assert 'shopguard_monitor_key_distinct_targets{key_id="scraper"} 250.0' in text
    # What a Prometheus server would do with the scrape: the same rule file fires.
    store = SeriesStore()
    store.ingest(text, 1000.0)
    bus = EventBus()
    seen: list[Alert] = []
    bus.subscribe("*", seen.append)
    RuleEngine.builtin(store, bus=bus).evaluate(1000.0)
    assert "monitor.rule.ShopguardKeyEnumeration" in {a.topic for a in seen}
