"""Every atheris target runs for a bounded time without a finding (CI's fuzzing budget)."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
TARGETS = sorted(p.stem for p in FUZZ.glob("fuzz_*.py"))
SECONDS = int(os.environ.get("SHOPGUARD_FUZZ_SECONDS", "3"))

pytestmark = pytest.mark.slow


#: Memory a target may use on its own before libFuzzer calls it out of memory.
RSS_BUDGET_MB = 3072


def _inherited_peak_rss_mb() -> int:
    # libFuzzer reads its peak RSS from getrusage, and Linux carries the parent's peak into a
    # forked-and-exec'd child: a target started from a test process that has loaded models
    # would start "out of memory" before running one input. The budget is on top of that.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def run_target(name: str, seconds: int, work: Path) -> subprocess.CompletedProcess[str]:
    corpus = work / "corpus"
    seeds = FUZZ / "corpus" / name.removeprefix("fuzz_")
    shutil.copytree(seeds, corpus)  # libFuzzer adds to its first corpus dir: never the repo's
    return subprocess.run(
        [
            sys.executable,
            str(FUZZ / f"{name}.py"),
            f"-max_total_time={seconds}",
            f"-rss_limit_mb={_inherited_peak_rss_mb() + RSS_BUDGET_MB}",
            "-timeout=20",
            f"-artifact_prefix={work}/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        cwd=work,
    )


def test_targets_when_listed_then_one_per_owned_parser() -> None:
    assert TARGETS == [
        "fuzz_fraud_csv",
        "fuzz_jsonl",
        "fuzz_jwt",
        "fuzz_settings_toml",
        "fuzz_store_csv",
        "fuzz_table_scan",
    ]


@pytest.mark.parametrize("name", TARGETS)
def test_fuzz_target_when_run_briefly_then_no_crash(name: str, tmp_path: Path) -> None:
    res = run_target(name, SECONDS, tmp_path)
    tail = "\n".join((res.stdout + res.stderr).splitlines()[-25:])
    assert res.returncode == 0, tail
    assert "Done" in res.stderr, tail  # libFuzzer's summary line: it actually ran
