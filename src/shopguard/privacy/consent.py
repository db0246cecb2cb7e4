"""The consent ledger: what each customer agreed to, when, where and under which policy.

An append-only table of opt-in / opt-out events per purpose; the current state
is the latest event, or the jurisdiction's default when there is none. It is
*enforced*, not just recorded: the gateway serves non-personalised
recommendations to a customer without ``personalisation`` consent, and
:func:`training_subjects` keeps customers without ``model_training`` consent
out of training data.

Defaults follow the stricter reading of each regime: under GDPR / UK GDPR
(``EU``, ``UK``) nothing is assumed (opt-in, art. 6-7); under US state law
(``US``, ``US-CA``) processing is allowed until the customer opts out (CCPA /
CPRA opt-out of sale, sharing and profiling), except ``model_training`` in
California, which we treat as opt-in. Unknown jurisdictions get the opt-in
defaults (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.db import metadata
from shopguard.core.errors import DataValidationError

__all__ = [
    "DEFAULTS",
    "ConsentEvent",
    "ConsentLedger",
    "ConsentState",
    "Purpose",
    "Source",
    "consent_events",
    "training_subjects",
]


class Purpose(StrEnum):
    PERSONALISATION = "personalisation"
    ANALYTICS = "analytics"
    MARKETING = "marketing"
    MODEL_TRAINING = "model_training"


class Source(StrEnum):
    STOREFRONT = "storefront"
    API = "api"
    CLI = "cli"
    IMPORT = "import"
    SUPPORT = "support"


_OPT_IN = {p: False for p in Purpose}
#: Default consent per jurisdiction when a customer has said nothing.
DEFAULTS: dict[str, dict[Purpose, bool]] = {
    "EU": dict(_OPT_IN),
    "UK": dict(_OPT_IN),
    "US": {p: True for p in Purpose},
    "US-CA": {**{p: True for p in Purpose}, Purpose.MODEL_TRAINING: False},
}

consent_events = sa.Table(
    "privacy_consent_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("customer_id", sa.String(64), nullable=False),
    sa.Column("purpose", sa.String(32), nullable=False),
    sa.Column("granted", sa.Boolean, nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("policy_version", sa.String(32), nullable=False),
)


@dataclass(frozen=True)
class ConsentEvent:
    purpose: Purpose
    granted: bool
    at: str
    source: str
    policy_version: str


@dataclass(frozen=True)
class ConsentState:
    """Current consent for one purpose. ``event`` is None when the default applies."""

    purpose: Purpose
    granted: bool
    event: ConsentEvent | None

    @property
    def is_default(self) -> bool:
        return self.event is None


def _purpose(value: str) -> Purpose:
    try:
        return Purpose(value)
    except ValueError:
        raise DataValidationError(
            f"unknown purpose; expected one of {', '.join(p.value for p in Purpose)}",
            column="purpose",
        ) from None


def default_for(jurisdiction: str | None, purpose: Purpose) -> bool:
    return DEFAULTS.get(jurisdiction or "", _OPT_IN)[purpose]


class ConsentLedger:
    """Record and read consent (shared by every worker through the database)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self._engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    def record(
        self,
        *,
        tenant: str,
        customer_id: str,
        purpose: str,
        granted: bool,
        source: str,
        policy_version: str,
    ) -> ConsentEvent:
        """Append an opt-in (``granted=True``) or opt-out event."""
        p = _purpose(purpose)
        try:
            src = Source(source)
        except ValueError:
            raise DataValidationError("unknown consent source", column="source") from None
        if not policy_version or len(policy_version) > 32:
            raise DataValidationError(
                "policy_version must be 1-32 characters", column="policy_version"
            )
        at = self._clock().astimezone(UTC).isoformat()
        with self._engine.begin() as conn:
            conn.execute(
                consent_events.insert().values(
                    tenant=tenant,
                    customer_id=customer_id,
                    purpose=p.value,
                    granted=granted,
                    at=at,
                    source=src.value,
                    policy_version=policy_version,
                )
            )
        return ConsentEvent(p, granted, at, src.value, policy_version)

    def record_many(
        self,
        *,
        tenant: str,
        decisions: Iterable[tuple[str, str, bool]],
        source: str,
        policy_version: str,
    ) -> int:
        """Append many ``(customer_id, purpose, granted)`` events in one transaction (imports)."""
        src = Source(source).value
        at = self._clock().astimezone(UTC).isoformat()
        rows = [
            {
                "tenant": tenant,
                "customer_id": cid,
                "purpose": _purpose(purpose).value,
                "granted": granted,
                "at": at,
                "source": src,
                "policy_version": policy_version,
            }
            for cid, purpose, granted in decisions
        ]
        if rows:
            with self._engine.begin() as conn:
                conn.execute(consent_events.insert(), rows)
        return len(rows)

    def history(self, *, tenant: str, customer_id: str) -> list[ConsentEvent]:
        """Every event for the customer, oldest first."""
        c = consent_events.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(c.purpose, c.granted, c.at, c.source, c.policy_version)
                .where(c.tenant == tenant, c.customer_id == customer_id)
                .order_by(c.id)
            ).all()
        return [
            ConsentEvent(Purpose(r.purpose), bool(r.granted), r.at, r.source, r.policy_version)
            for r in rows
        ]

    def erase(self, *, tenant: str, customer_id: str) -> int:
        """Delete a customer's consent history (erasure request); returns how many events.

        After erasure the customer is unknown: defaults apply if they come back.
        """
        c = consent_events.c
        with self._engine.begin() as conn:
            return int(
                conn.execute(
                    consent_events.delete().where(c.tenant == tenant, c.customer_id == customer_id)
                ).rowcount
            )

    def state(
        self, *, tenant: str, customer_id: str, jurisdiction: str | None
    ) -> dict[Purpose, ConsentState]:
        """Current consent per purpose (latest event, else the jurisdiction's default)."""
        latest: dict[Purpose, ConsentEvent] = {}
        for ev in self.history(tenant=tenant, customer_id=customer_id):
            latest[ev.purpose] = ev
        return {
            p: ConsentState(p, latest[p].granted, latest[p])
            if p in latest
            else ConsentState(p, default_for(jurisdiction, p), None)
            for p in Purpose
        }

    def allowed(
        self, *, tenant: str, customer_id: str, purpose: Purpose, jurisdiction: str | None
    ) -> bool:
        c = consent_events.c
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(c.granted)
                .where(c.tenant == tenant, c.customer_id == customer_id, c.purpose == purpose.value)
                .order_by(c.id.desc())
                .limit(1)
            ).first()
        return default_for(jurisdiction, purpose) if row is None else bool(row.granted)

    def decisions(self, *, tenant: str, purpose: Purpose) -> dict[str, bool]:
        """Latest explicit decision per customer for ``purpose`` (customers with none are absent)."""
        c = consent_events.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(c.customer_id, c.granted)
                .where(c.tenant == tenant, c.purpose == purpose.value)
                .order_by(c.id)
            ).all()
        return {r.customer_id: bool(r.granted) for r in rows}


def training_subjects(
    ledger: ConsentLedger,
    *,
    tenant: str,
    jurisdictions: Mapping[str, str | None],
    customers: Iterable[str] | None = None,
) -> set[str]:
    """Customers whose data may train models: ``model_training`` granted, explicitly or by default.

    ``jurisdictions`` maps customer id to jurisdiction (unknown -> opt-in default, i.e. excluded).
    """
    explicit = ledger.decisions(tenant=tenant, purpose=Purpose.MODEL_TRAINING)
    pool = jurisdictions.keys() if customers is None else customers
    return {
        cid
        for cid in pool
        if explicit.get(cid, default_for(jurisdictions.get(cid), Purpose.MODEL_TRAINING))
    }
