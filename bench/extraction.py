"""Extraction attacks vs the extraction watch; false alarms over replayed legitimate sessions.

    nice -n 10 env PYTHONPATH=src python3 bench/extraction.py [--customers 20000] [--runs 20]

Victim: the reference fraud model trained on a synthetic store (seed 7). The attacker's
"public" data is a second store (seed 8). Every query goes through the same
``ExtractionMonitor`` decision the gateway guard makes (one client stream per
session); the score returned is the model's score of the request fields (no
customer history, so the bench runs in minutes on 2 shared cores). Legitimate
sessions: every customer's transactions of the victim store, in time order.
Also measures the utility cost of the output-hardening options.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopguard.modelsec.extraction import (
    ExtractionConfig,
    ExtractionMonitor,
    Level,
    StreamState,
    fraud_observation,
)
from shopguard.modelsec.hardening import harden_score
from shopguard.redteam.extraction import (
    ADAPTIVE_FAMILIES,
    FAMILIES,
    decision,
    legit_sessions,
    run_extraction,
    tx_body,
)
from shopguard.store.fraud import train_fraud
from shopguard.store.generate import generate_store

OUT = Path(__file__).resolve().parent / "results"


class BenchTarget:
    """The fraud API's decision path: monitor first (403 at block), then the model."""

    def __init__(self, model: Any, monitor: ExtractionMonitor | None) -> None:
        self.model = model
        self.monitor = monitor
        self.state = StreamState()
        self.alarm_at: int | None = None
        self.n = 0

    def score(self, body: dict[str, Any]) -> tuple[int, float | None]:
        self.n += 1
        if self.monitor is not None:
            level = self.monitor.observe_sync(self.state, fraud_observation(body))
            if level >= Level.ALERT and self.alarm_at is None:
                self.alarm_at = self.n
            if level >= Level.BLOCK:
                return 403, None
        return 200, float(score_bodies(self.model, [body])[0])


def _frame(bodies: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "TRANSACTION_ID": np.arange(len(bodies)),
            "TX_DATETIME": pd.to_datetime([b["timestamp"] for b in bodies]),
            "CUSTOMER_ID": np.zeros(len(bodies), dtype=np.int64),
            "TERMINAL_ID": np.zeros(len(bodies), dtype=np.int64),
            "TX_AMOUNT": [float(b["amount"]) for b in bodies],
            "device_is_new": [int(b["device_is_new"]) for b in bodies],
            "ship_bill_mismatch": [int(b["ship_bill_mismatch"]) for b in bodies],
            "ip_country_mismatch": [int(b["ip_country_mismatch"]) for b in bodies],
            "account_age_days": [int(b["account_age_days"]) for b in bodies],
            "card_present": [int(b.get("card_present", False)) for b in bodies],
        }
    )


def score_bodies(model: Any, bodies: list[dict[str, Any]]) -> np.ndarray:
    # Each row scored alone (its own customer / terminal without history), as the bench's API does.
    frame = _frame(bodies)
    frame["CUSTOMER_ID"] = np.arange(len(bodies))
    frame["TERMINAL_ID"] = np.arange(len(bodies))
    for col in model.extra_columns_:
        if col not in frame.columns:
            frame[col] = 0
    return model.score(frame)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--limit", type=int, default=400)
    args = ap.parse_args()
    t0 = time.perf_counter()
    victim_store = generate_store(seed=7, customers=args.customers)
    public_store = generate_store(seed=8, customers=2_000)
    tx = victim_store.transactions
    print(
        f"store: {len(tx)} transactions, {tx['CUSTOMER_ID'].nunique()} customers", file=sys.stderr
    )
    model = train_fraud(tx, random_state=7, validation_days=0)
    test_rows = public_store.transactions.sample(n=2_000, random_state=1)
    test_bodies = [tx_body(r) for r in test_rows.to_dict("records")]
    test_scores = score_bodies(model, test_bodies)
    test_victim = np.asarray([decision(float(s)) for s in test_scores])
    test_y = test_rows["TX_FRAUD"].to_numpy().astype(int)
    public = public_store.transactions.drop(test_rows.index)
    base_rate = float((test_victim == 0).mean())

    config = ExtractionConfig()
    monitor = ExtractionMonitor(config=config)

    # -- false alarms over legitimate sessions ------------------------------------------
    sessions = list(legit_sessions(tx))
    flagged = 0
    blocked = 0
    lengths = []
    for s in sessions:
        st = StreamState()
        worst = Level.OK
        for body in s:
            worst = max(worst, monitor.observe_sync(st, fraud_observation(body)))
        flagged += worst >= Level.ALERT
        blocked += worst >= Level.BLOCK
        lengths.append(len(s))
    fa_rate = flagged / len(sessions)

    # -- attacks ------------------------------------------------------------------------------
    benign_pool = [s for s in sessions if len(s) >= 3]
    rows: list[dict[str, Any]] = []
    per_family: dict[str, list[Any]] = {}
    for family in (*FAMILIES, *ADAPTIVE_FAMILIES):
        runs = []
        for k in range(args.runs):
            benign = benign_pool[k % len(benign_pool)]
            t = BenchTarget(model, monitor)
            r = run_extraction(
                family,
                t,
                public=public,
                test_bodies=test_bodies,
                test_victim=test_victim,
                test_y=test_y,
                benign=benign,
                alarm=lambda t=t: t.alarm_at,
                limit=args.limit,
                seed=k,
            )
            runs.append(r)
        # Without the guard: the same attack to the query limit.
        free = run_extraction(
            family,
            BenchTarget(model, None),
            public=public,
            test_bodies=test_bodies,
            test_victim=test_victim,
            test_y=test_y,
            benign=benign_pool[0],
            limit=args.limit,
            seed=0,
        )
        # ... and to ten times the limit: what the guard denies.
        free10 = run_extraction(
            family,
            BenchTarget(model, None),
            public=public,
            test_bodies=test_bodies,
            test_victim=test_victim,
            test_y=test_y,
            benign=benign_pool[0],
            limit=10 * args.limit,
            seed=0,
        )
        per_family[family] = runs
        alarms = [r.alarm_at for r in runs if r.alarm_at is not None]
        rows.append(
            {
                "family": family,
                "flagged": sum(r.alarm_at is not None for r in runs) / len(runs),
                "median_alarm": statistics.median(alarms) if alarms else float("nan"),
                "median_block": statistics.median([r.blocked_at or r.queries for r in runs]),
                "fid_alarm": statistics.median(
                    [r.fidelity_at_alarm for r in runs if r.fidelity_at_alarm is not None]
                    or [float("nan")]
                ),
                "fid_stop": statistics.median([r.fidelity_at_stop for r in runs]),
                "fid_free": free.fidelity_at_stop,
                "fid_free10": free10.fidelity_at_stop,
                "acc_free": free.accuracy_at_stop,
                "reasons": "",
            }
        )
        print(rows[-1], file=sys.stderr)

    # -- output hardening utility cost --------------------------------------------------------
    eval_rows = victim_store.transactions.sample(n=min(20_000, len(tx)), random_state=3)
    eval_scores = score_bodies(model, [tx_body(r) for r in eval_rows.to_dict("records")])
    y = eval_rows["TX_FRAUD"].to_numpy().astype(int)
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    hardening = []
    for opts in ([], ["round:2"], ["round:1"], ["noise:0.02"], ["noise:0.05"], ["no_score"]):
        h = np.asarray([harden_score(float(s), opts, rng=rng) for s in eval_scores])
        same = float(
            np.mean([decision(a) == decision(b) for a, b in zip(eval_scores, h, strict=True)])
        )
        hardening.append(
            {
                "options": ",".join(opts) or "(none)",
                "auc": roc_auc_score(y, h),
                "ap": average_precision_score(y, h),
                "decisions_same": same,
            }
        )

    secs = time.perf_counter() - t0
    write(
        rows,
        fa_rate,
        blocked / len(sessions),
        len(sessions),
        lengths,
        hardening,
        base_rate,
        args,
        secs,
    )
    return 0


