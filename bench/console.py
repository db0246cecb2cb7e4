"""Console page latency over a large audit log (issue 13: usable on a laptop).

Serves the gateway (with the console) in-process over httpx's ASGI transport on
SQLite, fills the audit log with ``--audit`` gateway-like entries, logs in an
admin and times each page ``--repeat`` times; reports medians and the ratio of
each page to the login page (the floor: no database work beyond the session).

    PYTHONPATH=src python3 bench/console.py --audit 20000 --repeat 7
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from shopguard.core.audit import AuditEvent
from shopguard.core.runtime import Runtime, init_state
from shopguard.core.settings import load_settings
from shopguard.gateway.app import create_app
from shopguard.governance.roles import Role

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
import _console as h

PAGES = [
    "/console/login",
    "/console/",
    "/console/incidents",
    "/console/alerts",
    "/console/audit",
    "/console/audit?q=fraud&decision=deny",
    "/console/keys",
    "/console/risks",
    "/console/privacy",
    "/console/models",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--audit", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp()) / ".shopguard"
    s = load_settings(home=home, console_cookie_secure=False)
    init_state(s)
    rt = Runtime.open(s)
    futures = [
        rt.audit.submit(
            AuditEvent(
                action="POST /v1/fraud/score",
                decision="deny" if i % 9 == 0 else "allow",
                principal=f"{i % 17:016x}",
                target="customer:x",
                details={"status": 401 if i % 9 == 0 else 200, "route": "fraud.score"},
            )
        )
        for i in range(args.audit)
    ]
    for f in futures:
        f.result()
    app = create_app(s, runtime=rt)
    secrets = h.add_staff(rt)
    token = h.session_token(rt, Role.ADMIN, secrets)

    async def run() -> dict[str, list[float]]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        out: dict[str, list[float]] = {p: [] for p in PAGES}
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            c.cookies.set("sg_console", token)
            for _ in range(args.repeat):
                for p in PAGES:
                    t = time.perf_counter()
                    r = await c.get(p)
                    out[p].append(time.perf_counter() - t)
                    assert r.status_code == 200, (p, r.status_code)
        return out

    times = asyncio.run(run())
    floor = statistics.median(times["/console/login"])
    print(f"audit entries: {args.audit}, repeats: {args.repeat}")
    print("| page | median ms | max ms | x login page |")
    print("| --- | --- | --- | --- |")
    for p in PAGES:
        med = statistics.median(times[p])
        print(f"| `{p}` | {med * 1000:.1f} | {max(times[p]) * 1000:.1f} | {med / floor:.1f} |")
    rt.close()


if __name__ == "__main__":
    main()
