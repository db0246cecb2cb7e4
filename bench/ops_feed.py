"""Cost of the drift feed on the request path, against what every fraud request already pays.

Run: ``OMP_NUM_THREADS=1 python bench/ops_feed.py [--n 20000] [--repeat 7]``.

1. **Hook** (per request, on the event loop): what ``POST /v1/fraud/score`` adds for the
   monitor: build the six-feature dict, ``ModelFeed.observe`` and ``ModelFeed.predicted``.
   Peer in the same run: validating the request body into ``TransactionIn`` (pydantic),
   which every fraud request pays anyway. Reported: median microseconds per request over
   ``--repeat`` rounds of ``--n`` requests, and the ratio.
2. **Drain** (monitor thread, off the request path): microseconds per observation to move
   ``--n`` rows into windows of 500 and compute PSI and KS per feature and of the scores.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

from shopguard.gateway.schemas import TransactionIn
from shopguard.monitor.feed import ModelFeed


def _bodies(n: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(0)
    return [
        {
            "transaction_id": f"T{i}",
            "customer_id": f"C{i % 1000:06d}",
            "terminal_id": "PSP1-EP01",
            "amount": round(float(rng.lognormal(3, 1)), 2),
            "timestamp": "2025-03-01T12:00:00",
            "device_is_new": bool(rng.random() < 0.1),
            "account_age_days": int(rng.integers(0, 3000)),
        }
        for i in range(n)
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    raw = _bodies(args.n)
    parsed = [TransactionIn.model_validate(b) for b in raw]
    scores = np.random.default_rng(1).beta(1, 20, args.n).tolist()
    hook, peer, drain = [], [], []
    for _ in range(args.repeat):
        feed = ModelFeed(window=500, max_pending=args.n)
        t0 = time.perf_counter()
        for b, s in zip(parsed, scores, strict=True):
            feed.observe(
                "fraud",
                {
                    "amount": b.amount,
                    "account_age_days": b.account_age_days,
                    "device_is_new": b.device_is_new,
                    "ship_bill_mismatch": b.ship_bill_mismatch,
                    "ip_country_mismatch": b.ip_country_mismatch,
                    "card_present": b.card_present,
                },
                s,
            )
            feed.predicted("fraud", ("default", b.transaction_id), s >= 0.3)
        hook.append((time.perf_counter() - t0) / args.n * 1e6)
        t0 = time.perf_counter()
        for b in raw:
            TransactionIn.model_validate(b)
        peer.append((time.perf_counter() - t0) / args.n * 1e6)
        t0 = time.perf_counter()
        feed.drain(lambda *_: None)
        drain.append((time.perf_counter() - t0) / args.n * 1e6)
    h, p, d = (statistics.median(x) for x in (hook, peer, drain))
    print(f"python {platform.python_version()}, load {os.getloadavg()[0]:.1f}")
    print(f"hook per request:            {h:.2f} us (median of {args.repeat} x {args.n})")
    print(f"TransactionIn validation:    {p:.2f} us  -> hook / validation = {h / p:.2f}")
    print(f"drain per observation:       {d:.2f} us (monitor thread, windows of 500)")


if __name__ == "__main__":
    main()
