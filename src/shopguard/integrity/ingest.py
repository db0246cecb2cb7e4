"""One ingestion pipeline for reviews, transactions and sessions.

Every record is validated (schema and ranges, each problem named), stamped
with provenance (tenant, source, batch, time received, SHA-256 of its
canonical content), checked for exact and near duplicates, scored when it is a
review, and stored as ``accepted`` or ``quarantined`` with its reasons.
Quarantined records are neither shown to shoppers nor used for training until
a reviewer releases them (:mod:`.quarantine`).

Batches are resumable: a batch's id is derived from its source and the
SHA-256 of its content, each chunk of records is committed in one transaction
together with the batch's progress counter, and a record's key is unique per
(tenant, kind, source). Running the same file again after a crash continues
where the last committed chunk ended and never stores a record twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shopguard.core.errors import DataValidationError
from shopguard.integrity.dedup import NearDuplicateIndex
from shopguard.integrity.tables import batches, records, rejections
from shopguard.integrity.validate import REQUIRED, FieldError, Kind, clean_record, validate_record

__all__ = [
    "IngestReport",
    "Ingestor",
    "RecordDecision",
    "Status",
    "content_hash",
    "read_table",
]

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: ``scorer(frame) -> frame`` with columns ``score`` (0-1) and ``reasons`` (list of str),
#: one row per input row, same order (see :class:`~shopguard.integrity.reviews.ReviewScorer`).
ReviewScoring = Callable[[pd.DataFrame], pd.DataFrame]


class Status:
    """The states a stored record can be in."""

    ACCEPTED = "accepted"
    QUARANTINED = "quarantined"
    RELEASED = "released"
    REJECTED = "rejected"


def content_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 of the record's canonical JSON, without its id (same content, same hash)."""
    body = {k: v for k, v in record.items() if k != "id"}
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()


@dataclass(frozen=True)
class RecordDecision:
    """What happened to one record."""

    key: str
    status: str
    score: float | None
    reasons: tuple[str, ...]
    content_hash: str
    record_id: int | None = None


