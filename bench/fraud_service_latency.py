"""Benchmark: one live fraud decision as the gateway asks for it, fast path vs full checks.

``POST /v1/fraud/score`` hands the store service one transaction (a dict built from the
request), and the service scores it with the customer's and terminal's last 35 days. The
store's ids are text ("C000970"), which the scorer's input checks used to send down the full
path (strip, blank and integer-id checks, type conversion: ~30 pandas operations) for the
request row and again for its history on every call. Clean text ids now take the fast path.

Side by side in one run, same store, same model, same 400 transactions: the service as
shipped, and the same service with the fast path for text ids switched off (what every call
paid before). Scores must be identical; the report gives medians, p95 and the ratio.

Run: ``python bench/fraud_service_latency.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import sqlalchemy as sa

from shopguard.store.fraud import _io as fraud_io
from shopguard.store.fraud import train_fraud
from shopguard.store.generate import generate_store
from shopguard.store.service import StoreService


def _requests(tx: pd.DataFrame, n: int, seed: int) -> list[dict[str, Any]]:
    """Gateway-shaped transactions: known customers and terminals, a new time and amount."""
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.choice(len(tx), n, replace=False):
        r = tx.iloc[int(i)]
        out.append(
            {
                "TRANSACTION_ID": f"bench-{i}",
                "TX_DATETIME": (
                    r["TX_DATETIME"] + pd.Timedelta(minutes=int(rng.integers(1, 600)))
                ).to_pydatetime(),
                "CUSTOMER_ID": str(r["CUSTOMER_ID"]),
                "TERMINAL_ID": str(r["TERMINAL_ID"]),
                "TX_AMOUNT": float(r["TX_AMOUNT"]) * float(rng.uniform(0.5, 3.0)),
                "device_is_new": int(rng.random() < 0.2),
                "ship_bill_mismatch": int(rng.random() < 0.1),
                "ip_country_mismatch": int(rng.random() < 0.1),
                "account_age_days": int(rng.integers(0, 2000)),
                "card_present": int(rng.random() < 0.3),
            }
        )
    return out


def _timed(service: StoreService, reqs: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    scores, ms = [], []
    for body in reqs:
        t0 = time.perf_counter()
        scores.append(service.score_transaction(body))
        ms.append((time.perf_counter() - t0) * 1000)
    return scores, ms


def _p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    store = generate_store(seed=args.seed, customers=args.customers)
    model = train_fraud(store.transactions, random_state=args.seed)
    service = StoreService(
        store=store,
        fraud=model,
        recommender=None,  # type: ignore[arg-type]  # not used by fraud scoring
        ranker=None,  # type: ignore[arg-type]
        engine=sa.create_engine("sqlite://"),
    )
    reqs = _requests(store.transactions, args.requests, args.seed + 1)
    _timed(service, reqs[:20])  # warm-up: imports, caches
    # Interleave the two variants in blocks so drift in the machine's load hits both.
    fast_ms: list[float] = []
    full_ms: list[float] = []
    fast_scores: list[float] = []
    full_scores: list[float] = []
    for start in range(0, len(reqs), 50):
        block = reqs[start : start + 50]
        s, t = _timed(service, block)
        fast_scores += s
        fast_ms += t
        with mock.patch.object(fraud_io, "_clean_text_ids", return_value=False):
            s, t = _timed(service, block)
        full_scores += s
        full_ms += t
    if fast_scores != full_scores:
        raise SystemExit("scores differ between the two paths")
    fm, um = statistics.median(fast_ms), statistics.median(full_ms)
    print(
        f"store: {args.customers} customers, {len(store.transactions)} transactions; "
        f"{len(reqs)} gateway-shaped requests; scores identical on both paths"
    )
    print("| variant | median ms | p95 ms |")
    print("| --- | ---: | ---: |")
    print(
        f"| full input checks on every call (the path every call took before) | {um:.1f} | {_p95(full_ms):.1f} |"
    )
    print(f"| fast path for clean text ids (shipped) | {fm:.1f} | {_p95(fast_ms):.1f} |")
    print(f"median speed-up: {um / fm:.1f}x")


if __name__ == "__main__":
    main()
