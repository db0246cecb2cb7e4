"""Data-subject requests: received, due, done — with their legal deadlines.

GDPR art. 12(3): one month from receipt (counted here as 30 days); CCPA
(Cal. Civ. Code 1798.130(a)(2)): 45 days. The law follows the customer's
jurisdiction unless the request names it. Every step of a request is kept in
its record (what was done, when, how many rows), and an open request past its
deadline raises an alert.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.db import metadata
from shopguard.core.errors import DataValidationError, NotFoundError
from shopguard.core.events import Alert, EventBus, Severity

__all__ = [
    "DEADLINE_DAYS",
    "DsarRequest",
    "Law",
    "RequestKind",
    "RequestLedger",
    "RequestStatus",
    "law_for",
    "requests_table",
]


class Law(StrEnum):
    GDPR = "GDPR"
    CCPA = "CCPA"


class RequestKind(StrEnum):
    EXPORT = "export"
    ERASE = "erase"


class RequestStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    FAILED = "failed"


#: Days a controller has to answer, by law.
DEADLINE_DAYS = {Law.GDPR: 30, Law.CCPA: 45}

requests_table = sa.Table(
    "privacy_requests",
    metadata,
    sa.Column("request_id", sa.String(32), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("customer_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("law", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("received_at", sa.String(40), nullable=False),
    sa.Column("due_at", sa.String(40), nullable=False),
    sa.Column("completed_at", sa.String(40), nullable=True),
    sa.Column("steps", sa.Text, nullable=False),
)


def law_for(jurisdiction: str | None) -> Law:
    """CCPA for US customers, GDPR otherwise (the stricter deadline when unknown)."""
    return Law.CCPA if (jurisdiction or "").upper().startswith("US") else Law.GDPR


@dataclass(frozen=True)
class DsarRequest:
    request_id: str
    tenant: str
    customer_id: str
    kind: RequestKind
    law: Law
    status: RequestStatus
    received_at: datetime
    due_at: datetime
    completed_at: datetime | None
    steps: tuple[dict[str, Any], ...]

    def overdue(self, now: datetime) -> bool:
        return self.status is RequestStatus.OPEN and now > self.due_at

    def to_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "tenant": self.tenant,
            "customer_id": self.customer_id,
            "kind": self.kind.value,
            "law": self.law.value,
            "status": self.status.value,
            "received_at": self.received_at.isoformat(timespec="seconds"),
            "due_at": self.due_at.isoformat(timespec="seconds"),
            "completed_at": None
            if self.completed_at is None
            else self.completed_at.isoformat(timespec="seconds"),
            "steps": list(self.steps),
        }


def _row(r: Any) -> DsarRequest:
    return DsarRequest(
        request_id=r.request_id,
        tenant=r.tenant,
        customer_id=r.customer_id,
        kind=RequestKind(r.kind),
        law=Law(r.law),
        status=RequestStatus(r.status),
        received_at=datetime.fromisoformat(r.received_at),
        due_at=datetime.fromisoformat(r.due_at),
        completed_at=None if r.completed_at is None else datetime.fromisoformat(r.completed_at),
        steps=tuple(json.loads(r.steps)),
    )


class RequestLedger:
    """Open, progress and close data-subject requests; find overdue ones."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self._engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    def open(
        self,
        *,
        tenant: str,
        customer_id: str,
        kind: RequestKind,
        law: Law,
        received_at: datetime | None = None,
    ) -> DsarRequest:
        received = received_at or self._clock()
        if received.tzinfo is None:
            raise DataValidationError("received_at needs a time zone")
        due = received + timedelta(days=DEADLINE_DAYS[law])
        rid = f"dsr_{os.urandom(8).hex()}"
        with self._engine.begin() as conn:
            conn.execute(
                requests_table.insert().values(
                    request_id=rid,
                    tenant=tenant,
                    customer_id=customer_id,
                    kind=kind.value,
                    law=law.value,
                    status=RequestStatus.OPEN.value,
                    received_at=received.isoformat(),
                    due_at=due.isoformat(),
                    completed_at=None,
                    steps="[]",
                )
            )
        return self.get(rid)

    def get(self, request_id: str) -> DsarRequest:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(requests_table).where(requests_table.c.request_id == request_id)
            ).first()
        if row is None:
            raise NotFoundError("no such request")
        return _row(row)

    def add_step(self, request_id: str, step: str, **facts: Any) -> None:
        """Record one step (name, time, counts) of a request."""
        c = requests_table.c
        with self._engine.begin() as conn:
            raw = conn.execute(sa.select(c.steps).where(c.request_id == request_id)).scalar()
            if raw is None:
                raise NotFoundError("no such request")
            steps = json.loads(raw)
            steps.append({"step": step, "at": self._clock().isoformat(timespec="seconds"), **facts})
            conn.execute(
                requests_table.update()
                .where(c.request_id == request_id)
                .values(steps=json.dumps(steps, default=str))
            )

    def close(self, request_id: str, *, status: RequestStatus = RequestStatus.COMPLETED) -> None:
        c = requests_table.c
        with self._engine.begin() as conn:
            n = conn.execute(
                requests_table.update()
                .where(c.request_id == request_id)
                .values(status=status.value, completed_at=self._clock().isoformat())
            ).rowcount
        if not n:
            raise NotFoundError("no such request")

    def all(
        self, *, tenant: str | None = None, status: RequestStatus | None = None
    ) -> list[DsarRequest]:
        c = requests_table.c
        q = sa.select(requests_table).order_by(c.due_at)
        if tenant is not None:
            q = q.where(c.tenant == tenant)
        if status is not None:
            q = q.where(c.status == status.value)
        with self._engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]

    def overdue(self, *, bus: EventBus | None = None) -> list[DsarRequest]:
        """Open requests past their deadline; each raises an alert on ``bus``."""
        now = self._clock()
        late = [r for r in self.all(status=RequestStatus.OPEN) if r.overdue(now)]
        if bus is not None:
            for r in late:
                bus.publish(
                    Alert(
                        topic="privacy.dsar.overdue",
                        severity=Severity.HIGH,
                        source="privacy.requests",
                        summary=f"{r.law.value} {r.kind.value} request {r.request_id} is overdue",
                        details={"request_id": r.request_id, "due_at": r.due_at.isoformat()},
                    )
                )
        return late
