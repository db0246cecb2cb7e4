"""shopguard's allow-list scanner vs protectai/modelscan on a corpus of benign and malicious artifacts.

    nice -n 10 env PYTHONPATH=src MODELSCAN=/tmp/msvenv/bin/modelscan python3 bench/scan.py

modelscan is run from its own virtual environment (``python3 -m venv /tmp/msvenv &&
/tmp/msvenv/bin/pip install modelscan h5py``): installing it into the project's
environment would downgrade ``rich``. A file counts as flagged by modelscan when it
exits 1 (issues found); exit 3 (no supported file) / 2 (error) count as not flagged
and are listed.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from shopguard.modelsec.scan import scan_path
from shopguard.redteam.artifacts import build_corpus

OUT = Path(__file__).resolve().parent / "results"


def main() -> int:
    modelscan = os.environ.get("MODELSCAN", "modelscan")
    version = subprocess.run(
        [modelscan, "--version"], capture_output=True, text=True
    ).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        items = build_corpus(tmp)
        for item in items:
            t0 = time.perf_counter()
            ours = not scan_path(item.path).safe
            ours_ms = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            proc = subprocess.run([modelscan, "-p", str(item.path)], capture_output=True, text=True)
            theirs_ms = (time.perf_counter() - t0) * 1000
            rows.append((item, ours, proc.returncode == 1, proc.returncode, ours_ms, theirs_ms))
    mal = [r for r in rows if r[0].malicious]
    ben = [r for r in rows if not r[0].malicious]
    lines = [
        "# Unsafe-artifact scanning: shopguard vs modelscan",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, shared 2-core VM. {version}.",
        "Command: `nice -n 10 env PYTHONPATH=src MODELSCAN=/tmp/msvenv/bin/modelscan python3 bench/scan.py`",
        "",
        f"Corpus: {len(mal)} malicious and {len(ben)} benign artifacts built by "
        "`shopguard.redteam.artifacts.build_corpus` (pickle protocols 0-5, joblib plain/compressed, "
        "PyTorch zip, npy/npz, Keras .keras/.h5, skops, safetensors; obfuscated variants).",
        "",
        "| scanner | malicious detected | detection rate | benign flagged (false positives) | median ms per file |",
        "| --- | --- | --- | --- | --- |",
        f"| shopguard (allow-list) | {sum(r[1] for r in mal)}/{len(mal)} | {sum(r[1] for r in mal) / len(mal):.1%} | "
        f"{sum(r[1] for r in ben)}/{len(ben)} | {statistics.median(r[4] for r in rows):.1f} |",
        f"| modelscan (deny-list) | {sum(r[2] for r in mal)}/{len(mal)} | {sum(r[2] for r in mal) / len(mal):.1%} | "
        f"{sum(r[2] for r in ben)}/{len(ben)} | {statistics.median(r[5] for r in rows):.1f} (incl. process start) |",
        "",
        "## Per malicious file",
        "",
        "| file | family | shopguard | modelscan (exit code) |",
        "| --- | --- | --- | --- |",
    ]
    for item, ours, theirs, rc, _, _ in mal:
        lines.append(
            f"| {item.description} | {item.family} | {'flagged' if ours else 'MISSED'} | "
            f"{'flagged' if theirs else 'MISSED'} ({rc}) |"
        )
    fps = [(r[0].description, r[1], r[2], r[3]) for r in ben if r[1] or r[2]]
    lines += ["", "## Benign files flagged by either", ""]
    lines += [
        f"- {d}: shopguard {'flagged' if o else 'ok'}, modelscan {'flagged' if t else 'ok'} ({rc})"
        for d, o, t, rc in fps
    ] or ["- none"]
    (OUT / "scan.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
