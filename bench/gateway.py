"""Benchmark: one trivial endpoint bare (plain FastAPI) vs behind shopguard's full gateway pipeline.

Variants, each its own server process on loopback with one uvicorn worker (same event
loop and HTTP parser for all), driven in one run by ``wrk`` (a real HTTP load generator):

* ``bare``: plain FastAPI, no guards.
* ``slowapi``: the same endpoint guarded by slowapi alone (rate limiting only, memory storage,
  its default fixed-window strategy, decorator form, the same two limits per client IP).
* ``shopguard-memory``: the real gateway from :func:`shopguard.gateway.app.create_app` (API-key
  authN, authZ, rate limits per key and per IP in process, the pure-ASGI audit recorder with a
  hash-chained, MAC'd SQLite log group-committed before each response starts, Prometheus
  metrics, security headers, body limit); the endpoint added with ``add_guarded_route``.
* ``shopguard-redis``: the same with ``SHOPGUARD_REDIS_URL`` (shared counters in Redis, one Lua
  script call per request at most, shared by the requests that arrive while one is in flight).
* The two variants above run with ``audit_writer = "process"`` (audit commits in a writer child
  process; server CPU includes the child's). ``shopguard-memory-thread``: ``shopguard-memory``
  with the default ``audit_writer = "thread"`` (commits in a thread of the server process).
* ``shopguard-memory-normal``: ``shopguard-memory`` with ``audit_sqlite_synchronous = "NORMAL"``
  (an entry is durable against a process crash, not a power loss: no fsync per commit).
* With ``--baseline-src OTHER/src``: ``shopguard-memory@baseline`` and ``shopguard-redis@baseline``
  serve the same app from another checkout's code, in the same run (before/after figures).

The handler body is the same function in every variant. Rate limits are generous (no 429s
expected; any non-2xx response is counted and reported). Throughput runs use many connections
(closed loop, saturating the server: there p50 is mostly queueing, p50 ~ connections / rate);
latency runs use one connection (p50 is then the service time each request pays).

Besides wrk's figures, the server's own CPU time (user + system, all its threads, from
``/proc``) per request is reported: on a machine shared with other jobs, wall-clock rates
swing with their load, while CPU per request is what bounds a server's rate on a core of its
own. "CPU vs bare" is bare's CPU per request over the variant's (the rate ratio a CPU-bound
server would reach).

Run: ``python bench/gateway.py`` (about 7 minutes; needs ``wrk`` on PATH and, for the Redis
variant, Redis at 127.0.0.1:6379). Writes the table to stdout and, with ``--out``, a file.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request

PATH = "/v1/bench/score/{item_id}"
URL_PATH = "/v1/bench/score/item-42"
BIG = "1000000/second;60000000/minute"  # two limits, as the defaults have, never reached
VARIANTS = (
    "bare",
    "slowapi",
    "shopguard-memory",
    "shopguard-redis",
    "shopguard-memory-normal",
    "shopguard-memory-thread",
)
REDIS_URL = "redis://127.0.0.1:6379/15"


async def score(item_id: str) -> dict[str, Any]:
    """The endpoint every variant serves (a score stub)."""
    return {"item_id": item_id, "score": 0.25, "decision": "approve"}


# -- servers (child processes) ------------------------------------------------------------
def build_app(variant: str, home: Path) -> Any:

    if variant == "bare":
        app = FastAPI()
        app.get(PATH)(score)
        return app
    if variant == "slowapi":
        from slowapi import Limiter, _rate_limit_exceeded_handler
        from slowapi.errors import RateLimitExceeded
        from slowapi.util import get_remote_address

        limiter = Limiter(key_func=get_remote_address, storage_uri="memory://")
        app = FastAPI()
        app.state.limiter = limiter
        app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]

        @app.get(PATH)
        @limiter.limit(BIG)
        async def slow_score(request: Request, item_id: str) -> dict[str, Any]:
            return await score(item_id)

        return app
    from shopguard.core.settings import load_settings
    from shopguard.gateway.app import add_guarded_route, create_app

    settings = load_settings(
        home=home,
        rate_limit_key=BIG,
        rate_limit_ip=BIG,
        redis_url=REDIS_URL if variant == "shopguard-redis" else None,
        **_writer(variant),
        **({"audit_sqlite_synchronous": "NORMAL"} if variant.endswith("-normal") else {}),
    )
    app = create_app(settings)
    add_guarded_route(app, PATH, score, policy_id="bench.score", scopes=["bench:score"])
    # First in the route table, as in the bare app: measure the guards, not the table's length
    # (the gateway's own routes would otherwise be matched against first, about 8 µs).
    app.router.routes.insert(0, app.router.routes.pop())
    return app


def _writer(variant: str) -> dict[str, str]:
    from shopguard.core.settings import Settings

    if "audit_writer" not in Settings.model_fields:  # code from before the writer process
        return {}
    # The writer process (audit_writer = "process") except in the -thread variant (the default).
    return {"audit_writer": "thread" if variant.endswith("-thread") else "process"}


def serve(variant: str, home: Path, port: int) -> None:
    import uvicorn

    uvicorn.run(
        build_app(variant, home),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        workers=1,
        log_level="warning",
        access_log=False,
    )


# -- driver -------------------------------------------------------------------------------
@dataclass
class Server:
    variant: str
    home: Path
    port: int
    proc: subprocess.Popen[bytes]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{URL_PATH}"


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int
    cpu_us: float = 0.0  # server CPU (all its threads, user + system) per request


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system, every thread) the process and its live children used so far.

    The children count: the audit writer process does part of the gateway's work.
    """
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # the process ended meanwhile
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # itself, or ppid == pid
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare_home(root: Path, variant: str) -> tuple[Path, dict[str, str]]:
    home = root / variant
    if not variant.startswith("shopguard"):
        home.mkdir(parents=True)
        return home, {}
    from shopguard.core.runtime import Runtime, init_state
    from shopguard.core.settings import load_settings
    from shopguard.gateway.keys import ApiKeyStore

    settings = load_settings(home=home)
    init_state(settings)
    rt = Runtime.open(settings)
    try:
        issued = ApiKeyStore(rt.engine, rt.keyring).create(
            name="bench", tenant="default", scopes=["bench:score"]
        )
    finally:
        rt.close()
    return home, {"X-API-Key": issued.secret}


