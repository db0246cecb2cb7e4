"""Operations: live extraction-drill detection / response times, and the monitor's polling cost.

Run: ``python bench/ops.py [--customers 600] [--drills 3] [--audit 20000]``.

1. **Live drill** (the bar of issue 11's scorecard check: an extraction attack becomes an
   incident with the extraction playbook within 30 s, and its containment shuts the key out
   within 10 s). A small store is generated and its models trained; the gateway is served on
   loopback with the default guards (rate limit 50/s per key); each drill uses a fresh key
   to enumerate customers on the recommender while the embedded monitor ticks every 25
   requests. Reported: median and max over the drills of seconds to detect, seconds to
   refuse the key after detection, and requests sent before detection.
2. **Monitor polling**: the per-key watch reads only the audit entries added since its last
   poll (``AuditLog.records(since=...)``). Baseline: re-reading the whole log each poll.
   Both read 100 new entries on top of a log of ``--audit`` entries; medians of 5 polls.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from shopguard.core.audit import AuditEvent
from shopguard.core.runtime import Runtime, init_state
from shopguard.core.settings import load_settings
from shopguard.demo.run import serve_in_thread
from shopguard.gateway.app import create_app
from shopguard.gateway.keys import ApiKeyStore
from shopguard.governance.training import run_extraction_drill
from shopguard.monitor.keys import KeyWatch
from shopguard.monitor.watch import Monitor
from shopguard.store.fraud import train_fraud
from shopguard.store.generate import generate_store, write_store
from shopguard.store.recommender import order_sequences, train_recommender
from shopguard.store.reviews import train_review_ranker
from shopguard.store.service import STORE_DIR


def _drills(home: Path, customers: int, n: int) -> list[tuple[float, float, int]]:
    store = generate_store(seed=3, customers=customers)
    write_store(store, home / STORE_DIR, fmt="parquet", overwrite=True)
    train_fraud(store.transactions, random_state=3, validation_days=0).save(
        home / "models" / "fraud"
    )
    train_recommender(order_sequences(store.orders), random_state=3).save(
        home / "models" / "recommender"
    )
    train_review_ranker(store.reviews, random_state=3).save(home / "models" / "reviews")
    settings = load_settings(home=home)
    init_state(settings)
    rt = Runtime.open(settings)
    out = []
    try:
        app = create_app(settings, runtime=rt)
        desk = app.state.incidents
        ids = store.customers["customer_id"].astype(str).tolist()
        with serve_in_thread(app) as base_url:
            for _ in range(n):
                key = ApiKeyStore(rt.engine, rt.keyring).create(
                    name="bench-attacker", tenant="default", scopes=["recommendations:read"]
                )
                monitor = Monitor(bus=rt.bus, audit=rt.audit)
                monitor.tick()
                r = run_extraction_drill(
                    base_url=base_url,
                    attacker_key=key.secret,
                    attacker_key_id=key.record.key_id,
                    targets=ids[:600],
                    incidents=desk,
                    tick=monitor.tick,
                )
                if r.detect_s is None or r.respond_s is None:
                    raise SystemExit(f"drill failed: {r.notes}")
                sent = int(r.notes.split("; ")[1].split()[0])
                out.append((r.detect_s, r.respond_s, sent))
                fired = sorted({f.rule.name for f in monitor.engine.active.values() if f.fired})
                print(
                    f"drill {len(out)}: rules firing at detection: {', '.join(fired)}", flush=True
                )
    finally:
        rt.close()
    return out


def _polling(home: Path, size: int) -> tuple[float, float]:
    settings = load_settings(home=home)
    init_state(settings)
    rt = Runtime.open(settings)
    try:
        for i in range(size):
            rt.audit.submit(
                AuditEvent(
                    action="GET /x",
                    decision="allow",
                    principal=f"k{i % 5}",
                    target=f"customer:c{i}",
                    details={"route": "recommendations.read"},
                )
            )
        rt.audit.append(AuditEvent(action="flush", decision="allow"))
        inc_times, full_times = [], []
        watch = KeyWatch(rt.audit)
        watch.poll()
        for _ in range(5):
            for i in range(100):
                rt.audit.submit(
                    AuditEvent(
                        action="GET /x",
                        decision="allow",
                        principal="k1",
                        target=f"customer:n{i}",
                        details={"route": "recommendations.read"},
                    )
                )
            rt.audit.append(AuditEvent(action="flush", decision="allow"))
            t0 = time.perf_counter()
            watch.poll()
            inc_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            n = sum(1 for _ in rt.audit.records())  # the baseline: a full re-read
            full_times.append(time.perf_counter() - t0)
            assert n > size
        return statistics.median(inc_times), statistics.median(full_times)
    finally:
        rt.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=600)
    ap.add_argument("--drills", type=int, default=3)
    ap.add_argument("--audit", type=int, default=20_000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        drills = _drills(Path(tmp) / "a" / ".shopguard", args.customers, args.drills)
        inc, full = _polling(Path(tmp) / "b" / ".shopguard", args.audit)
    det = [d for d, _, _ in drills]
    resp = [r for _, r, _ in drills]
    sent = [s for _, _, s in drills]
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} python {sys.version.split()[0]}"
    )
    print("| live extraction drill | median | max | bar |")
    print("| --- | --- | --- | --- |")
    print(
        f"| seconds to detect (incident with extraction playbook) | {statistics.median(det):.2f} | {max(det):.2f} | <= 30 |"
    )
    print(
        f"| seconds from detection to key refused (401) | {statistics.median(resp):.3f} | {max(resp):.3f} | <= 10 |"
    )
    print(f"| requests sent before detection | {statistics.median(sent):.0f} | {max(sent)} | - |")
    for i, (d, r, n) in enumerate(drills, 1):
        print(f"drill {i}: detect {d:.2f} s after {n} requests; key refused {r:.3f} s later")
    print()
    print(f"| monitor poll of 100 new entries on a {args.audit:,}-entry audit log | median ms |")
    print("| --- | --- |")
    print(f"| incremental (records(since=)) | {inc * 1000:.1f} |")
    print(f"| baseline: full re-read | {full * 1000:.1f} |")
    print(f"| ratio baseline / incremental | {full / inc:.0f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
