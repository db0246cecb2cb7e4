"""The audit spool: entries the database refused land exactly once, in order, chain intact."""

from __future__ import annotations

import json

from shopguard.core.audit import _FIELDS, AuditEvent
from shopguard.core.runtime import Runtime
from shopguard.core.settings import Settings


def _prepared(rt: Runtime, n: int, tag: str) -> list[dict]:
    prepared = rt.audit._prepare([AuditEvent(action=tag, decision="allow") for _ in range(n)])
    return [dict(zip(_FIELDS, values, strict=True)) for values, _, _ in prepared]


def test_replay_when_some_spooled_entries_already_committed_then_each_lands_exactly_once(
    settings: Settings,
) -> None:
    rt = Runtime.open(settings)
    try:
        entries = _prepared(rt, 4, "spooled")
        assert rt.audit._spool is not None
        assert rt.audit._spool.add(entries)
        rt.audit._chain_fields(
            entries[:2]
        )  # a commit that landed but whose acknowledgement was lost
        rt.audit.append(AuditEvent(action="next", decision="allow"))  # replays first
        ids = [r.event_id for r in rt.audit.records()]
        assert ids == [e["event_id"] for e in entries] + [ids[-1]]
        assert not rt.audit._spool_pending()
        assert rt.audit.verify().ok
    finally:
        rt.close()


def test_replay_when_a_dead_process_left_a_spool_file_then_another_process_lands_it(
    settings: Settings,
) -> None:
    rt = Runtime.open(settings)
    try:
        entries = _prepared(rt, 3, "orphan")
        spool_dir = settings.home / "audit-spool"
        spool_dir.mkdir(exist_ok=True)
        orphan = spool_dir / "spool-999999-deadbeef.jsonl"
        orphan.write_text("".join(json.dumps(e) + "\n" for e in entries) + '{"torn": ')
        rt.audit.append(AuditEvent(action="next", decision="allow"))
        actions = [r.action for r in rt.audit.records()]
        assert actions == ["orphan"] * 3 + ["next"]
        assert not orphan.exists()
        assert rt.audit.verify().ok
    finally:
        rt.close()
