"""The audit writer process: durable before acknowledged, in order, fail closed, and restartable."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from shopguard.core.audit import AuditEvent
from shopguard.core.audit_proc import ProcessAuditWriter
from shopguard.core.errors import AuditSinkError
from shopguard.core.runtime import Runtime, init_state
from shopguard.core.settings import Settings, load_settings
from shopguard.core.tables import audit_head, audit_log


def _event(i: int, **details: object) -> AuditEvent:
    return AuditEvent(
        "GET /v1/x", "allow", "key-1", None, f"req-{i}", (), None, {"i": i, **details}
    )


def _rows(settings: Settings) -> list[dict[str, object]]:
    """What another connection sees committed (a fresh engine, not the writer's)."""
    rt = Runtime.open(settings, migrate_schema=False)
    try:
        with rt.engine.connect() as conn:
            rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).mappings().all()
        return [dict(r) for r in rows]
    finally:
        rt.close()


def _process_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"audit_writer": "process"})


def test_entries_are_committed_by_the_child_before_the_append_returns(settings: Settings) -> None:
    rt = Runtime.open(_process_settings(settings))
    try:
        writer = rt.audit.process_writer
        assert writer is not None

        async def go() -> list[int]:
            await rt.audit.append_durable(_event(0))
            first = [int(str(r["details"]).count('"i"')) for r in _rows(settings)]
            await asyncio.gather(*(rt.audit.append_durable(_event(i)) for i in range(1, 200)))
            return first

        first = asyncio.run(go())
        # Seen by another connection as soon as the first append returned: committed.
        assert first == [1]
        pid = writer.pid
        assert pid is not None and pid != os.getpid()
    finally:
        rt.close()
    rows = _rows(settings)
    assert sorted(r["request_id"] for r in rows) == sorted(f"req-{i}" for i in range(200))
    rt2 = Runtime.open(settings)
    try:
        report = rt2.audit.verify()
    finally:
        rt2.close()
    assert report.ok and report.entries == 200
    # The writer thread of the gateway process never ran: the child did the work.
    assert rt.audit._writer is None


def test_closing_flushes_what_was_sent_and_ends_the_child(settings: Settings) -> None:
    rt = Runtime.open(_process_settings(settings))
    writer = rt.audit.process_writer
    assert writer is not None

    async def go() -> None:
        await asyncio.gather(*(rt.audit.append_durable(_event(i)) for i in range(50)))

    asyncio.run(go())
    pid = writer.pid
    assert pid is not None
    rt.close()
    assert writer.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert len(_rows(settings)) == 50


def test_a_dead_writer_refuses_entries_then_a_new_one_takes_over(settings: Settings) -> None:
    rt = Runtime.open(_process_settings(settings))
    writer = rt.audit.process_writer
    assert writer is not None

    async def go() -> tuple[BaseException | None, BaseException | None]:
        await rt.audit.append_durable(_event(0))
        pid = writer.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        # Entries sent after the child died are refused, never reported durable.
        refused: BaseException | None = None
        try:
            await asyncio.wait_for(rt.audit.append_durable(_event(1)), timeout=30)
        except AuditSinkError as exc:
            refused = exc
        during_backoff: BaseException | None = None
        try:
            await rt.audit.append_durable(_event(2))
        except AuditSinkError as exc:
            during_backoff = exc
        await asyncio.sleep(1.1)  # the restart back-off
        await rt.audit.append_durable(_event(3))
        assert writer.pid not in (None, pid)
        return refused, during_backoff

    try:
        refused, during_backoff = asyncio.run(go())
    finally:
        rt.close()
    assert isinstance(refused, AuditSinkError)
    assert isinstance(during_backoff, AuditSinkError)
    assert [r["request_id"] for r in _rows(settings)] == ["req-0", "req-3"]


def test_a_commit_that_fails_in_the_child_is_refused_to_the_caller(settings: Settings) -> None:
    rt = Runtime.open(_process_settings(settings))

    async def go() -> None:
        await rt.audit.append_durable(_event(0))
        with rt.engine.begin() as conn:  # the chain's head anchor disappears
            conn.execute(sa.delete(audit_head))
        with pytest.raises(AuditSinkError):
            await rt.audit.append_durable(_event(1))

    try:
        asyncio.run(go())
    finally:
        rt.close()
    assert [r["request_id"] for r in _rows(settings)] == ["req-0"]


def test_another_event_loop_falls_back_to_the_writer_thread(settings: Settings) -> None:
    rt = Runtime.open(_process_settings(settings))
    first = asyncio.new_event_loop()
    try:
        first.run_until_complete(rt.audit.append_durable(_event(0)))
        # A second live loop in the same process: the child serves the first one only.
        second = asyncio.new_event_loop()
        try:
            second.run_until_complete(rt.audit.append_durable(_event(1)))
        finally:
            second.close()
        assert rt.audit._writer is not None  # the thread writer took the second loop's entry
    finally:
        first.run_until_complete(asyncio.sleep(0))
        rt.close()
        first.close()
    assert sorted(r["request_id"] for r in _rows(settings)) == ["req-0", "req-1"]


def test_the_child_opens_a_key_ring_whose_master_key_was_given_in_settings(tmp_path: Path) -> None:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    s = load_settings(home=tmp_path / "h", master_key=key, audit_writer="process")
    init_state(s)
    assert not s.master_key_path.exists()  # only the setting holds it
    rt = Runtime.open(s)
    try:
        asyncio.run(rt.audit.append_durable(_event(0, note="mail me at a.b@example.com")))
    finally:
        rt.close()
    rows = _rows(s)
    assert len(rows) == 1
    assert "example.com" not in str(rows[0]["details"])  # scrubbed in the child, as in a thread
    rt = Runtime.open(s)
    try:
        assert rt.audit.verify().ok
    finally:
        rt.close()


def test_the_served_app_uses_a_writer_process_when_configured(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shopguard.gateway.app import app_from_environment

    monkeypatch.setenv("SHOPGUARD_HOME", str(settings.home))
    monkeypatch.setenv("SHOPGUARD_AUDIT_WRITER", "process")
    if settings.database_url:
        monkeypatch.setenv("SHOPGUARD_DATABASE_URL", settings.database_url)
    app = app_from_environment()
    assert app.state.runtime.audit.process_writer is not None
    app.state.runtime.close()
    monkeypatch.setenv("SHOPGUARD_AUDIT_WRITER", "thread")
    app = app_from_environment()
    assert app.state.runtime.audit.process_writer is None
    app.state.runtime.close()


def test_usage_errors_exit_2() -> None:
    from shopguard.core.audit_proc import main

    assert main([]) == 2
    assert main(["not-a-number"]) == 2


def test_a_writer_that_never_started_closes_cleanly(settings: Settings) -> None:
    w = ProcessAuditWriter(_process_settings(settings))
    start = time.monotonic()
    w.close()
    assert w.pid is None and time.monotonic() - start < 5
