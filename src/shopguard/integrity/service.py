"""The integrity pipeline as the gateway and CLI use it: reviews submitted over the API.

``POST /v1/reviews`` hands each review to :class:`ReviewIntake`: it is
ingested with provenance (source ``api``), scored (text + behaviour against the
product's recent reviews) and checked for copies. An accepted review is
published to the store; a suspicious one stays in quarantine, invisible to
``GET /v1/products/{id}/reviews``, until a reviewer releases it
(:func:`publish_released` then publishes it).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from shopguard.core.audit import AuditEvent, AuditLog
from shopguard.core.errors import NotFoundError
from shopguard.integrity import erasure as _erasure  # noqa: F401  (registers the erasure hook)
from shopguard.integrity.ingest import Ingestor, ReviewScoring, Status
from shopguard.integrity.validate import Kind
from shopguard.store.service import StoreService, publish_review

__all__ = ["ReviewIntake", "publish_released"]

Clock = Callable[[], datetime]


#: What a released review needs to be shown in the store.
_PUBLISHABLE = ("id", "product_id", "reviewer_id", "rating", "title", "text")


def publish_released(engine: Engine) -> Callable[[str, dict[str, Any]], None]:
    """``on_release`` hook for :class:`~shopguard.integrity.quarantine.Quarantine`:
    publishes released API reviews to the store."""

    def publish(tenant: str, payload: dict[str, Any]) -> None:
        if payload.get("kind") != Kind.REVIEW.value or any(
            payload.get(k) is None for k in _PUBLISHABLE
        ):
            return  # not a store review (a file import without product or reviewer)
        # Stored times are naive UTC; the store keeps ISO-8601 with the offset. A review
        # imported without a time is published as of its release.
        created = payload.get("created_at")
        at = datetime.fromisoformat(str(created)) if created else datetime.now(UTC)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        publish_review(engine, _store_row(tenant, {**payload, "created_at": at.isoformat()}))

    return publish


def _store_row(tenant: str, rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "review_id": rec["id"],
        "tenant": tenant,
        "product_id": rec["product_id"],
        "customer_id": rec["reviewer_id"],
        "rating": int(rec["rating"]),
        "title": rec["title"],
        "text": rec["text"],
        "created_at": rec["created_at"],
        "verified_purchase": int(bool(rec.get("verified_purchase"))),
    }


class ReviewIntake:
    """Screens reviews submitted through the API before the store shows them.

    Parameters
    ----------
    engine, audit:
        The runtime's engine and audit log (every quarantine is audited).
    quarantine_at:
        Score at or above which a review is held.
    review_scorer:
        Injectable scorer (tests); default the shipped one, loaded on first use.
    """

    def __init__(
        self,
        engine: Engine,
        audit: AuditLog,
        *,
        quarantine_at: float = 0.8,
        review_scorer: ReviewScoring | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.audit = audit
        self.quarantine_at = quarantine_at
        self._scorer = review_scorer
        self._clock = clock or (lambda: datetime.now(UTC))
        self._ingestors: dict[str, Ingestor] = {}
        self._lock = threading.Lock()

    def _ingestor(self, tenant: str) -> Ingestor:
        ing = self._ingestors.get(tenant)
        if ing is None:
            ing = Ingestor(
                self.engine,
                tenant=tenant,
                review_scorer=self._scorer,
                quarantine_at=self.quarantine_at,
                clock=self._clock,
            )
            self._ingestors[tenant] = ing
        return ing

    def submit(
        self,
        svc: StoreService,
        *,
        product_id: str,
        customer_id: str,
        rating: int,
        title: str,
        text: str,
    ) -> dict[str, Any]:
        """Ingest one review; publish it unless it is quarantined. Returns the review and
        ``status`` (``accepted`` or ``quarantined``).

        Raises
        ------
        NotFoundError
            Unknown product or customer (nothing stored).
        """
        if not svc.has_product(product_id):
            raise NotFoundError("unknown product")
        if not svc.has_customer(customer_id):
            raise NotFoundError("unknown customer")
        now = self._clock()
        record = {
            "id": f"R-{uuid.uuid4().hex[:16]}",
            "text": text,
            "rating": rating,
            "title": title,
            "product_id": product_id,
            "reviewer_id": customer_id,
            "created_at": now.astimezone(UTC).replace(tzinfo=None).isoformat(),
            "verified_purchase": svc.is_verified_purchase(customer_id, product_id),
        }
        # One review at a time per process: the near-duplicate index is shared state.
        with self._lock:
            decision = self._ingestor(svc.tenant).ingest_one(record, kind=Kind.REVIEW, source="api")
        row = _store_row(svc.tenant, {**record, "created_at": now.isoformat()})
        if decision.status == Status.QUARANTINED:
            self.audit.append(
                AuditEvent(
                    action="integrity.review.quarantine",
                    decision=Status.QUARANTINED,
                    principal=None,
                    target=f"product:{product_id}",
                    findings=decision.reasons,
                    details={"review_id": record["id"], "score": decision.score},
                )
            )
        else:
            publish_review(self.engine, row)
        return {
            "review_id": row["review_id"],
            "rating": row["rating"],
            "title": row["title"],
            "text": row["text"],
            "verified_purchase": bool(row["verified_purchase"]),
            "status": decision.status,
            "score": decision.score,  # None when the record was not scored
        }
