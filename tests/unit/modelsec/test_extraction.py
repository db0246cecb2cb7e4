from __future__ import annotations

import asyncio

import numpy as np

from shopguard.modelsec.extraction import (
    ExtractionConfig,
    ExtractionMonitor,
    Level,
    StreamState,
    fraud_observation,
    recommendation_observation,
)


def _shopper(i: int) -> dict:
    # One customer: same signup day (timestamp - account age), similar amounts.
    day = 10 + i
    return {
        "customer_id": "C1",
        "amount": 40.0 + i,
        "timestamp": f"2025-06-{day:02d}T12:00:00",
        "account_age_days": 300 + i,
        "device_is_new": False,
        "ship_bill_mismatch": False,
        "ip_country_mismatch": False,
    }


def _random(rng: np.random.Generator, i: int) -> dict:
    return {
        "customer_id": "C-attacker",
        "amount": float(rng.uniform(1, 3000)),
        "timestamp": f"2025-06-01T{int(rng.integers(0, 24)):02d}:00:00",
        "account_age_days": int(rng.integers(0, 3650)),
        "device_is_new": bool(rng.random() < 0.5),
        "ship_bill_mismatch": bool(rng.random() < 0.5),
        "ip_country_mismatch": bool(rng.random() < 0.5),
        "card_present": bool(rng.random() < 0.5),
    }


def test_monitor_when_shopper_stream_then_stays_ok() -> None:
    monitor = ExtractionMonitor()
    state = StreamState()
    levels = [monitor.observe_sync(state, fraud_observation(_shopper(i))) for i in range(15)]
    assert max(levels) is Level.OK


def test_monitor_when_random_queries_then_alert_degrade_block_in_order() -> None:
    monitor = ExtractionMonitor()
    state = StreamState()
    rng = np.random.default_rng(0)
    levels = []
    for i in range(200):
        levels.append(monitor.observe_sync(state, fraud_observation(_random(rng, i))))
        if levels[-1] is Level.BLOCK:
            break
    assert levels[-1] is Level.BLOCK
    first = {
        lvl: levels.index(lvl) for lvl in (Level.ALERT, Level.DEGRADE, Level.BLOCK) if lvl in levels
    }
    assert first[Level.BLOCK] >= first.get(Level.DEGRADE, 0) >= first.get(Level.ALERT, 0)
    assert "inconsistent_customer" in state.reasons


def test_monitor_when_many_customers_then_identity_signal() -> None:
    cfg = ExtractionConfig()
    monitor = ExtractionMonitor(config=cfg)
    state = StreamState()
    for i in range(cfg.customers_alert):
        body = {**_shopper(0), "customer_id": f"C{i}"}
        level = monitor.observe_sync(state, fraud_observation(body))
    assert level >= Level.ALERT and "customers" in state.reasons


def test_monitor_when_prada_stream_of_tiny_perturbations_then_prada_trips() -> None:
    # Synthetic queries: a point and tiny steps around it, identity kept consistent.
    cfg = ExtractionConfig(coverage_alert=10_000, coverage_block=20_000, budget=10_000)
    monitor = ExtractionMonitor(config=cfg)
    state = StreamState()
    for i in range(60):
        body = {**_shopper(0), "amount": 40.0 + (0.01 if i % 2 else 500.0) * (i % 7)}
        monitor.observe_sync(state, fraud_observation(body))
    assert "prada" in state.reasons


def test_monitor_when_recommendations_enumerated_then_enumeration_and_customers() -> None:
    monitor = ExtractionMonitor()
    state = StreamState()
    for i in range(12):
        monitor.observe_sync(
            state, recommendation_observation({"customer_id": f"C{1000 + i}", "k": 10})
        )
    assert {"enumeration", "customers"} <= set(state.reasons)
    assert Level(state.level) is Level.BLOCK


def test_monitor_when_window_passes_then_stream_restarts() -> None:
    now = [0.0]
    monitor = ExtractionMonitor(config=ExtractionConfig(window_s=10.0), clock=lambda: now[0])
    rng = np.random.default_rng(1)

    async def run() -> tuple[Level, Level]:
        v = None
        for i in range(60):
            v = await monitor.observe("s", fraud_observation(_random(rng, i)))
        now[0] = 100.0
        fresh = await monitor.observe("s", fraud_observation(_shopper(0)))
        return v.level, fresh.level

    before, after = asyncio.run(run())
    assert before >= Level.ALERT and after is Level.OK


def test_state_when_serialised_then_round_trips_and_garbage_resets() -> None:
    state = StreamState(n=3, cells=["a"], customers=["C1"], level=1)
    assert StreamState.loads(state.dumps()) == state
    assert StreamState.loads(b"not json").n == 0
