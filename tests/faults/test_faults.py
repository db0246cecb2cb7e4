"""Faults injected into a running gateway: a killed worker, Redis and PostgreSQL restarts,
a full disk and an unreadable key file. Each fault hits a private server or file."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from shopguard.cli import main
from shopguard.core.audit import AuditEvent
from shopguard.core.errors import AuditSinkError
from shopguard.core.runtime import Runtime
from shopguard.core.tables import alerts, audit_log
from shopguard.gateway.keys import ApiKeyStore
from tests.faults.conftest import (
    PrivatePostgres,
    PrivateRedis,
    make_settings,
    start_workers,
    stop_workers,
)
from tests.integration.conftest import Gateway

pytestmark = pytest.mark.slow

REVIEWS = "/v1/products/P00001/reviews?limit=1"
_NET_ERRORS = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


def _audit_request_ids(rt: Runtime) -> list[str]:
    with rt.engine.connect() as conn:
        return [str(r[0]) for r in conn.execute(sa.select(audit_log.c.request_id))]


def _verify_cli(home: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> int:
    monkeypatch.setenv("SHOPGUARD_HOME", str(home))
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return main(["audit", "verify"])


def test_worker_when_killed_under_load_then_requests_fail_over_and_nothing_committed_is_lost(
    gateway_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(gateway_home)
    rt = Runtime.open(settings)
    secret = (
        ApiKeyStore(rt.engine, rt.keyring)
        .create(name="load", tenant="default", scopes=["reviews:read"])
        .secret
    )
    env = {
        "SHOPGUARD_HOME": str(gateway_home),
        "SHOPGUARD_RATE_LIMIT_KEY": "100000/minute",
        "SHOPGUARD_RATE_LIMIT_IP": "100000/minute",
    }
    workers = start_workers(2, env)
    urls = [w.url for w in workers]
    ok_ids: list[str] = []
    failed: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    counter = iter(range(10**9))

    def client_loop() -> None:
        # A tiny client-side round-robin balancer: on a connection error, the next worker.
        with httpx.Client(timeout=5, headers={"X-API-Key": secret}) as client:
            while not stop.is_set():
                start = next(counter)
                for attempt in range(len(urls)):
                    url = urls[(start + attempt) % len(urls)]
                    try:
                        r = client.get(url + REVIEWS)
                    except _NET_ERRORS:
                        continue
                    with lock:
                        if r.status_code == 200:
                            ok_ids.append(r.headers["x-request-id"])
                        else:
                            failed.append(str(r.status_code))
                    break
                else:
                    with lock:
                        failed.append("no worker answered")

    threads = [threading.Thread(target=client_loop) for _ in range(4)]
    try:
        for url in urls:  # warm up: each worker loads its models on first use
            assert httpx.get(url + REVIEWS, headers={"X-API-Key": secret}, timeout=60).is_success
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(ok_ids) < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        before_kill = len(ok_ids)
        os.kill(workers[0].proc.pid, signal.SIGKILL)
        workers[0].proc.wait(timeout=10)
        deadline = time.monotonic() + 30
        while len(ok_ids) < before_kill + 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        after_kill = len(ok_ids) - before_kill
    finally:
        stop.set()
        stop_workers(workers)
    assert before_kill > 10 and after_kill > 10, (before_kill, after_kill)
    assert failed == []
    # Every answered request's decision was committed before its response was sent.
    stored = set(_audit_request_ids(rt))
    assert set(ok_ids) <= stored
    rt.close()
    assert _verify_cli(gateway_home, monkeypatch) == 0


def test_redis_when_restarted_then_rate_limits_fail_closed_alert_and_recover(
    gateway_home: Path, private_redis: PrivateRedis
) -> None:
    gw = Gateway(make_settings(gateway_home, redis_url=private_redis.url))
    try:
        h = {"X-API-Key": gw.key("reviews:read")}
        with gw.client() as client:
            assert client.get(REVIEWS, headers=h).status_code == 200
            private_redis.kill()
            down = client.get(REVIEWS, headers=h)
            assert down.status_code == 503
            assert down.headers["retry-after"] == "1"
            assert down.headers["content-type"] == "application/problem+json"
            private_redis.start()
            deadline = time.monotonic() + 10
            codes = []
            while time.monotonic() < deadline:
                codes.append(client.get(REVIEWS, headers=h).status_code)
                if codes[-1] == 200:
                    break
                time.sleep(0.2)
            assert codes[-1] == 200, codes  # recovered with no restart of the gateway
        with gw.runtime.engine.connect() as conn:
            topics = [r[0] for r in conn.execute(sa.select(alerts.c.topic))]
        assert "gateway.rate_limit.unavailable" in topics
    finally:
        gw.close()


def test_postgres_when_restarted_then_503_retry_after_and_spooled_audit_lands_exactly_once(
    gateway_home: Path, private_postgres: PrivatePostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(gateway_home, database_url=private_postgres.url)
    gw = Gateway(settings)
    try:
        h = {"X-API-Key": gw.key("reviews:read")}
        with gw.client() as client:
            for _ in range(3):
                assert client.get(REVIEWS, headers=h).status_code == 200
            private_postgres.stop()
            time.sleep(settings.gateway_key_cache_ttl_s + 0.1)
            down = [client.get(REVIEWS, headers=h) for _ in range(4)]
            assert [r.status_code for r in down] == [503] * 4
            assert all(r.headers.get("retry-after") == "1" for r in down)
            spool = gateway_home / "audit-spool"
            assert any(p.stat().st_size > 0 for p in spool.glob("spool-*.jsonl"))
            private_postgres.start()
            deadline = time.monotonic() + 15
            status = 0
            while time.monotonic() < deadline and status != 200:
                status = client.get(REVIEWS, headers=h).status_code
                time.sleep(0.2)
            assert status == 200
        with gw.runtime.engine.connect() as conn:
            rows = conn.execute(sa.select(audit_log.c.event_id, audit_log.c.details)).all()
        event_ids = [r[0] for r in rows]
        spooled = [r for r in rows if '"audit_spooled":true' in r[1]]
        assert len(event_ids) == len(set(event_ids))  # nothing landed twice
        assert len(spooled) == 4  # the four refused requests, each recorded once
        assert not gw.runtime.audit._spool_pending()
        assert gw.runtime.audit.verify().ok
    finally:
        gw.close()
    assert _verify_cli(gateway_home, monkeypatch, SHOPGUARD_DATABASE_URL=private_postgres.url) == 0


def test_sqlite_when_disk_full_then_clear_error_no_corruption_and_chain_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    # A real full filesystem: a 16 MiB tmpfs (the CI runs as root, which may mount).
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], check=True)
    try:
        home = mnt / ".shopguard"
        settings = make_settings(home)
        rt = Runtime.open(settings)
        ok = 0
        for i in range(20):
            rt.audit.append(AuditEvent(action="fill", decision="allow", target=f"t{i}"))
            ok += 1
        filler = mnt / "filler"
        with filler.open("wb", buffering=0) as fh:  # take every free block
            try:
                while True:
                    fh.write(b"\0" * 65536)
            except OSError:
                pass
        errors = []
        for i in range(200):  # enough rows to need new pages
            try:
                rt.audit.append(
                    AuditEvent(action="fill", decision="allow", details={"pad": "x" * 2000, "i": i})
                )
                ok += 1
            except AuditSinkError as exc:
                errors.append(str(exc))
                break
        assert errors, "the disk never filled"
        assert "could not be committed" in errors[0] and "\n" not in errors[0]
        rt.close()
        filler.unlink()
        rt = Runtime.open(settings)
        with rt.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        report = rt.audit.verify()
        assert report.ok
        assert report.entries >= ok  # every acknowledged entry is there (plus spooled refusals)
        rt.audit.append(AuditEvent(action="after", decision="allow"))  # writable again
        assert rt.audit.verify().ok
        rt.close()
        assert _verify_cli(home, monkeypatch) == 0
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_serve_when_key_file_unreadable_then_refuses_to_start_with_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / ".shopguard"
    settings = make_settings(home)
    key = settings.master_key_path
    key.unlink()
    key.mkdir(mode=0o700)  # unreadable as a key even by root
    monkeypatch.setenv("SHOPGUARD_HOME", str(home))
    rc = main(["serve", "--port", "1"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.count("\n") == 0
    assert "key file" in err and "cannot be read" in err
