from __future__ import annotations

import io
import json
import threading

import pytest
import sqlalchemy as sa

from shopguard.core.audit import AuditEvent, AuditLog, scrub_personal_data
from shopguard.core.errors import AuditSinkError
from shopguard.core.runtime import Runtime


def _fill(log: AuditLog, n: int = 10) -> None:
    for i in range(n):
        log.append(
            AuditEvent(
                action="fraud.score", decision="allow", principal=f"key_{i % 3}", details={"i": i}
            )
        )


def _raw(rt: Runtime, *statements: str) -> None:
    # Tampering behind the API's back, as an intruder with database access would.
    with rt.engine.begin() as conn:
        for stmt in statements:
            conn.execute(sa.text(stmt))


def test_verify_when_log_untouched_then_ok(runtime: Runtime) -> None:
    _fill(runtime.audit, 25)
    report = runtime.audit.verify()
    assert report.ok and report.entries == 25


@pytest.mark.parametrize(
    ("statements", "first_bad"),
    [
        pytest.param(
            ["UPDATE audit_log SET decision = 'deny' WHERE seq = 4"], 4, id="edit-decision"
        ),
        pytest.param(
            ["UPDATE audit_log SET details = '{\"i\": 99}' WHERE seq = 7"], 7, id="edit-details"
        ),
        pytest.param(["DELETE FROM audit_log WHERE seq = 5"], 5, id="delete-middle"),
        pytest.param(["DELETE FROM audit_log WHERE seq = 1"], 1, id="delete-first"),
        pytest.param(["DELETE FROM audit_log WHERE seq >= 9"], 9, id="truncate-tail"),
        pytest.param(
            [
                "INSERT INTO audit_log SELECT seq + 100, substr(event_id, 2) || 'x', at, request_id, principal, action,"
                " target, decision, findings, input_digest, details, prev_hash, entry_hash, mac, mac_key_id"
                " FROM audit_log WHERE seq = 3"
            ],
            11,
            id="insert-at-end",
        ),
        pytest.param(
            [
                "UPDATE audit_log SET seq = -(seq + 1) WHERE seq >= 6",
                "UPDATE audit_log SET seq = -seq WHERE seq < 0",
                "INSERT INTO audit_log SELECT 6, substr(event_id, 2) || 'x', at, request_id, principal, action,"
                " target, 'deny', findings, input_digest, details, prev_hash, entry_hash, mac, mac_key_id"
                " FROM audit_log WHERE seq = 5",
            ],
            6,
            id="insert-in-middle",
        ),
        pytest.param(
            [
                "UPDATE audit_log SET seq = -1 WHERE seq = 3",
                "UPDATE audit_log SET seq = 3 WHERE seq = 4",
                "UPDATE audit_log SET seq = 4 WHERE seq = -1",
            ],
            3,
            id="reorder",
        ),
        pytest.param(["UPDATE audit_log SET mac = entry_hash WHERE seq = 2"], 2, id="forged-mac"),
    ],
)
def test_verify_when_rows_tampered_then_first_bad_entry_named(
    runtime: Runtime, statements: list[str], first_bad: int
) -> None:
    _fill(runtime.audit, 10)
    assert runtime.audit.verify().ok
    _raw(runtime, *statements)
    report = runtime.audit.verify()
    assert not report.ok
    assert report.first_bad_seq == first_bad, report


def test_verify_when_head_anchor_deleted_then_fails(runtime: Runtime) -> None:
    _fill(runtime.audit, 3)
    _raw(runtime, "DELETE FROM audit_head")
    assert not runtime.audit.verify().ok


def test_verify_when_whole_log_and_head_rewound_then_fails(runtime: Runtime) -> None:
    _fill(runtime.audit, 3)
    _raw(runtime, "DELETE FROM audit_log", "UPDATE audit_head SET seq = 0")
    report = runtime.audit.verify()
    assert not report.ok


def test_append_when_many_threads_then_group_committed_and_chain_intact(runtime: Runtime) -> None:
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(40):
                runtime.audit.append(
                    AuditEvent(action="w", decision="allow", details={"k": k, "i": i})
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = runtime.audit.verify()
    assert report.ok and report.entries == 320
    seen = {(r.details["k"], r.details["i"]) for r in runtime.audit.records()}
    assert len(seen) == 320


def test_append_when_personal_data_in_fields_then_stored_pseudonymised(runtime: Runtime) -> None:
    rec = runtime.audit.append(
        AuditEvent(
            action="review.post",
            decision="allow",
            target="customer jane.doe@example.com",
            findings=["card 4111 1111 1111 1111 seen"],
            details={"ip": "203.0.113.9", "order": "O-12345"},
        )
    )
    dump = json.dumps(rec.to_json())
    for clear in ("jane.doe@example.com", "4111 1111 1111 1111", "203.0.113.9"):
        assert clear not in dump
    assert runtime.audit.pseudonym("jane.doe@example.com") in dump
    assert "O-12345" in dump  # not personal data: kept


def test_scrub_when_digits_fail_luhn_then_kept() -> None:
    out = scrub_personal_data("order 1234567890123 total", lambda v: "X")
    assert out == "order 1234567890123 total"


def test_append_when_database_gone_then_audit_sink_error(runtime: Runtime) -> None:
    _fill(runtime.audit, 1)
    _raw(runtime, "DROP TABLE audit_log")
    with pytest.raises(AuditSinkError):
        runtime.audit.append(AuditEvent(action="x", decision="allow"))


def test_export_jsonl_when_exported_then_every_entry_with_hashes(runtime: Runtime) -> None:
    _fill(runtime.audit, 5)
    buf = io.StringIO()
    assert runtime.audit.export_jsonl(buf) == 5
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4, 5]
    assert lines[1]["prev_hash"] == lines[0]["entry_hash"]
    assert {"schema", "event_id", "at", "principal", "action", "decision", "mac"} <= set(lines[0])


