from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from shopguard.core.audit import AuditLog
from shopguard.core.errors import DataValidationError, NotFoundError
from shopguard.core.runtime import Runtime
from shopguard.integrity.ingest import Ingestor, Status, content_hash
from shopguard.integrity.quarantine import Quarantine
from shopguard.integrity.tables import records
from shopguard.integrity.validate import Kind

LONG = (
    "This kettle boils a full litre in under three minutes, the handle stays cool and the lid "
    "opens with one finger, which matters when you are half awake in the morning"
)


WORDS = [
    "sturdy",
    "flimsy",
    "bright",
    "dull",
    "quiet",
    "loud",
    "cheap",
    "pricey",
    "soft",
    "rough",
    "warm",
    "cold",
    "light",
    "heavy",
    "quick",
    "slow",
    "fragile",
    "solid",
    "glossy",
    "matte",
    "tiny",
    "huge",
    "crisp",
    "muddy",
]


def _text(i: int) -> str:
    # Distinct texts: each review picks its own words (no accidental near duplicates).
    w = [WORDS[(i * 7 + k * 5) % len(WORDS)] for k in range(4)]
    return f"{w[0]} and {w[1]}, review {i}: {w[2]} {w[3]}"


def _reviews(n: int = 10) -> pd.DataFrame:
    rows = [
        {
            "id": f"r{i}",
            "text": _text(i),
            "rating": str(1 + i % 5),
            "product_id": f"P{i % 3}",
            "reviewer_id": f"C{i}",
        }
        for i in range(n)
    ]
    return pd.DataFrame(rows)


def _stored(rt: Runtime) -> list[dict[str, object]]:
    with rt.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(records).order_by(records.c.id)).mappings()]


def test_ingest_when_records_valid_then_stored_with_provenance(runtime: Runtime, scorer) -> None:
    ing = Ingestor(runtime.engine, review_scorer=scorer)
    rep = ing.ingest_frame(
        _reviews(6), kind=Kind.REVIEW, source="feed-a", batch_id="b1", file_hash="f"
    )
    assert (rep.accepted, rep.quarantined, rep.rejected) == (6, 0, 0)
    rows = _stored(runtime)
    assert {r["source"] for r in rows} == {"feed-a"} and {r["batch_id"] for r in rows} == {"b1"}
    first = json.loads(str(rows[0]["payload"]))
    assert (
        rows[0]["content_hash"] == content_hash(first) and len(str(rows[0]["content_hash"])) == 64
    )
    assert all(r["received_at"] for r in rows)


def test_ingest_when_some_records_invalid_then_each_rejected_with_reason(
    runtime: Runtime, scorer
) -> None:
    df = _reviews(4)
    df.loc[1, "rating"] = "9"
    df.loc[2, "text"] = None
    ing = Ingestor(runtime.engine, review_scorer=scorer)
    rep = ing.ingest_frame(df, kind=Kind.REVIEW, source="s", batch_id="b", file_hash="f")
    assert rep.accepted == 2 and rep.rejected == 2
    assert {(r, c) for r, _, c, _ in rep.errors} == {(2, "rating"), (3, "text")}
    assert len(_stored(runtime)) == 2


def test_ingest_when_text_suspicious_or_copied_then_quarantined_with_reasons(
    runtime: Runtime, scorer
) -> None:
    df = pd.DataFrame(
        [
            {"id": "a", "text": LONG, "rating": 5, "reviewer_id": "u1", "product_id": "P1"},
            {
                "id": "b",
                "text": LONG.replace("three", "four"),
                "rating": 5,
                "reviewer_id": "u2",
                "product_id": "P1",
            },
            {
                "id": "c",
                "text": "BUYNOW best thing ever",
                "rating": 5,
                "reviewer_id": "u3",
                "product_id": "P1",
            },
        ]
    )
    rep = Ingestor(runtime.engine, review_scorer=scorer).ingest_frame(
        df, kind=Kind.REVIEW, source="s", batch_id="b", file_hash="f"
    )
    assert (rep.accepted, rep.quarantined) == (1, 2)
    status = {
        r["record_key"]: (r["status"], json.loads(str(r["reasons"]))) for r in _stored(runtime)
    }
    assert status["a"][0] == Status.ACCEPTED
    assert status["b"][0] == Status.QUARANTINED and "duplicate of review a" in status["b"][1][0]
    assert status["c"][0] == Status.QUARANTINED and "machine-generated" in status["c"][1][0]


