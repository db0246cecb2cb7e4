"""What the live unusual-input check costs a red-team run (and so ``shopguard demo``).

Run: ``python bench/redteam_uploads.py [--runs 5] [--threads 2]``.

The gateway (``create_app``, demo guards plus ``adversarial.unusual_input`` refusing on
``images.classify`` as :func:`shopguard.adversarial.demo.guard_images` sets it) is served on
loopback; the check ``adversarial.attacked_uploads_refused`` runs ``--runs`` times against
it, then as many times against the same gateway with the guard off (the peer: the same 40
uploads classified without the detector). Reported: median wall seconds of each, their
ratio, the verdicts, and the bar of issue 12's follow-up (the demo may grow by < 10 s).
No store or trained models are needed: the image route loads the shipped weights.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from shopguard.adversarial.demo import guard_images
from shopguard.core.runtime import Runtime, init_state
from shopguard.core.scorecard import CheckContext
from shopguard.core.settings import load_settings
from shopguard.demo.run import serve_in_thread
from shopguard.gateway.app import STORE_SCOPES, create_app
from shopguard.gateway.keys import ApiKeyStore
from shopguard.redteam.adversarial import AttackedUploadsRefused

BAR_S = 10.0


def _runs(home: Path, *, guarded: bool, n: int) -> tuple[list[float], list[str]]:
    settings = load_settings(home=home, rate_limit_key="1000/second")
    if guarded:
        settings = guard_images(settings)
    init_state(settings)
    rt = Runtime.open(settings)
    try:
        key = ApiKeyStore(rt.engine, rt.keyring).create(
            name="bench", tenant="default", scopes=list(STORE_SCOPES)
        )
        app = create_app(settings, runtime=rt)
        times, verdicts = [], []
        with serve_in_thread(app) as url:
            ctx = CheckContext({"base_url": url, "api_keys": {"full": key.secret}})
            for _ in range(n):
                t0 = time.perf_counter()
                res = AttackedUploadsRefused().result(ctx)
                times.append(time.perf_counter() - t0)
                verdicts.append(f"{res.status.value} ({res.figure.value if res.figure else '-'})")
    finally:
        rt.close()
    return times, verdicts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2, help="torch threads (the demo's default)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        on, v_on = _runs(Path(tmp) / "on" / ".shopguard", guarded=True, n=args.runs)
        off, v_off = _runs(Path(tmp) / "off" / ".shopguard", guarded=False, n=args.runs)
    m_on, m_off = statistics.median(on), statistics.median(off)
    print(
        f"# live check adversarial.attacked_uploads_refused ({os.cpu_count()} CPUs, "
        f"torch threads {args.threads}, {args.runs} runs each)"
    )
    print("| gateway | median s | min s | max s | verdicts |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| guard on (refusing) | {m_on:.2f} | {min(on):.2f} | {max(on):.2f} | {', '.join(sorted(set(v_on)))} |"
    )
    print(
        f"| guard off (peer) | {m_off:.2f} | {min(off):.2f} | {max(off):.2f} | {', '.join(sorted(set(v_off)))} |"
    )
    print(
        f"\nratio on/off {m_on / m_off:.2f}; bar: the demo grows by < {BAR_S:g} s -> "
        + ("met" if m_on < BAR_S else "NOT met")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