def _scrub_reference(text: str, pseudonym) -> str:
    # The same substitutions without the cheap pre-checks the real function uses.
    import re

    from shopguard.core.audit import _CARD, _EMAIL, _IPV4, _luhn_ok

    text = _EMAIL.sub(lambda m: f"pii:{pseudonym(m.group(0).lower())}", text)
    text = _CARD.sub(
        lambda m: (
            f"pii:{pseudonym(re.sub(r'[^0-9]', '', m.group(0)))}"
            if _luhn_ok(re.sub(r"[^0-9]", "", m.group(0)))
            else m.group(0)
        ),
        text,
    )
    return _IPV4.sub(lambda m: f"pii:{pseudonym(m.group(0))}", text)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("0123456789 -.@abcxyz_")),
        max_size=60,
    )
)
def test_scrub_when_prechecks_skip_regexes_then_same_result_as_reference(text: str) -> None:
    fake = lambda v: f"<{len(v)}>"  # noqa: E731
    assert scrub_personal_data(text, fake) == _scrub_reference(text, fake)


_field = st.one_of(st.none(), st.text(max_size=40))


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "event_id": st.text(max_size=32),
            "at": st.text(max_size=32),
            "request_id": _field,
            "principal": _field,
            "action": st.text(max_size=40),
            "target": _field,
            "decision": st.text(max_size=10),
            "findings": st.text(max_size=40),
            "input_digest": _field,
            "details": st.text(max_size=80),
            "prev_hash": st.text(max_size=64),
        }
    ),
    st.integers(min_value=0, max_value=2**62),
)
def test_entry_hash_when_fields_prequoted_then_same_as_canonical_json(
    fields: dict, seq: int
) -> None:
    # The writer's template must hash exactly what verify() recomputes from the stored row.
    from shopguard.core.audit import _entry_hash, _fast_entry_hash, _q

    f = fields
    quoted = tuple(
        _q(f[k])
        for k in (
            "action",
            "at",
            "decision",
            "details",
            "event_id",
            "findings",
            "input_digest",
            "principal",
            "request_id",
            "target",
        )
    )
    assert _fast_entry_hash(seq, f["prev_hash"], quoted) == _entry_hash(seq=seq, **f)


def test_append_when_many_threads_then_fewer_commits_than_entries(
    runtime: Runtime, monkeypatch
) -> None:
    commits: list[int] = []
    chain = runtime.audit._chain  # one call per committed batch

    def counting(prepared):
        commits.append(len(prepared))
        return chain(prepared)

    monkeypatch.setattr(runtime.audit, "_chain", counting)

    def worker(k: int) -> None:
        for i in range(30):
            runtime.audit.append(AuditEvent(action="w", decision="allow", details={"k": k, "i": i}))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(commits) == 240
    assert len(commits) < 240 and max(commits) > 1  # group-committed
    assert runtime.audit.verify().ok


def test_audit_log_when_sqlite_synchronous_normal_then_writer_uses_it(runtime: Runtime) -> None:
    log = AuditLog(runtime.engine, runtime.keyring, sqlite_synchronous="NORMAL")
    try:
        rec = log.append(AuditEvent(action="x", decision="allow"))
        assert rec.seq >= 1 and log.verify().ok
        if runtime.engine.dialect.name == "sqlite":
            cur = log._conn.cursor()
            assert cur.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
            cur.close()
    finally:
        log.close()
    with pytest.raises(ValueError):
        AuditLog(runtime.engine, runtime.keyring, sqlite_synchronous="OFF")


def test_append_when_database_comes_back_then_writer_reconnects(runtime: Runtime) -> None:
    _fill(runtime.audit, 2)
    _raw(runtime, "ALTER TABLE audit_log RENAME TO audit_log_away")
    with pytest.raises(AuditSinkError):
        runtime.audit.append(AuditEvent(action="x", decision="allow"))
    _raw(runtime, "ALTER TABLE audit_log_away RENAME TO audit_log")
    rec = runtime.audit.append(AuditEvent(action="y", decision="allow"))
    # The refused entry was spooled locally and lands first, marked as spooled.
    records = list(runtime.audit.records())
    assert [r.action for r in records[-2:]] == ["x", "y"]
    assert records[-2].details.get("audit_spooled") is True
    assert rec.seq == 4 and runtime.audit.verify().ok