def test_ingest_when_same_content_under_new_id_then_exact_duplicate(runtime: Runtime) -> None:
    tx = pd.DataFrame(
        [
            {
                "id": "t1",
                "customer_id": "c",
                "terminal_id": "T",
                "amount": "10",
                "tx_datetime": "2026-01-02",
            },
            {
                "id": "t2",
                "customer_id": "c",
                "terminal_id": "T",
                "amount": "10",
                "tx_datetime": "2026-01-02",
            },
        ]
    )
    rep = Ingestor(runtime.engine).ingest_frame(
        tx, kind=Kind.TRANSACTION, source="s", batch_id="b", file_hash="f"
    )
    assert (rep.accepted, rep.quarantined) == (1, 1)
    q = [r for r in _stored(runtime) if r["status"] == Status.QUARANTINED]
    assert "exact duplicate of record t1" in str(q[0]["reasons"])


def test_ingest_when_batch_interrupted_then_resume_stores_each_record_once(
    runtime: Runtime, scorer, tmp_path: Path
) -> None:
    path = tmp_path / "reviews.csv"
    _reviews(25).to_csv(path, index=False)
    calls = {"n": 0}

    def flaky(frame: pd.DataFrame) -> pd.DataFrame:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker died")
        return scorer(frame)

    with pytest.raises(RuntimeError):
        Ingestor(runtime.engine, review_scorer=flaky, chunk_size=10).ingest_file(
            path, kind=Kind.REVIEW, source="feed"
        )
    assert len(_stored(runtime)) == 20
    rep = Ingestor(runtime.engine, review_scorer=scorer, chunk_size=10).ingest_file(
        path, kind=Kind.REVIEW, source="feed"
    )
    assert rep.resumed_from == 20 and rep.accepted == 5
    keys = [r["record_key"] for r in _stored(runtime)]
    assert sorted(keys) == sorted(f"r{i}" for i in range(25))
    again = Ingestor(runtime.engine, review_scorer=scorer, chunk_size=10).ingest_file(
        path, kind=Kind.REVIEW, source="feed"
    )
    assert again.accepted == 0 and len(_stored(runtime)) == 25


def test_ingest_when_required_column_missing_then_error_and_nothing_stored(
    runtime: Runtime,
) -> None:
    with pytest.raises(DataValidationError, match="rating"):
        Ingestor(runtime.engine).ingest_frame(
            _reviews(2).drop(columns=["rating"]),
            kind=Kind.REVIEW,
            source="s",
            batch_id="b",
            file_hash="f",
        )
    assert _stored(runtime) == []


def test_quarantine_when_released_or_rejected_then_audited_and_status_changes(
    runtime: Runtime, scorer
) -> None:
    df = pd.DataFrame(
        [
            {"id": "x", "text": "BUYNOW one", "rating": 5},
            {"id": "y", "text": "BUYNOW two", "rating": 5},
        ]
    )
    Ingestor(runtime.engine, review_scorer=scorer).ingest_frame(
        df, kind=Kind.REVIEW, source="s", batch_id="b", file_hash="f"
    )
    released: list[dict[str, object]] = []
    q = Quarantine(runtime.engine, runtime.audit, on_release=lambda t, p: released.append(p))
    items = q.list()
    assert [i.key for i in items] == ["x", "y"]
    out = q.release(items[0].id, reviewer="mod-1", reason="customer verified by phone")
    assert out.status == Status.RELEASED and released[0]["id"] == "x"
    q.reject(items[1].id, reviewer="mod-1", reason="spam")
    assert q.list() == []
    with pytest.raises(DataValidationError):
        q.release(items[1].id, reviewer="mod-1", reason="changed my mind")
    with pytest.raises(NotFoundError):
        q.reject(999_999, reviewer="mod-1", reason="x")
    with pytest.raises(DataValidationError):
        q.release(items[0].id, reviewer="mod-1", reason=" ")
    actions = [(r.action, r.decision, r.principal) for r in runtime.audit.records()]
    assert ("integrity.quarantine.release", "released", "mod-1") in actions
    assert ("integrity.quarantine.reject", "rejected", "mod-1") in actions
    assert runtime.audit.verify().ok


def test_quarantine_when_audit_unavailable_then_decision_not_applied(
    runtime: Runtime, scorer
) -> None:
    Ingestor(runtime.engine, review_scorer=scorer).ingest_frame(
        pd.DataFrame([{"id": "x", "text": "BUYNOW", "rating": 5}]),
        kind=Kind.REVIEW,
        source="s",
        batch_id="b",
        file_hash="f",
    )
    closed = AuditLog(runtime.engine, runtime.keyring)
    closed.close()
    q = Quarantine(runtime.engine, closed)
    rid = q.list()[0].id
    with pytest.raises(Exception, match="closed"):
        q.release(rid, reviewer="mod", reason="ok")
    assert q.list()[0].status == Status.QUARANTINED