def _get(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as e:
        return int(e.code), e.read()


#: Suffix of a variant served by another checkout's code (``--baseline-src``).
BASELINE = "@baseline"


def _start(variant: str, root: Path, baseline_src: Path | None = None) -> Server:
    home, headers = _prepare_home(root, variant)
    port = _free_port()
    env = dict(os.environ)
    if variant.endswith(BASELINE):
        assert baseline_src is not None
        env["PYTHONPATH"] = str(baseline_src)
    with (root / f"{variant}.log").open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                variant.removesuffix(BASELINE),
                "--home",
                str(home),
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
            env=env,
        )
    srv = Server(variant, home, port, proc, headers)
    try:
        _check(srv)
    except BaseException:
        _stop(srv)
        sys.stderr.write((root / f"{variant}.log").read_text(errors="replace")[-3000:])
        raise
    return srv


def _check(srv: Server) -> None:
    variant, proc, headers = srv.variant, srv.proc, srv.headers
    deadline = time.monotonic() + 60
    while True:
        try:
            status, _ = _get(srv.url, headers)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server {variant} did not start") from None
            time.sleep(0.2)
    if status != 200:
        raise RuntimeError(f"{variant}: GET {URL_PATH} answered {status}")
    if variant.startswith("shopguard"):
        refused, _ = _get(srv.url, {})
        if refused != 401:
            raise RuntimeError(f"{variant}: a request without a key answered {refused}, not 401")


def _stop(srv: Server) -> None:
    if srv.proc.poll() is None:
        srv.proc.send_signal(signal.SIGINT)
        try:
            srv.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            srv.proc.kill()
            srv.proc.wait()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not m:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(srv: Server, *, connections: int, seconds: int, threads: int = 1) -> WrkResult:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "5s",
    ]
    for k, v in srv.headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cpu_before = _cpu_s(srv.proc.pid)
    out = subprocess.run([*cmd, srv.url], capture_output=True, text=True, check=True).stdout
    cpu = _cpu_s(srv.proc.pid) - cpu_before
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    n = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(x) for x in e.groups()) if e else 0
    return WrkResult(rps, p50, p99, n, int(m.group(1)) if m else 0, errors, cpu / n * 1e6)


def _rss_mib(pid: int) -> tuple[float, float]:
    vals = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            vals[k] = int(v.split()[0]) / 1024
    return vals["VmRSS"], vals["VmHWM"]


def _redis_used() -> tuple[int, int, int]:
    """(server used_memory bytes, keys in the bench db, bytes those keys use)."""
    import redis

    r = redis.Redis.from_url(REDIS_URL)
    try:
        used = int(r.info("memory")["used_memory"])
        keys = list(r.scan_iter("sg:rl:*", count=1000))
        per_key = sum(int(r.memory_usage(k) or 0) for k in keys)
        return used, len(keys), per_key
    finally:
        r.close()


def _audit_rows(home: Path) -> int:
    import sqlite3

    con = sqlite3.connect(home / "shopguard.db")
    try:
        return int(con.execute("SELECT count(*) FROM audit_log").fetchone()[0])
    finally:
        con.close()


def _machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, Linux {platform.release()}, Python {platform.python_version()}"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _versions() -> str:
    from importlib.metadata import version

    names = ["fastapi", "starlette", "uvicorn", "uvloop", "httptools", "slowapi", "limits", "redis"]
    return ", ".join(f"{n} {version(n)}" for n in names)


@contextlib.contextmanager
def _servers(variants: list[str], baseline_src: Path | None = None) -> Iterator[dict[str, Server]]:
    root = Path(tempfile.mkdtemp(prefix="sg-bench-gw-"))
    started: dict[str, Server] = {}
    try:
        for v in variants:
            started[v] = _start(v, root, baseline_src)
        yield started
    finally:
        for srv in started.values():
            _stop(srv)
        shutil.rmtree(root, ignore_errors=True)