def write(rows, fa_rate, block_rate, n_sessions, lengths, hardening, base_rate, args, secs) -> None:
    lines = [
        "# Extraction attacks vs the extraction watch",
        "",
        f"Machine: {platform.machine()}, {platform.python_version()}, shared 2-core VM; {secs:.0f} s.",
        f"Command: `OMP_NUM_THREADS=1 nice -n 5 env PYTHONPATH=src python3 bench/extraction.py --customers {args.customers} --runs {args.runs} --limit {args.limit}`",
        "",
        "Victim: reference fraud model (synthetic store seed 7). Attacker data: store seed 8.",
        "Queries go through the guard's decision (`ExtractionMonitor`, one stream per session) and the",
        "model scores the request's fields without customer history (in-process, not over HTTP).",
        "Fidelity = *balanced* decision agreement with the victim on 2,000 held-out transactions",
        "(mean over approve / review / decline of the share reproduced; a constant surrogate gets",
        f"1/3; plain agreement would give a constant 'approve' surrogate {base_rate:.3f}).",
        "`*_consistent` families are adaptive: one customer whose account age stays consistent",
        "with its timestamps, so the identity signals see one coherent shopper.",
        "",
        f"## Attacks ({args.runs} sessions per family, query limit {args.limit})",
        "",
        "| family | sessions flagged | median queries to alarm | median queries to stop | fidelity at alarm (median) | fidelity at stop | fidelity without guard (limit / 10x limit) | bar |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        ok = r["flagged"] >= 0.95 and r["median_alarm"] <= 200 and (r["fid_alarm"] <= 0.70)
        lines.append(
            f"| {r['family']} | {r['flagged']:.0%} | {r['median_alarm']:.0f} | {r['median_block']:.0f} | "
            f"{r['fid_alarm']:.3f} | {r['fid_stop']:.3f} | {r['fid_free']:.3f} / {r['fid_free10']:.3f} | {'met' if ok else 'NOT met'} |"
        )
    lines += [
        "",
        "Bar: >= 95 % of sessions flagged, median <= 200 queries to alarm, fidelity <= 0.70 at alarm.",
        "",
        "## False alarms over legitimate sessions",
        "",
        f"{n_sessions:,} sessions (one per customer, {sum(lengths):,} queries, median length "
        f"{statistics.median(lengths):.0f}, max {max(lengths)}): **{fa_rate:.2%} flagged**, "
        f"{block_rate:.2%} blocked (bar <= 1 %).",
        "",
        "## Output hardening: utility cost (fraud scores, 20,000 transactions)",
        "",
        "| options | ROC AUC | average precision | decisions unchanged |",
        "| --- | --- | --- | --- |",
    ]
    for h in hardening:
        lines.append(
            f"| {h['options']} | {h['auc']:.4f} | {h['ap']:.4f} | {h['decisions_same']:.2%} |"
        )
    (OUT / "extraction.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
