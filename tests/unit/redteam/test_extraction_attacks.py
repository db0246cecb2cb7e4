"""The attacks succeed against an unguarded scorer and are stopped by the monitor."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopguard.modelsec.extraction import ExtractionMonitor, Level, StreamState, fraud_observation
from shopguard.redteam.extraction import (
    FAMILIES,
    body_features,
    decision,
    legit_sessions,
    longest_legit_session,
    run_extraction,
)


def _public(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "TRANSACTION_ID": np.arange(n),
            "TX_DATETIME": pd.Timestamp("2025-05-01")
            + pd.to_timedelta(rng.integers(0, 86400 * 30, n), unit="s"),
            "CUSTOMER_ID": rng.integers(0, 100, n),
            "TERMINAL_ID": rng.integers(0, 50, n),
            "TX_AMOUNT": rng.gamma(2, 30, n),
            "device_is_new": rng.random(n) < 0.1,
            "ship_bill_mismatch": rng.random(n) < 0.1,
            "ip_country_mismatch": rng.random(n) < 0.1,
            "account_age_days": rng.integers(0, 2000, n),
            "card_present": rng.random(n) < 0.3,
        }
    )


def test_longest_legit_session_when_customers_tie_then_first_in_time_as_from_all_sessions() -> None:
    public = _public()
    # Two customers with the most transactions: 9 shops first, so its session is the one.
    public.loc[:3, "CUSTOMER_ID"] = 5
    public.loc[4:7, "CUSTOMER_ID"] = 9
    public.loc[4, "TX_DATETIME"] = public["TX_DATETIME"].min() - pd.Timedelta(days=1)
    public.loc[8:, "CUSTOMER_ID"] = 100 + np.arange(len(public) - 8) % 150
    sessions = list(legit_sessions(public))
    longest = longest_legit_session(public)
    assert longest == max(sessions, key=len)
    assert sum(len(s) == len(longest) for s in sessions) > 1  # the tie-break is exercised
    times = [b["timestamp"] for b in longest]
    assert times == sorted(times) and {b["customer_id"] for b in longest} == {"9"}
    assert longest_legit_session(public.head(0)) == []


class _Victim:
    """A simple scorer; the monitor (when given) decides first, as the gateway guard does."""

    def __init__(self, monitor: ExtractionMonitor | None) -> None:
        self.monitor, self.state, self.n, self.alarm = monitor, StreamState(), 0, None

    @staticmethod
    def raw(bodies):
        X = body_features(bodies)
        return 1 / (1 + np.exp(-(0.8 * X[:, 0] - 5 + 2.5 * X[:, 3] + 2 * X[:, 4] + 1.5 * X[:, 5])))

    def score(self, body):
        self.n += 1
        if self.monitor is not None:
            level = self.monitor.observe_sync(self.state, fraud_observation(body))
            if level >= Level.ALERT and self.alarm is None:
                self.alarm = self.n
            if level >= Level.BLOCK:
                return 403, None
        return 200, float(self.raw([body])[0])


def test_extraction_when_unguarded_then_high_fidelity_and_guarded_then_blocked_early() -> None:
    public = _public()
    test = [
        {**b, "transaction_id": f"t{i}"}
        for i, b in enumerate(
            {
                "customer_id": str(r["CUSTOMER_ID"]),
                "terminal_id": str(r["TERMINAL_ID"]),
                "amount": float(r["TX_AMOUNT"]),
                "timestamp": pd.Timestamp(r["TX_DATETIME"]).isoformat(),
                "device_is_new": bool(r["device_is_new"]),
                "ship_bill_mismatch": bool(r["ship_bill_mismatch"]),
                "ip_country_mismatch": bool(r["ip_country_mismatch"]),
                "account_age_days": int(r["account_age_days"]),
                "card_present": bool(r["card_present"]),
            }
            for r in public.to_dict("records")
        )
    ]
    victim_dec = np.asarray([decision(float(s)) for s in _Victim.raw(test)])
    free = run_extraction(
        "equation_solving",
        _Victim(None),
        public=public,
        test_bodies=test,
        test_victim=victim_dec,
        limit=300,
    )
    assert free.blocked_at is None and free.fidelity_at_stop > 0.6
    for family in FAMILIES:
        v = _Victim(ExtractionMonitor())
        r = run_extraction(
            family,
            v,
            public=public,
            test_bodies=test,
            test_victim=victim_dec,
            benign=test[:5],
            alarm=lambda v=v: v.alarm,
            limit=300,
        )
        assert r.blocked_at is not None and r.blocked_at < 300, family
        assert r.alarm_at is not None and r.alarm_at <= r.blocked_at
