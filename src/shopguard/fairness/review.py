"""Human review of automated decisions (GDPR art. 22(3)): decision ids and review cases.

Each fraud decline or review carries a ``decision_id``: the request id bound to the tenant by
an HMAC under the key ring's ``fairness.decision`` key, so a review request proves, without
a lookup, that this gateway issued the decision to this tenant. ``POST
/v1/decisions/{decision_id}/review`` opens one case per decision (asking again returns the
same case) with a deadline ``fairness_review_deadline_days`` ahead; the customer's statement
is sealed under the ``fairness.review`` key before it is stored.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core import crypto
from shopguard.core.db import metadata
from shopguard.core.errors import NotFoundError
from shopguard.core.keyring import KeyRing

__all__ = [
    "DECISION_PURPOSE",
    "ReviewCase",
    "ReviewCases",
    "issue_decision_id",
    "review_cases",
    "verify_decision_id",
]

DECISION_PURPOSE = "fairness.decision"
STATEMENT_PURPOSE = "fairness.review"
_PREFIX = "d1"

review_cases = sa.Table(
    "fairness_review_cases",
    metadata,
    sa.Column("case_id", sa.String(40), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("decision_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("opened_at", sa.String(40), nullable=False),
    sa.Column("deadline_at", sa.String(40), nullable=False),
    sa.Column("statement", sa.LargeBinary, nullable=True),
)


def _bound(tenant: str, request_id: str) -> bytes:
    return f"{_PREFIX}|{tenant}|{request_id}".encode()


def issue_decision_id(keyring: KeyRing, tenant: str, request_id: str) -> str:
    """``d1.<request id>.<key id>.<tag>``: quotable by the customer, checkable by us."""
    key_id, tag = keyring.mac(DECISION_PURPOSE, _bound(tenant, request_id))
    return f"{_PREFIX}.{request_id}.{key_id}.{tag[:16].hex()}"


def verify_decision_id(keyring: KeyRing, tenant: str, decision_id: str) -> str:
    """The request id inside ``decision_id``; :class:`NotFoundError` unless it is genuine.

    A forged, altered or other tenant's id is answered exactly like an unknown one.
    """
    # The key id itself holds dots ("fairness.decision.v1.ab12cd34").
    head, _, tag_hex = decision_id.rpartition(".")
    prefix, _, rest = head.partition(".")
    request_id, _, key_id = rest.partition(".")
    if prefix != _PREFIX or not request_id or not key_id:
        raise NotFoundError("unknown decision")
    try:
        tag = bytes.fromhex(tag_hex)
        key = keyring.get(key_id)
    except Exception:
        raise NotFoundError("unknown decision") from None
    full = crypto.mac(key.secret, _bound(tenant, request_id))
    # SECURITY: compare_digest; == leaks timing
    if len(tag) != 16 or not hmac.compare_digest(full[:16], tag):
        raise NotFoundError("unknown decision")
    return request_id


@dataclass(frozen=True)
class ReviewCase:
    case_id: str
    decision_id: str
    status: str
    opened_at: str
    deadline_at: str
    created: bool

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("created")
        return out


class ReviewCases:
    """The review-case store (``fairness_review_cases``)."""

    def __init__(
        self,
        engine: Engine,
        keyring: KeyRing,
        *,
        deadline_days: int = 30,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.keyring = keyring
        self.deadline_days = deadline_days
        self.clock = clock or (lambda: datetime.now(UTC))

    def open(self, *, tenant: str, decision_id: str, statement: str | None = None) -> ReviewCase:
        """Open (or return the already open) case for a genuine decision id of ``tenant``."""
        request_id = verify_decision_id(self.keyring, tenant, decision_id)
        existing = self.get(tenant=tenant, request_id=request_id)
        if existing is not None:
            return existing
        now = self.clock().astimezone(UTC)
        opened = now.isoformat(timespec="seconds")
        deadline = (now + timedelta(days=self.deadline_days)).isoformat(timespec="seconds")
        case_id = f"case-{uuid.uuid4().hex}"
        sealed = (
            self.keyring.seal(
                STATEMENT_PURPOSE, statement.encode("utf-8"), context=case_id.encode()
            )
            if statement
            else None
        )
        row = {
            "case_id": case_id,
            "tenant": tenant,
            "decision_id": request_id,
            "status": "open",
            "opened_at": now.isoformat(timespec="seconds"),
            "deadline_at": (now + timedelta(days=self.deadline_days)).isoformat(timespec="seconds"),
            "statement": sealed,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(review_cases.insert().values(**row))
        except sa.exc.IntegrityError:
            # Two requests raced for the same decision: the first one's case stands.
            again = self.get(tenant=tenant, request_id=request_id)
            if again is None:  # pragma: no cover - the unique index guarantees it
                raise
            return again
        return ReviewCase(case_id, request_id, "open", opened, deadline, created=True)

    def get(self, *, tenant: str, request_id: str) -> ReviewCase | None:
        with self.engine.connect() as conn:
            r = (
                conn.execute(
                    sa.select(review_cases).where(
                        review_cases.c.tenant == tenant, review_cases.c.decision_id == request_id
                    )
                )
                .mappings()
                .first()
            )
        if r is None:
            return None
        return ReviewCase(
            r["case_id"], r["decision_id"], r["status"], r["opened_at"], r["deadline_at"], False
        )

    def statement(self, case_id: str) -> str | None:
        """The customer's statement, unsealed (for the reviewer)."""
        with self.engine.connect() as conn:
            blob = conn.execute(
                sa.select(review_cases.c.statement).where(review_cases.c.case_id == case_id)
            ).scalar_one_or_none()
        if blob is None:
            return None
        return self.keyring.open_(bytes(blob), context=case_id.encode()).decode("utf-8")

    def open_cases(self, *, tenant: str) -> list[ReviewCase]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(review_cases)
                .where(review_cases.c.tenant == tenant, review_cases.c.status == "open")
                .order_by(review_cases.c.deadline_at)
            ).mappings()
            return [
                ReviewCase(
                    r["case_id"],
                    r["decision_id"],
                    r["status"],
                    r["opened_at"],
                    r["deadline_at"],
                    False,
                )
                for r in rows
            ]
