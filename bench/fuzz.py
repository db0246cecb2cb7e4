"""Longer fuzzing run of every atheris target (fuzz/); writes bench/results/fuzz.md.

Run: ``python bench/fuzz.py --seconds 60 --out bench/results/fuzz.md``
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.test_fuzz_targets import TARGETS, run_target


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = []
    for name in TARGETS:
        with tempfile.TemporaryDirectory() as tmp:
            res = run_target(name, args.seconds, Path(tmp))
            runs = re.findall(r"Done (\d+) runs in (\d+) second", res.stderr)
            cov = re.findall(r"cov: (\d+)", res.stderr)
            n, secs = runs[-1] if runs else ("?", "?")
            verdict = "no finding" if res.returncode == 0 else "FINDING (see stderr)"
            rows.append(f"| {name} | {n} | {secs} | {cov[-1] if cov else '?'} | {verdict} |")
            print(rows[-1], flush=True)
            if res.returncode != 0:
                print(res.stderr[-3000:])
    text = f"""# Fuzzing (atheris/libFuzzer), {args.seconds} s per target

Command: `python bench/fuzz.py --seconds {args.seconds} --out bench/results/fuzz.md`.
Machine: 2 logical CPUs shared with other engineers' jobs (executions per second are low
and vary; coverage is libFuzzer's edge count over the instrumented shopguard modules).

| target | executions | seconds | coverage (edges) | result |
|---|---|---|---|---|
{chr(10).join(rows)}
"""
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