@dataclass
class IngestReport:
    """Counts of one batch (or one call), plus each rejected row's reasons."""

    batch_id: str
    accepted: int = 0
    quarantined: int = 0
    rejected: int = 0
    skipped_existing: int = 0
    resumed_from: int = 0
    errors: list[tuple[int, str | None, str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "rejected": self.rejected,
            "skipped_existing": self.skipped_existing,
            "resumed_from": self.resumed_from,
            "errors": [
                {"row": r, "id": k, "column": c, "reason": why} for r, k, c, why in self.errors
            ],
        }


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (optionally gzipped), JSON-lines or Parquet file as strings.

    Raises
    ------
    DataValidationError
        The file is missing or cannot be parsed.
    """
    if not path.is_file():
        raise DataValidationError("file not found", file=path.name)
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            return pd.read_parquet(path)
        if name.endswith((".jsonl", ".ndjson")):
            return pd.read_json(path, lines=True, dtype=False)
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataValidationError(
            f"unreadable table ({type(exc).__name__})", file=path.name
        ) from None


def _subject(kind: Kind, rec: Mapping[str, Any]) -> str | None:
    """What the record is about (indexed): a review's product, a payment's or session's customer."""
    value = rec.get("product_id") if kind is Kind.REVIEW else rec.get("customer_id")
    return None if value is None else str(value)


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Ingestor:
    """Validate, stamp, deduplicate, score and store records of one tenant.

    Parameters
    ----------
    engine:
        The runtime's engine (the integrity migrations applied).
    tenant:
        Whose data this is.
    review_scorer:
        Scores review frames; None loads the shipped
        :class:`~shopguard.integrity.reviews.ReviewScorer` on first use.
    quarantine_at:
        Reviews scoring at or above this are quarantined.
    chunk_size:
        Records committed per transaction (the resume granularity).
    clock:
        Injectable UTC clock.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        tenant: str = "default",
        review_scorer: ReviewScoring | None = None,
        quarantine_at: float = 0.8,
        chunk_size: int = 500,
        near_duplicate_threshold: float = 0.6,
        context_days: int = 30,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.tenant = tenant
        self.quarantine_at = quarantine_at
        self.chunk_size = chunk_size
        self.near_duplicate_threshold = near_duplicate_threshold
        self.context_days = context_days
        self._scorer = review_scorer
        self._clock = clock or (lambda: datetime.now(UTC))
        self._index: NearDuplicateIndex | None = None

    # -- helpers ---------------------------------------------------------------------
    def _review_scorer(self) -> ReviewScoring:
        if self._scorer is None:
            from shopguard.integrity.reviews import ReviewScorer

            self._scorer = ReviewScorer.load_default().score_frame
        return self._scorer

    def _near_index(self) -> NearDuplicateIndex:
        """Index of every stored review text of this tenant (built once, then kept current)."""
        if self._index is None:
            index = NearDuplicateIndex(threshold=self.near_duplicate_threshold)
            with self.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(records.c.source, records.c.record_key, records.c.payload)
                    .where(
                        records.c.tenant == self.tenant,
                        records.c.kind == Kind.REVIEW.value,
                        records.c.status != Status.REJECTED,
                    )
                    .order_by(records.c.id)
                )
                for source, key, payload in rows:
                    rec = json.loads(payload)
                    index.query_add(f"{source}:{key}", rec["text"], group=rec.get("reviewer_id"))
            self._index = index
        return self._index

    def _context_reviews(self, product_ids: Iterable[str]) -> pd.DataFrame:
        """Recent stored reviews of these products: the behaviour signals' history."""
        ids = sorted({p for p in product_ids if p})
        if not ids:
            return pd.DataFrame()
        since = (self._clock() - timedelta(days=self.context_days)).isoformat()
        out = []
        c = records.c
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                rows = conn.execute(
                    sa.select(c.payload, c.received_at).where(
                        c.tenant == self.tenant,
                        c.kind == Kind.REVIEW.value,
                        c.subject.in_(ids[i : i + 500]),
                        c.status.in_([Status.ACCEPTED, Status.RELEASED]),
                        c.received_at >= since,
                    )
                )
                for payload, received in rows:
                    rec = json.loads(payload)
                    rec.setdefault("created_at", received[:19])
                    out.append(rec)
        return pd.DataFrame(out)

    # -- the pipeline ------------------------------------------------------------------
    def _decide(
        self, kind: Kind, cleaned: list[tuple[int, dict[str, Any]]], source: str
    ) -> list[tuple[int, dict[str, Any], str, float | None, list[str]]]:
        """Score and deduplicate valid records; returns (row, record, status, score, reasons)."""
        out: list[tuple[int, dict[str, Any], str, float | None, list[str]]] = []
        if not cleaned:
            return out
        hashes = [content_hash(rec) for _, rec in cleaned]
        with self.engine.connect() as conn:
            known: dict[str, str] = {}
            for i in range(0, len(hashes), 500):
                for h, key in conn.execute(
                    sa.select(records.c.content_hash, records.c.record_key).where(
                        records.c.tenant == self.tenant,
                        records.c.kind == kind.value,
                        records.c.content_hash.in_(hashes[i : i + 500]),
                    )
                ):
                    known.setdefault(h, key)
        scores: list[float | None] = [None] * len(cleaned)
        reasons: list[list[str]] = [[] for _ in cleaned]
        if kind is Kind.REVIEW:
            frame = pd.DataFrame([rec for _, rec in cleaned])
            context = self._context_reviews(frame.get("product_id", pd.Series(dtype=str)).dropna())
            n_ctx = len(context)
            both = pd.concat([context, frame], ignore_index=True) if n_ctx else frame
            if "id" in both.columns:
                both["id"] = both["id"].astype(str)
            scored = self._review_scorer()(both).iloc[n_ctx:].reset_index(drop=True)
            index = self._near_index()
            for j, (_, rec) in enumerate(cleaned):
                scores[j] = float(scored["score"].iloc[j])
                reasons[j] = list(scored["reasons"].iloc[j])
                match = index.query_add(
                    f"{source}:{rec['id']}", rec["text"], group=rec.get("reviewer_id")
                )
                if match is not None and not any("duplicate" in r for r in reasons[j]):
                    what = "exact" if match.exact else f"near ({match.similarity:.2f})"
                    reasons[j].append(f"{what} duplicate of review {match.other.split(':', 1)[-1]}")
        seen: dict[str, str] = {}
        for j, ((row, rec), h) in enumerate(zip(cleaned, hashes, strict=True)):
            why = list(reasons[j])
            if h in known and known[h] != rec["id"]:
                why.append(f"exact duplicate of record {known[h]}")
            elif h in seen:
                why.append(f"exact duplicate of record {seen[h]}")
            seen.setdefault(h, rec["id"])
            score = scores[j]
            suspicious = any("duplicate" in r for r in why) or (
                score is not None and score >= self.quarantine_at
            )
            out.append(
                (row, rec, Status.QUARANTINED if suspicious else Status.ACCEPTED, score, why)
            )
        return out

    def _store_chunk(
        self,
        conn: Connection,
        kind: Kind,
        source: str,
        batch_id: str,
        decided: Sequence[tuple[int, dict[str, Any], str, float | None, list[str]]],
        report: IngestReport,
    ) -> list[RecordDecision]:
        keys = [rec["id"] for _, rec, *_ in decided]
        existing = {
            k
            for (k,) in conn.execute(
                sa.select(records.c.record_key).where(
                    records.c.tenant == self.tenant,
                    records.c.kind == kind.value,
                    records.c.source == source,
                    records.c.record_key.in_(keys),
                )
            )
        }
        now = self._clock().isoformat()
        rows = []
        out = []
        for _, rec, status, score, why in decided:
            if rec["id"] in existing:
                report.skipped_existing += 1
                continue
            existing.add(rec["id"])
            h = content_hash(rec)
            rows.append(
                {
                    "tenant": self.tenant,
                    "kind": kind.value,
                    "source": source,
                    "record_key": rec["id"],
                    "subject": _subject(kind, rec),
                    "batch_id": batch_id,
                    "content_hash": h,
                    "received_at": now,
                    "status": status,
                    "score": score,
                    "reasons": json.dumps(why),
                    "payload": json.dumps(rec, sort_keys=True, ensure_ascii=False),
                }
            )
            out.append(RecordDecision(rec["id"], status, score, tuple(why), h))
            if status == Status.QUARANTINED:
                report.quarantined += 1
            else:
                report.accepted += 1
        if rows:
            conn.execute(records.insert(), rows)
        return out

    def ingest_frame(
        self,
        frame: pd.DataFrame,
        *,
        kind: Kind,
        source: str,
        batch_id: str,
        file_hash: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        """Ingest ``frame`` as batch ``batch_id``, resuming after its last committed chunk."""
        missing = [c for c in REQUIRED[kind] if c not in frame.columns]
        if missing:
            raise DataValidationError("required column missing", column=missing[0])
        report = IngestReport(batch_id)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(batches.c.rows_done, batches.c.file_hash).where(
                    batches.c.batch_id == batch_id
                )
            ).first()
            if row is None:
                conn.execute(
                    batches.insert().values(
                        batch_id=batch_id,
                        tenant=self.tenant,
                        kind=kind.value,
                        source=source,
                        file_hash=file_hash,
                        started_at=self._clock().isoformat(),
                        rows_done=0,
                    )
                )
                start = 0
            else:
                start = int(row.rows_done)
        report.resumed_from = start
        total = len(frame)
        records_in: list[dict[str, Any]] = [
            {str(k): v for k, v in r.items()} for r in frame.to_dict("records")
        ]
        for lo in range(start, total, self.chunk_size):
            hi = min(total, lo + self.chunk_size)
            cleaned: list[tuple[int, dict[str, Any]]] = []
            bad: list[tuple[int, str | None, FieldError]] = []
            for i in range(lo, hi):
                rec = records_in[i]
                errs = validate_record(kind, rec)
                key = None if errs and any(e.column == "id" for e in errs) else str(rec["id"])
                if errs:
                    bad.extend((i + 1, key, e) for e in errs)
                    report.rejected += 1
                else:
                    cleaned.append((i + 1, clean_record(kind, rec)))
            decided = self._decide(kind, cleaned, source)
            with self.engine.begin() as conn:
                self._store_chunk(conn, kind, source, batch_id, decided, report)
                if bad:
                    conn.execute(
                        rejections.insert(),
                        [
                            {
                                "batch_id": batch_id,
                                "row": r,
                                "record_key": k,
                                "column": e.column,
                                "reason": e.reason,
                            }
                            for r, k, e in bad
                        ],
                    )
                conn.execute(
                    batches.update().where(batches.c.batch_id == batch_id).values(rows_done=hi)
                )
            report.errors.extend((r, k, e.column, e.reason) for r, k, e in bad)
            if progress is not None:
                progress(hi, total)
        with self.engine.begin() as conn:
            conn.execute(
                batches.update()
                .where(batches.c.batch_id == batch_id)
                .values(finished_at=self._clock().isoformat())
            )
            if start:
                # A resumed batch reports every rejection of the batch, not just this run's.
                report.errors = [
                    (r.row, r.record_key, r.column or "", r.reason)
                    for r in conn.execute(
                        sa.select(rejections)
                        .where(rejections.c.batch_id == batch_id)
                        .order_by(rejections.c.row)
                    )
                ]
                report.rejected = len({e[0] for e in report.errors})
        return report

    def ingest_file(
        self,
        path: Path,
        *,
        kind: Kind,
        source: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        """Ingest a CSV / JSON-lines / Parquet file; the same file again resumes its batch."""
        frame = read_table(path)
        digest = _file_hash(path)
        batch_id = hashlib.sha256(
            f"{self.tenant}\x00{kind.value}\x00{source}\x00{digest}".encode()
        ).hexdigest()[:32]
        return self.ingest_frame(
            frame, kind=kind, source=source, batch_id=batch_id, file_hash=digest, progress=progress
        )

    def ingest_one(self, record: Mapping[str, Any], *, kind: Kind, source: str) -> RecordDecision:
        """Ingest one record (the API path); raises on invalid input, naming the first field.

        Raises
        ------
        DataValidationError
            The record fails validation (nothing is stored).
        """
        errs = validate_record(kind, record)
        if errs:
            raise DataValidationError(errs[0].reason, column=errs[0].column)
        rec = clean_record(kind, record)
        batch_id = f"{source}:{self._clock().date().isoformat()}"
        decided = self._decide(kind, [(1, rec)], source)
        report = IngestReport(batch_id)
        with self.engine.begin() as conn:
            out = self._store_chunk(conn, kind, source, batch_id, decided, report)
        if not out:
            raise DataValidationError("a record with this id was already ingested", column="id")
        return out[0]
