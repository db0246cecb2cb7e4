"""Private Redis and PostgreSQL servers, and gateway worker processes, for fault tests.

The shared servers on 5432/6379 are never touched: every fault is injected into a
server this module starts on a free port in the test's temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import gateway_home, make_settings, trained_home

__all__ = ["gateway_home", "make_settings", "trained_home"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, *, up: bool, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not go {'up' if up else 'down'}")


class PrivateRedis:
    """A throw-away ``redis-server`` this test may kill and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, up=True)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None
        _wait_port(self.port, up=False)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    r = PrivateRedis()
    r.start()
    try:
        yield r
    finally:
        r.kill()


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    return Path(initdb).parent


class PrivatePostgres:
    """A throw-away PostgreSQL cluster (initdb in a temp dir) this test may stop and start.

    PostgreSQL refuses to run as root: as root the cluster belongs to the
    ``postgres`` system user and its commands run through ``runuser``.
    """

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.data = root / "pgdata"
        self.bin = _pg_bin()
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            root.chmod(0o755)
        self.data.mkdir(mode=0o700)
        if self._as:
            shutil.chown(self.data, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as, str(self.bin / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
            cwd="/",
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-w", "-l", "/dev/null", "start")
        _wait_port(self.port, up=True)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        _wait_port(self.port, up=False)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    # Not under pytest's tmp dir: that is private to this user, and the server may run as
    # the ``postgres`` user.
    root = Path(tempfile.mkdtemp(prefix="shopguard-pg-"))
    try:
        pg = PrivatePostgres(root)
        pg.start()
        try:
            yield pg
        finally:
            with contextlib.suppress(subprocess.CalledProcessError, RuntimeError):
                pg.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Worker:
    url: str
    proc: subprocess.Popen[bytes]


def start_workers(n: int, env: dict[str, str]) -> list[Worker]:
    """``n`` gateway processes (``shopguard serve``) on their own ports, all healthy."""
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src, **env}
    workers = []
    for _ in range(n):
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "shopguard.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        workers.append(Worker(f"http://127.0.0.1:{port}", proc))
    for w in workers:
        deadline = time.monotonic() + 60
        while True:
            if w.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {w.proc.returncode}")
            try:
                if httpx.get(f"{w.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("worker did not start")
            time.sleep(0.1)
    return workers


def stop_workers(workers: list[Worker]) -> None:
    for w in workers:
        if w.proc.poll() is None:
            w.proc.terminate()
    for w in workers:
        try:
            w.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait(timeout=10)
