"""Scale-out: gateway throughput with 1, 2 and 4 workers on PostgreSQL + Redis.

Each pool is ``uvicorn --workers N`` over the real gateway (bench/_cluster.py) sharing one
PostgreSQL schema (audit chain, keys) and Redis (rate-limit counters). wrk drives it closed
loop on loopback; the pools are measured round-robin (``--rounds`` times each, medians
reported) so background load on the shared machine hits every pool alike.

Per-worker efficiency = throughput(N) / (N x throughput(1)). On this machine (2 logical
CPUs, shared with other jobs, and also running wrk, PostgreSQL and Redis) more than 2 workers
cannot add CPU: the figure shows the overhead of running N workers, not a dedicated host's
scaling.

Run: ``python bench/scale.py --out bench/results/scale.md``
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cluster import machine, pool, wrk


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    where = machine()
    from contextlib import ExitStack

    rps: dict[int, list[float]] = {n: [] for n in args.workers}
    p99: dict[int, list[float]] = {n: [] for n in args.workers}
    bad: dict[int, int] = dict.fromkeys(args.workers, 0)
    with ExitStack() as stack:
        pools = {n: stack.enter_context(pool(n)) for n in args.workers}
        for p in pools.values():
            wrk(p, connections=args.connections, seconds=3)  # warm-up
        for _ in range(args.rounds):
            for n, p in pools.items():
                r = wrk(p, connections=args.connections, seconds=args.seconds)
                rps[n].append(r.rps)
                p99[n].append(r.p99_ms)
                bad[n] += r.non_2xx + r.socket_errors
    base = statistics.median(rps[args.workers[0]])
    rows = []
    for n in args.workers:
        m = statistics.median(rps[n])
        rows.append(
            f"| {n} | {m:.0f} | {min(rps[n]):.0f}-{max(rps[n]):.0f} | {m / base:.2f}x |"
            f" {m / (n * base):.0%} | {statistics.median(p99[n]):.0f} | {bad[n]} |"
        )
    text = f"""# Gateway scale-out: 1, 2, 4 workers on PostgreSQL + Redis

Machine: {where}.
Command: `python bench/scale.py --seconds {args.seconds} --rounds {args.rounds} --connections {args.connections} --out bench/results/scale.md`

wrk closed loop ({args.connections} connections, 2 threads, {args.seconds} s per run, {args.rounds}
rounds round-robin over the pools, medians). Every request passes the full gateway
pipeline: API-key authN/authZ, rate limits in Redis (one Lua call), an audit entry
group-committed to PostgreSQL before the response starts.

| workers | req/s (median) | range | vs 1 worker | per-worker efficiency | p99 ms | non-2xx + socket errors |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

The 2 logical CPUs were shared with other engineers' jobs during the run and also ran wrk,
PostgreSQL and Redis: once the workers saturate the 2 CPUs, more workers cannot add
throughput here, so efficiency beyond 2 workers measures contention, not the design. The
workers share no in-process state (tests/integration/test_gateway_workers.py,
tests/faults/), so on separate hosts throughput adds up until PostgreSQL's audit-chain
head lock (one row, one commit per group of entries) becomes the limit.
"""
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
