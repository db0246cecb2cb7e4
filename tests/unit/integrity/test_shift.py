from __future__ import annotations

import numpy as np
import pytest

from shopguard.core.errors import ModelError
from shopguard.core.events import Alert, EventBus
from shopguard.integrity.shift import OutputShiftMonitor, psi_numeric


def _bus() -> tuple[EventBus, list[Alert]]:
    bus = EventBus()
    got: list[Alert] = []
    bus.subscribe("integrity.output_shift", got.append)
    return bus, got


def test_shift_when_normal_traffic_then_false_alarm_rate_near_stated() -> None:
    rng = np.random.default_rng(0)
    scores = rng.beta(1, 20, 60_000)  # fraud scores: mostly low
    mon = OutputShiftMonitor("fraud.score", window=500, false_alarm_rate=0.01).fit(
        scores[:10_000], scores[10_000:20_000]
    )
    bus, got = _bus()
    normal = scores[20_000:]
    alarms = [mon.observe(normal[i : i + 500], bus).alarm for i in range(0, len(normal), 500)]
    assert np.mean(alarms) <= 0.03 and len(got) == sum(alarms)


def test_shift_when_poisoned_model_lets_fraud_through_then_alert_published() -> None:
    rng = np.random.default_rng(1)
    normal = rng.beta(1, 20, 20_000)
    mon = OutputShiftMonitor("fraud.score", window=500).fit(normal[:10_000], normal[10_000:])
    # Replay: after label poisoning the model scores a whole fraud pattern (15 % of
    # traffic) near zero and the rest slightly lower -- a sudden, unexplained slide.
    poisoned = np.concatenate([rng.beta(1, 25, 425), np.full(75, 0.001)])
    bus, got = _bus()
    res = mon.observe(poisoned, bus)
    assert res.alarm and res.ks_pvalue is not None and res.ks_pvalue < 0.01
    assert got and got[0].details["monitor"] == "fraud.score" and got[0].severity == "high"


def test_shift_when_one_product_floods_top10_then_categorical_alarm() -> None:
    rng = np.random.default_rng(2)
    items = [f"P{i:03d}" for i in range(200)]
    p = 1 / np.arange(1, 201)
    p /= p.sum()
    normal = list(rng.choice(items, 20_000, p=p))
    mon = OutputShiftMonitor("recommender.top10", kind="categorical", window=1000).fit(
        normal[:10_000], normal[10_000:]
    )
    assert not mon.check(list(rng.choice(items, 1000, p=p))).alarm
    shilled = list(rng.choice(items, 900, p=p)) + ["P199"] * 100
    assert mon.check(shilled).alarm


def test_shift_when_not_fitted_then_error() -> None:
    with pytest.raises(ModelError):
        OutputShiftMonitor("x").check([0.1])
    assert psi_numeric(np.arange(100.0), np.arange(100.0)) == pytest.approx(0.0, abs=1e-9)
