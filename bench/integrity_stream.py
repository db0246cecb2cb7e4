"""Benchmark: streaming fake-review scoring with bounded memory.

Writes a CSV of N reviews (texts sampled from the Salminen et al. sample, with product,
reviewer, time, verified-purchase and rating columns), then scores it with
``shopguard.integrity.stream.score_reviews_csv`` in a child process and reports wall time,
reviews per second and the child's peak RSS, for two sizes in the same run: peak memory
should stay flat as N grows (it is bounded by the chunk size, not the file).

Run: ``python bench/integrity_stream.py --sizes 5000 20000 --chunk 5000``
(1,000,000: ``--sizes 1000000``; on this loaded machine that was not run, see results).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "../shared/data/fake_reviews_salminen/reviews.csv"
OUT = Path(__file__).resolve().parent / "results" / "integrity_stream.md"

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from shopguard.integrity.stream import score_reviews_csv
t = time.perf_counter()
c = 0.0


def _rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def progress(n):
    print(json.dumps({"n": n, "seconds": round(time.perf_counter() - t, 1),
        "cpu_seconds": round(_cpu() - c, 1), "rss_mb": round(_rss_mb()),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}),
        file=sys.stderr, flush=True)


stats = score_reviews_csv(
    Path(sys.argv[1]), Path(sys.argv[2]), chunk_size=int(sys.argv[3]), progress=progress
)
stats["seconds"] = time.perf_counter() - t
stats["cpu_seconds"] = _cpu() - c
stats["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(stats))
"""


def make(n: int, path: Path, seed: int = 0) -> None:
    texts = pd.read_csv(DATA)["text"].astype(str).to_numpy()
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-01")
    chunk = 100_000
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        df = pd.DataFrame(
            {
                "id": [f"R{i:08d}" for i in range(lo, lo + m)],
                "text": texts[rng.integers(0, len(texts), m)],
                "rating": rng.integers(1, 6, m),
                "product_id": [f"P{p:05d}" for p in np.sort(rng.integers(0, max(1, n // 50), m))],
                "reviewer_id": [f"C{c:07d}" for c in rng.integers(0, max(1, n // 3), m)],
                "created_at": (
                    start + pd.to_timedelta(rng.integers(0, 90 * 86400, m), unit="s")
                ).strftime("%Y-%m-%dT%H:%M:%S"),
                "verified_purchase": rng.random(m) < 0.85,
            }
        )
        df.to_csv(path, mode="a" if lo else "w", header=lo == 0, index=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", type=int, default=[5000, 20000])
    ap.add_argument("--chunk", type=int, default=5000)
    ap.add_argument(
        "--log", type=Path, help="Append the child's per-chunk progress (n, seconds, RSS) here."
    )
    ap.add_argument("--out", type=Path, default=OUT, help="Markdown report to write.")
    ap.add_argument(
        "--peer-src",
        type=Path,
        help="A 'src' folder of another shopguard version (e.g. `git archive` of an older "
        "commit): each size is also scored by it, in the same run, for a side-by-side row.",
    )
    args = ap.parse_args()
    rows = []
    variants: list[tuple[str, dict[str, str] | None]] = [("this tree", None)]
    if args.peer_src:
        env = {**os.environ, "PYTHONPATH": str(args.peer_src.resolve())}
        variants.insert(0, (f"peer ({args.peer_src})", env))
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            src = Path(tmp) / f"in_{n}.csv"
            make(n, src)
            for label, env in variants:
                t0 = time.time()
                res = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        _CHILD,
                        str(src),
                        str(Path(tmp) / "out.csv"),
                        str(args.chunk),
                    ],
                    check=True,
                    stdout=subprocess.PIPE,
                    stderr=args.log.open("a") if args.log else subprocess.DEVNULL,
                    text=True,
                    env=env,
                )
                stats = json.loads(res.stdout.strip().splitlines()[-1])
                stats["n"] = n
                stats["wall"] = time.time() - t0
                stats["label"] = label
                rows.append(stats)
                print(stats, flush=True)
    lines = [
        "# Streaming review scoring (integrity)",
        "",
        f"Command: `python bench/integrity_stream.py --sizes {' '.join(map(str, args.sizes))} "
        f"--chunk {args.chunk}"
        + (f" --peer-src {args.peer_src}" if args.peer_src else "")
        + f"` on {platform.machine()}, Python {platform.python_version()}, "
        f"a shared {os.cpu_count()}-core machine (load average {os.getloadavg()[0]:.1f} at the end); "
        "CPU seconds are the scoring child's own (user + system, start-up included).",
        "",
        "| code | reviews | chunk | seconds | reviews / s | CPU (s) | reviews / CPU s "
        "| peak RSS (MB) | flagged |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['n']:,} | {args.chunk:,} | {r['seconds']:.0f} | "
            f"{r['n'] / r['seconds']:.0f} | "
            f"{r['cpu_seconds']:.0f} | {r['n'] / r['cpu_seconds']:.0f} | "
            f"{r['peak_rss_mb']:.0f} | {r['flagged']:,} |"
        )
    mine = [r for r in rows if r["label"] == "this tree"]
    lines += [
        "",
        f"Peak RSS ratio largest / smallest size: "
        f"{mine[-1]['peak_rss_mb'] / mine[0]['peak_rss_mb']:.2f} "
        f"for {mine[-1]['n'] / mine[0]['n']:.0f}x the reviews (memory bounded by the chunk).",
    ]
    if args.peer_src:
        for r in mine:
            peer = next(p for p in rows if p["n"] == r["n"] and p["label"] != "this tree")
            lines.append(
                f"{r['n']:,} reviews: CPU seconds peer / this tree "
                f"{peer['cpu_seconds'] / r['cpu_seconds']:.2f}x, wall "
                f"{peer['seconds'] / r['seconds']:.2f}x."
            )
    lines.append("")
    args.out.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