def _fmt_ratio(x: float) -> str:
    return f"{x:.2f}x"


def run(args: argparse.Namespace) -> str:
    variants = [v for v in VARIANTS if v in args.variants]
    if args.baseline_src:
        variants += [v + BASELINE for v in variants if v in ("shopguard-memory", "shopguard-redis")]
    load_before = _load()
    tput: dict[str, list[WrkResult]] = {v: [] for v in variants}
    lat: dict[str, list[WrkResult]] = {v: [] for v in variants}
    redis_before = _redis_used() if "shopguard-redis" in variants else None
    with _servers(variants, args.baseline_src) as servers:
        for srv in servers.values():  # warm-up: imports, caches, JIT-free but lazy paths
            wrk(srv, connections=args.connections, seconds=args.warmup)
        for rep in range(args.reps):
            # Round-robin, rotated per repetition, so drift hits every variant alike.
            order = variants[rep % len(variants) :] + variants[: rep % len(variants)]
            for v in order:
                tput[v].append(wrk(servers[v], connections=args.connections, seconds=args.duration))
                print(f"rep {rep + 1} {v}: {tput[v][-1].rps:,.0f} req/s", file=sys.stderr)
            for v in order:
                lat[v].append(wrk(servers[v], connections=1, seconds=args.latency_duration))
        rss = {v: _rss_mib(servers[v].proc.pid) for v in variants}
        redis_after = _redis_used() if "shopguard-redis" in variants else None
        audit = {v: _audit_rows(servers[v].home) for v in variants if v.startswith("shopguard")}
    load_after = _load()

    def med(rs: list[WrkResult], attr: str) -> float:
        return float(statistics.median(getattr(r, attr) for r in rs))

    base_rps = med(tput["bare"], "rps")
    base_p50 = med(tput["bare"], "p50_ms")
    base_lat50 = med(lat["bare"], "p50_ms")
    base_cpu = med(tput["bare"], "cpu_us")
    lines = [
        f"Throughput: wrk -t1 -c{args.connections} -d{args.duration}s --latency, "
        f"{args.reps} repetitions (median); latency: wrk -t1 -c1 -d{args.latency_duration}s.",
        "",
        "| variant | req/s | vs bare | p50 ms | p99 ms | p50 added ms | "
        "1-conn p50 ms | 1-conn p99 ms | 1-conn p50 added ms | server CPU us/req | "
        "CPU vs bare | RSS MiB (peak) | non-2xx/errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for v in variants:
        t, lt = tput[v], lat[v]
        bad = sum(r.non_2xx for r in t + lt)
        errs = sum(r.errors for r in t + lt)
        cpu = med(t, "cpu_us")
        lines.append(
            f"| {v} | {med(t, 'rps'):,.0f} | {_fmt_ratio(med(t, 'rps') / base_rps)} | "
            f"{med(t, 'p50_ms'):.2f} | {med(t, 'p99_ms'):.2f} | {med(t, 'p50_ms') - base_p50:+.2f} | "
            f"{med(lt, 'p50_ms'):.3f} | {med(lt, 'p99_ms'):.3f} | {med(lt, 'p50_ms') - base_lat50:+.3f} | "
            f"{cpu:.0f} | {_fmt_ratio(base_cpu / cpu)} | "
            f"{rss[v][0]:.0f} ({rss[v][1]:.0f}) | {bad}/{errs} |"
        )
    lines.append("")
    lines.append(
        "Per-repetition req/s: "
        + "; ".join(f"{v} " + ", ".join(f"{r.rps:,.0f}" for r in tput[v]) for v in variants)
    )
    lines.append(
        "Per-repetition ratio to bare (same repetition): "
        + "; ".join(
            f"{v} "
            + ", ".join(f"{r.rps / b.rps:.2f}x" for r, b in zip(tput[v], tput["bare"], strict=True))
            for v in variants
            if v != "bare"
        )
    )
    for v, n in audit.items():
        served = sum(r.requests for r in tput[v] + lat[v])
        lines.append(
            f"Audit entries written by {v}: {n:,} (wrk counted {served:,} timed requests)."
        )
    if redis_before and redis_after:
        lines.append(
            f"Redis (used_memory): {redis_before[0] / 2**20:.2f} MiB before, "
            f"{redis_after[0] / 2**20:.2f} MiB after; {redis_after[1]} rate-limit keys "
            f"using {redis_after[2] / 1024:.1f} KiB (MEMORY USAGE)."
        )
    lines.append(f"Load average (1/5/15 min): {load_before} before, {load_after} after.")
    lines.append(f"Machine: {_machine()}. {_versions()}.")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)
    p.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--latency-duration", type=int, default=5)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--out", type=Path)
    p.add_argument(
        "--baseline-src",
        type=Path,
        help="also serve the shopguard variants from this src/ folder (another checkout), "
        "as '<variant>@baseline', in the same run",
    )
    args = p.parse_args()
    if args.serve:
        serve(args.serve, args.home, args.port)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install -y wrk")
    table = run(args)
    print(table)
    if args.out:
        args.out.write_text(table + "\n", "utf-8")


if __name__ == "__main__":
    main()
