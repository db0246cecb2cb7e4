"""Sustained load: 2 gateway workers on PostgreSQL + Redis for 5 minutes, closed loop with wrk.

A closed loop (``--connections`` in flight, each sending its next request as soon as the last
one returns) runs the pool at the highest rate it sustains; the run passes only with zero
non-2xx responses and zero socket errors. Afterwards every request wrk completed must have
its audit row (rows >= completed; at most ``connections`` more, the requests in flight when
wrk stopped). RSS of each worker is sampled every 5 s and plotted.

Run: ``python bench/load.py --seconds 300 --out bench/results/load.md``
(needs ``wrk``, PostgreSQL at 127.0.0.1:5432 db ``test``, Redis at 127.0.0.1:6379; uses a
fresh schema and Redis db 13).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cluster import machine, pool, rss_mib, wrk


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=300)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--plot", type=Path, default=Path("bench/results/load_rss.png"))
    args = ap.parse_args()
    where = machine()
    with pool(args.workers) as p:
        wrk(p, connections=args.connections, seconds=5)  # warm-up
        rows_before = p.audit_rows()
        pids = p.worker_pids()
        samples: list[tuple[float, list[float]]] = []
        result: list = []
        t = threading.Thread(
            target=lambda: result.append(wrk(p, connections=args.connections, seconds=args.seconds))
        )
        t0 = time.monotonic()
        t.start()
        while t.is_alive():
            samples.append((time.monotonic() - t0, [rss_mib(pid) for pid in pids]))
            t.join(timeout=5)
        time.sleep(1.0)  # let the last group commits land
        rows = p.audit_rows() - rows_before
    r = result[0]
    first = [sum(v) / len(v) for _, v in samples[:3]]
    last = [sum(v) / len(v) for _, v in samples[-3:]]
    growth = (sum(last) / len(last)) - (sum(first) / len(first))
    ok = (
        r.non_2xx == 0
        and r.socket_errors == 0
        and r.requests <= rows <= r.requests + args.connections
    )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for i in range(len(pids)):
        ax.plot([s for s, _ in samples], [v[i] for _, v in samples], label=f"worker {i + 1}")
    ax.set_xlabel("seconds")
    ax.set_ylabel("RSS (MiB)")
    top = max(max(v) for _, v in samples)
    ax.set_ylim(0, top * 1.2)
    ax.set_title(f"gateway RSS under {r.rps:.0f} req/s, {args.workers} workers, PG + Redis")
    ax.legend()
    fig.tight_layout()
    args.plot.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.plot, dpi=110)
    with args.plot.with_suffix(".csv").open("w") as fh:  # the samples behind the plot
        fh.write("seconds," + ",".join(f"worker{i + 1}_rss_mib" for i in range(len(pids))) + "\n")
        for sec, vals in samples:
            fh.write(f"{sec:.1f}," + ",".join(f"{v:.1f}" for v in vals) + "\n")

    text = f"""# Sustained load: {args.workers} workers on PostgreSQL + Redis, {args.seconds} s

Machine: {where}.
Command (run under `nice -n 10`, as every job on this shared machine): `python bench/load.py --seconds {args.seconds} --connections {args.connections} --out bench/results/load.md`

wrk closed loop, {args.connections} connections, 2 threads, loopback; stub endpoint behind the full
gateway pipeline (API key authN/authZ, per-key and per-IP limits in Redis, audit entry
group-committed to PostgreSQL before each response starts). Rate limits set far above the load.

| figure | value |
|---|---|
| sustained rate (closed loop, highest the pool holds) | **{r.rps:.0f} req/s** |
| requests completed | {r.requests} |
| non-2xx responses (any 4xx/5xx) | **{r.non_2xx}** |
| socket errors (connect/read/write/timeout) | {r.socket_errors} |
| p50 / p99 latency | {r.p50_ms:.1f} ms / **{r.p99_ms:.1f} ms** |
| audit rows written during the run | {rows} |
| audit rows - requests completed (in flight at stop, <= {args.connections}) | {rows - r.requests} |
| RSS per worker, first 15 s avg -> last 15 s avg | {sum(first) / len(first):.1f} -> {sum(last) / len(last):.1f} MiB ({growth:+.1f} MiB) |
| verdict | {"PASS: zero 5xx, no audit entry lost" if ok else "FAIL"} |

RSS over time: ![RSS](load_rss.png)

The 2 CPU cores were shared with other engineers' jobs during the run (wrk, PostgreSQL and
Redis run on them too), so the rate is a floor for a dedicated machine, not a ceiling.
"""
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
