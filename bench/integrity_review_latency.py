"""Benchmark: latency of one POST /v1/reviews scoring call under concurrent requests.

What the gateway does per review (``Ingestor._decide``): score a frame of the new review
plus the product's recent reviews (its behaviour context) with the shipped scorer. Here
``--workers`` threads each score such frames back to back (as the gateway's thread pool
does), once with the scorer capped at one OpenMP thread per call (the default) and once
with the library default (one OpenMP thread per core per call), in alternating rounds of
the same run; it reports the median and 95th percentile latency per call and the calls
per second.

Run: ``python bench/integrity_review_latency.py --workers 4 --calls 40 --context 30``
"""

from __future__ import annotations

import argparse
import os
import platform
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from shopguard.integrity.reviews import ReviewScorer

DATA = Path(__file__).resolve().parents[1] / "../shared/data/fake_reviews_salminen/reviews.csv"
OUT = Path(__file__).resolve().parent / "results" / "integrity_review_latency.md"


def frames(n: int, context: int, seed: int = 0) -> list[pd.DataFrame]:
    texts = pd.read_csv(DATA)["text"].astype(str).to_numpy()
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        m = context + 1
        out.append(
            pd.DataFrame(
                {
                    "id": [f"R{k}-{i}" for i in range(m)],
                    "text": texts[rng.integers(0, len(texts), m)],
                    "rating": rng.integers(1, 6, m),
                    "product_id": "P1",
                    "reviewer_id": [f"C{c}" for c in rng.integers(0, 500, m)],
                    "created_at": [f"2026-01-{1 + i % 28:02d}T10:00:00" for i in range(m)],
                    "verified_purchase": rng.random(m) < 0.85,
                }
            )
        )
    return out


def run(
    scorer: ReviewScorer, work: list[pd.DataFrame], workers: int
) -> tuple[list[float], float, float]:
    lat: list[float] = []
    lock = threading.Lock()

    def worker(items: list[pd.DataFrame]) -> None:
        for df in items:
            t = time.perf_counter()
            scorer.score_frame(df)
            dt = time.perf_counter() - t
            with lock:
                lat.append(dt)

    threads = [threading.Thread(target=worker, args=(work[i::workers],)) for i in range(workers)]
    t0, c0 = time.perf_counter(), time.process_time()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return lat, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--calls", type=int, default=40, help="calls per round (all workers)")
    ap.add_argument("--context", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    base = ReviewScorer.load_default()
    capped = ReviewScorer(text_model=base.text_model, native_threads=1)
    free = ReviewScorer(text_model=base.text_model, native_threads=None)
    for s in (capped, free):
        s.coef_, s.intercept_, s.threshold = base.coef_, base.intercept_, base.threshold
    work = frames(args.calls, args.context)
    run(capped, work[:4], 1)  # warm-up
    res: dict[str, tuple[list[float], float, float]] = {
        "capped": ([], 0.0, 0.0),
        "free": ([], 0.0, 0.0),
    }
    for _ in range(args.rounds):
        for name, s in (("free", free), ("capped", capped)):
            lat, wall, cpu = run(s, work, args.workers)
            res[name] = (res[name][0] + lat, res[name][1] + wall, res[name][2] + cpu)
    rows = {}
    for name, (lat, wall, cpu) in res.items():
        a = np.asarray(lat) * 1000
        rows[name] = (
            float(np.median(a)),
            float(np.percentile(a, 95)),
            len(a) / wall,
            cpu / len(a) * 1000,
        )
    cmd = (
        f"python bench/integrity_review_latency.py --workers {args.workers} --calls {args.calls} "
        f"--context {args.context} --rounds {args.rounds}"
    )
    lines = [
        "# POST /v1/reviews scoring latency under concurrency (integrity)",
        "",
        f"Command: `{cmd}` on {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (shared machine; load average {os.getloadavg()[0]:.1f} at the end).",
        "",
        f"Each call scores one new review plus {args.context} context reviews of the product "
        f"(what the gateway scores per POST); {args.workers} threads call concurrently, "
        f"{args.rounds} alternating rounds of {args.calls} calls per variant.",
        "",
        "| OpenMP threads per call | median (ms) | p95 (ms) | calls / s | process CPU ms / call |",
        "| --- | --- | --- | --- | --- |",
        "| library default (one per core) | {:.1f} | {:.1f} | {:.1f} | {:.1f} |".format(
            *rows["free"]
        ),
        "| 1 (shopguard default) | {:.1f} | {:.1f} | {:.1f} | {:.1f} |".format(*rows["capped"]),
        "",
        f"Ratio default / capped: median {rows['free'][0] / rows['capped'][0]:.2f}x, "
        f"p95 {rows['free'][1] / rows['capped'][1]:.2f}x, "
        f"throughput {rows['capped'][2] / rows['free'][2]:.2f}x, "
        f"CPU per call {rows['free'][3] / rows['capped'][3]:.2f}x.",
        "",
    ]
    out = OUT if args.workers > 1 else OUT.with_name(OUT.stem + "_sequential.md")
    out.write_text("\n".join(lines), "utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
