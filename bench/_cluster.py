"""Gateway worker pools on PostgreSQL + Redis for bench/scale.py and bench/load.py.

Each run gets its own PostgreSQL schema (on the server at 127.0.0.1:5432, database ``test``)
and Redis database number, so it disturbs nobody else's data. The pool is ``uvicorn
--workers N`` over :func:`app_factory` (the real gateway from ``create_app`` plus one guarded
stub endpoint that needs no trained models), which is what ``shopguard serve --workers N``
runs.
"""

from __future__ import annotations

import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/13"
PATH = "/v1/bench/score/{item_id}"
URL_PATH = "/v1/bench/score/item-42"
BIG = "1000000/second;60000000/minute"
SRC = str(Path(__file__).resolve().parents[1] / "src")


async def score(item_id: str) -> dict[str, Any]:
    return {"item_id": item_id, "score": 0.25, "decision": "approve"}


def app_factory() -> Any:
    """The gateway as every worker builds it, plus the stub route."""
    from shopguard.core.settings import load_settings
    from shopguard.gateway.app import add_guarded_route, create_app

    app = create_app(load_settings())
    add_guarded_route(app, PATH, score, policy_id="bench.score", scopes=["bench:score"])
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Pool:
    url: str
    proc: subprocess.Popen[bytes]
    headers: dict[str, str]
    db_url: str
    home: Path

    def worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True, check=False
        ).stdout
        # uvicorn's supervisor forks a resource tracker too: keep the serving workers only.
        pids = []
        for p in out.split():
            cmd = Path(f"/proc/{p}/cmdline").read_bytes()
            if b"multiprocessing.resource_tracker" not in cmd:
                pids.append(int(p))
        return pids or [self.proc.pid]  # one worker: uvicorn serves in its own process

    def audit_rows(self) -> int:
        eng = sa.create_engine(self.db_url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with eng.connect() as conn:
                return int(conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one())
        finally:
            eng.dispose()


@contextmanager
def pool(workers: int) -> Iterator[Pool]:
    """``workers`` gateway processes on one port, on a fresh schema and Redis db 13."""
    import redis

    from shopguard.core.runtime import Runtime, init_state
    from shopguard.core.settings import load_settings
    from shopguard.gateway.keys import ApiKeyStore

    schema = f"sg_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    db_url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    tmp = tempfile.TemporaryDirectory(prefix="sg-scale-")
    home = Path(tmp.name) / ".shopguard"
    r = redis.Redis.from_url(REDIS_URL)
    for k in r.scan_iter("sg:rl:*", count=1000):
        r.delete(k)
    r.close()
    proc = None
    try:
        settings = load_settings(home=home, database_url=db_url)
        init_state(settings)
        rt = Runtime.open(settings)
        issued = ApiKeyStore(rt.engine, rt.keyring).create(
            name="bench", tenant="default", scopes=["bench:score"]
        )
        rt.close()
        port = free_port()
        log = (Path(tmp.name) / "uvicorn.log").open("wb")
        env = {
            **os.environ,
            "PYTHONPATH": SRC + os.pathsep + str(Path(__file__).resolve().parent),
            "SHOPGUARD_HOME": str(home),
            "SHOPGUARD_DATABASE_URL": db_url,
            "SHOPGUARD_REDIS_URL": REDIS_URL,
            "SHOPGUARD_RATE_LIMIT_KEY": BIG,
            "SHOPGUARD_RATE_LIMIT_IP": BIG,
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "_cluster:app_factory",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-access-log",
                "--loop",
                "uvloop",
                "--http",
                "httptools",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        p = Pool(
            f"http://127.0.0.1:{port}{URL_PATH}", proc, {"X-API-Key": issued.secret}, db_url, home
        )
        deadline = time.monotonic() + 300  # workers import torch & co. on a shared CPU
        while True:
            try:
                req = urllib.request.Request(p.url, headers=p.headers)
                with urllib.request.urlopen(req, timeout=2) as resp:
                    if resp.status == 200 and len(p.worker_pids()) >= workers:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (Path(tmp.name) / "uvicorn.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"worker pool did not start (rc {proc.poll()}): {tail}")
            time.sleep(0.3)
        yield p
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        tmp.cleanup()


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if m is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]


def wrk(p: Pool, *, connections: int, seconds: int, threads: int = 2) -> WrkResult:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "5s",
    ]
    for k, v in p.headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run([*cmd, p.url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    n = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(x) for x in e.groups()) if e else 0
    non2xx = int(m.group(1)) if m else 0
    return WrkResult(rps, p50, p99, n, non2xx, errors)


def status_probe(p: Pool, n: int = 200) -> Counter[int]:
    """Status codes of ``n`` sequential requests (to name what any non-2xx responses were)."""
    import httpx

    out: Counter[int] = Counter()
    with httpx.Client(headers=p.headers, timeout=5) as c:
        for _ in range(n):
            out[c.get(p.url).status_code] += 1
    return out


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs (shared with other engineers' jobs during the run),"
        f" Python {platform.python_version()}, load average before: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
