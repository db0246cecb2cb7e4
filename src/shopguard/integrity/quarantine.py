"""The quarantine: suspicious records wait here for a reviewer's decision.

A quarantined record is not shown to shoppers and not used for training.
Releasing or rejecting one is a security decision: it is written to the
tamper-evident audit log (who, which record, why) before the status changes,
so a change without its audit entry cannot happen (fail closed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.audit import AuditEvent, AuditLog
from shopguard.core.errors import DataValidationError, NotFoundError
from shopguard.integrity.ingest import Status
from shopguard.integrity.tables import records

__all__ = ["Quarantine", "QuarantinedRecord"]

Clock = Callable[[], datetime]
#: Called with a released record's payload (e.g. to publish a released review).
OnRelease = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class QuarantinedRecord:
    """One record in (or decided out of) quarantine."""

    id: int
    tenant: str
    kind: str
    source: str
    key: str
    status: str
    score: float | None
    reasons: tuple[str, ...]
    received_at: str
    content_hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant": self.tenant,
            "kind": self.kind,
            "source": self.source,
            "key": self.key,
            "status": self.status,
            "score": None if self.score is None else round(self.score, 4),
            "reasons": list(self.reasons),
            "received_at": self.received_at,
            "content_hash": self.content_hash,
        }


def _row(r: Any) -> QuarantinedRecord:
    return QuarantinedRecord(
        id=int(r.id),
        tenant=r.tenant,
        kind=r.kind,
        source=r.source,
        key=r.record_key,
        status=r.status,
        score=r.score,
        reasons=tuple(json.loads(r.reasons)),
        received_at=r.received_at,
        content_hash=r.content_hash,
    )


class Quarantine:
    """List, release and reject quarantined records (every decision audited)."""

    def __init__(
        self,
        engine: Engine,
        audit: AuditLog,
        *,
        on_release: OnRelease | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.audit = audit
        self.on_release = on_release
        self._clock = clock or (lambda: datetime.now(UTC))

    def list(
        self,
        *,
        tenant: str | None = None,
        kind: str | None = None,
        status: str = Status.QUARANTINED,
        limit: int = 100,
    ) -> list[QuarantinedRecord]:
        c = records.c
        q = sa.select(records).where(c.status == status)
        if tenant is not None:
            q = q.where(c.tenant == tenant)
        if kind is not None:
            q = q.where(c.kind == kind)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q.order_by(c.id).limit(limit))]

    def payload(self, record_id: int) -> dict[str, Any]:
        """The stored record (for a reviewer to read before deciding)."""
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(records.c.payload).where(records.c.id == record_id)).first()
        if r is None:
            raise NotFoundError("no such record")
        out: dict[str, Any] = json.loads(r.payload)
        return out

    def _decide(self, record_id: int, *, to: str, reviewer: str, reason: str) -> QuarantinedRecord:
        if not reason.strip():
            raise DataValidationError("a reason is required", column="reason")
        if not reviewer.strip():
            raise DataValidationError("a reviewer is required", column="reviewer")
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(records).where(records.c.id == record_id)).first()
        if r is None:
            raise NotFoundError("no such record")
        if r.status != Status.QUARANTINED:
            raise DataValidationError(f"record is {r.status}, not quarantined", column="status")
        action = (
            "integrity.quarantine.release"
            if to == Status.RELEASED
            else ("integrity.quarantine.reject")
        )
        # SECURITY: audit first; a decision whose entry is not durable is not applied.
        self.audit.append(
            AuditEvent(
                action=action,
                decision=to,
                principal=reviewer,
                target=f"{r.kind}:{r.source}:{r.record_key}",
                findings=tuple(json.loads(r.reasons)),
                details={"record_id": int(r.id), "reason": reason, "content_hash": r.content_hash},
            )
        )
        now = self._clock().isoformat()
        with self.engine.begin() as conn:
            done = conn.execute(
                records.update()
                .where(records.c.id == record_id, records.c.status == Status.QUARANTINED)
                .values(status=to, decided_by=reviewer, decided_at=now)
            ).rowcount
        if done != 1:
            raise DataValidationError("record was decided concurrently", column="status")
        if to == Status.RELEASED and self.on_release is not None:
            self.on_release(r.tenant, {"kind": r.kind, **json.loads(r.payload)})
        with self.engine.connect() as conn:
            return _row(conn.execute(sa.select(records).where(records.c.id == record_id)).one())

    def release(self, record_id: int, *, reviewer: str, reason: str) -> QuarantinedRecord:
        """Release a record: it becomes visible / usable for training."""
        return self._decide(record_id, to=Status.RELEASED, reviewer=reviewer, reason=reason)

    def reject(self, record_id: int, *, reviewer: str, reason: str) -> QuarantinedRecord:
        """Reject a record for good (kept, with its provenance, as evidence)."""
        return self._decide(record_id, to=Status.REJECTED, reviewer=reviewer, reason=reason)
