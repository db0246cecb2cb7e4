"""Recommender benchmark: ours (EASE + transitions) vs EASE alone vs item-kNN vs popularity.

Leave-last-out on the Amazon 5-core Sports_and_Outdoors and Toys_and_Games files,
HR@10 / NDCG@10 against the full item set (the user's training items excluded
from the ranking), every model tuned on the second-to-last item per user.

    python bench/recommender.py [--l2 100 --l2 300] [--out bench/results/recommender.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from shopguard.store.recommender import evaluate_recommenders, load_interactions

DATA = Path(__file__).resolve().parents[1] / "../shared/data/recsys_amazon_5core"
DATASETS = ("Sports_and_Outdoors", "Toys_and_Games")
MODELS = (
    ("shopguard", "shopguard (EASE + transitions)"),
    ("ease", "EASE alone (same fit)"),
    ("item_knn", "item-kNN (cosine, tuned k)"),
    ("popularity", "popularity"),
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--l2", type=float, action="append", help="EASE L2 grid (repeatable)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results/recommender.md")
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    args = ap.parse_args()
    l2_grid = tuple(args.l2 or [100.0])
    lines = [
        "| dataset | model | HR@10 | NDCG@10 | tune+train s |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    notes = []
    for name in args.datasets:
        seqs = load_interactions(DATA / f"{name}.txt")
        t0 = time.perf_counter()
        res = evaluate_recommenders(
            seqs,
            l2_grid=l2_grid,
            progress=lambda m, name=name, t0=t0: print(
                f"[{name} {time.perf_counter() - t0:5.0f}s] {m}", file=sys.stderr, flush=True
            ),
        )
        total = time.perf_counter() - t0
        for key, label in MODELS:
            m = res.metrics[key]
            secs = res.train_seconds.get(key, res.train_seconds["shopguard"])
            lines.append(
                f"| {name} | {label} | {m['hr@10']:.4f} | {m['ndcg@10']:.4f} | {secs:.1f} |"
            )
        ours, knn = res.metrics["shopguard"], res.metrics["item_knn"]
        notes.append(
            f"- {name}: {len(seqs):,} users; ours / item-kNN = "
            f"{ours['hr@10'] / knn['hr@10']:.2f}x HR@10, "
            f"{ours['ndcg@10'] / knn['ndcg@10']:.2f}x NDCG@10; whole evaluation {total:.0f} s; "
            f"chosen {res.params}"
        )
    table = "\n".join(lines)
    cmd = "python bench/recommender.py" + "".join(f" --l2 {v:g}" for v in l2_grid)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    md = (
        "# Recommender benchmark\n\n"
        f"Command: `{cmd}`\n\nMachine: {machine} (shared with other jobs; times are indicative).\n\n"
        "Protocol: leave-last-out (last item = test, second-to-last = validation for tuning, "
        "models refitted on all but the last item for the test), HR@10 and NDCG@10 over the "
        "full item set, the user's training items excluded from the ranking. "
        "EASE alone is ours with the transition weight set to 0 (same EASE fit). "
        "Train seconds include the validation tuning.\n\n"
        f"{table}\n\n" + "\n".join(notes) + "\n"
    )
    print(md)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(md, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
