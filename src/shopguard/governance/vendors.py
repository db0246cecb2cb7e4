"""The vendor risk register: who supplies the store's AI, what they receive, and how risky they are.

A vendor records what it supplies, which models / datasets / routes depend on it
and which categories of personal data it receives. Its risk rating combines:

- a weighted security questionnaire (:data:`QUESTIONS`: access control, encryption,
  incident response, sub-processors, certifications, AI-specific questions such as
  whether it trains on our data). **A missing answer scores zero and marks the
  assessment incomplete; it is never a pass.**
- the required contract clauses (:class:`Clause`);
- monitoring: re-assessment due dates, certification expiry, recorded incidents
  and SLA breaches (incidents fade out over a year, SLA breaches over 90 days);
- how sensitive the personal data it receives is.

The rating is recomputed at any time (clock injected), stored over time, and
:meth:`VendorRegister.monitor` raises alerts on the core event bus when a vendor is
overdue, a certificate expires or its rating degrades.

References
----------
ENISA, *Multilayer framework for good cybersecurity practices for AI* (2023); NIST SP 800-161r1
(C-SCRM);
GDPR art. 28 (processor contracts: clauses) and art. 33 (72-hour breach notification).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.audit import AuditEvent, AuditLog
from shopguard.core.db import metadata
from shopguard.core.errors import DataValidationError, NotFoundError
from shopguard.core.events import Alert, EventBus
from shopguard.core.events import Severity as AlertSeverity

__all__ = [
    "QUESTIONS",
    "Answer",
    "Assessment",
    "Clause",
    "DataCategory",
    "Question",
    "RiskLevel",
    "RiskRating",
    "Vendor",
    "VendorEvent",
    "VendorRegister",
    "score_questionnaire",
]

VENDOR_ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
ENDPOINT_PATTERN = r"^https?://[^\s/?#]+[^\s]*$"
_ID = re.compile(VENDOR_ID_PATTERN)
_ENDPOINT = re.compile(ENDPOINT_PATTERN)

vendors_table = sa.Table(
    "governance_vendors",
    metadata,
    sa.Column("vendor_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("supplies", sa.String(500), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("personal_data", sa.Text, nullable=False),
    sa.Column("depends", sa.Text, nullable=False),
    sa.Column("endpoints", sa.Text, nullable=False),
    sa.Column("clauses", sa.Text, nullable=False),
    sa.Column("breach_notification_hours", sa.Integer, nullable=True),
    sa.Column("certifications", sa.Text, nullable=False),
    sa.Column("reassess_days", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)
assessments_table = sa.Table(
    "governance_vendor_assessments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("vendor_id", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("assessor", sa.String(64), nullable=False),
    sa.Column("answers", sa.Text, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("complete", sa.Boolean, nullable=False),
    sa.Column("missing", sa.Text, nullable=False),
    sa.Column("critical_failed", sa.Text, nullable=False),
)
events_table = sa.Table(
    "governance_vendor_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("vendor_id", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("summary", sa.String(500), nullable=False),
)
ratings_table = sa.Table(
    "governance_vendor_ratings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("vendor_id", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("risk", sa.Float, nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),
)


class DataCategory(StrEnum):
    """Categories of personal data a vendor may receive."""

    CONTACT = "contact"
    IDENTITY = "identity"
    PAYMENT = "payment"
    ORDER_HISTORY = "order_history"
    BEHAVIOUR = "behaviour"
    LOCATION = "location"
    DEVICE = "device"
    FREE_TEXT = "free_text"
    BIOMETRIC = "biometric"
    HEALTH = "health"
    CHILDREN = "children"


#: Categories whose loss or misuse harms people most (GDPR art. 9 / PCI DSS scope).
SENSITIVE = frozenset(
    {
        DataCategory.PAYMENT,
        DataCategory.BIOMETRIC,
        DataCategory.HEALTH,
        DataCategory.CHILDREN,
        DataCategory.LOCATION,
    }
)


class Clause(StrEnum):
    """Contract clauses every vendor handling our data must sign."""

    SECURITY_REQUIREMENTS = "security_requirements"
    BREACH_NOTIFICATION = "breach_notification"
    DATA_PROCESSING_AGREEMENT = "data_processing_agreement"
    AUDIT_RIGHTS = "audit_rights"
    SUBPROCESSOR_APPROVAL = "subprocessor_approval"
    DELETION_ON_EXIT = "deletion_on_exit"


#: GDPR art. 33: the controller notifies within 72 hours, so a processor must tell us sooner.
MAX_BREACH_NOTIFICATION_HOURS = 72


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    PARTIAL = "partial"
    NOT_APPLICABLE = "n/a"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return [RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.CRITICAL].index(self)


@dataclass(frozen=True)
class Question:
    id: str
    category: str
    text: str
    weight: float
    good: Answer = Answer.YES
    critical: bool = False
    na_allowed: bool = False


QUESTIONS: tuple[Question, ...] = (
    Question("ac.mfa", "access_control", "Staff access to our data requires MFA", 3, critical=True),
    Question("ac.least_privilege", "access_control", "Access is least-privilege and reviewed quarterly", 2),
    Question("enc.transit", "encryption", "Data in transit is encrypted (TLS 1.2+)", 3, critical=True),
    Question("enc.rest", "encryption", "Data at rest is encrypted, keys held in a KMS/HSM", 2),
    Question("ir.plan", "incident_response", "A tested incident response plan exists", 2),
    Question("ir.notify", "incident_response", "Breaches are notified to us within 72 hours", 3, critical=True),
    Question("sp.list", "subprocessors", "The sub-processor list is published and current", 1),
    Question("sp.flowdown", "subprocessors", "Sub-processors are bound by equivalent security terms", 2),
    Question("cert.iso_soc2", "certifications", "Current ISO/IEC 27001 certificate or SOC 2 Type II report", 2),
    Question("cert.pentest", "certifications", "Independent penetration test in the last 12 months", 1),
    Question("ai.trains_on_our_data", "ai", "Trains its models on our data (prompts, outputs, customers)", 3,
             good=Answer.NO, critical=True, na_allowed=True),
    Question("ai.retention", "ai", "Deletes our prompts and outputs within 30 days", 2, na_allowed=True),
    Question("ai.model_card", "ai", "Documents model provenance and evaluation (model card)", 1, na_allowed=True),
    Question("ai.output_safety", "ai", "Filters unsafe output and defends against prompt injection", 1,
             na_allowed=True),
    Question("ai.region", "ai", "Processes our data only in agreed regions", 2),
)  # fmt: skip
_BY_ID = {q.id: q for q in QUESTIONS}
PASS_SCORE = 0.7


@dataclass(frozen=True)
class Assessment:
    """A scored questionnaire. ``complete`` is False when any question went unanswered."""

    score: float
    complete: bool
    missing: tuple[str, ...]
    critical_failed: tuple[str, ...]
    by_category: Mapping[str, float]
    at: str = ""
    assessor: str = ""

    @property
    def passed(self) -> bool:
        return self.complete and not self.critical_failed and self.score >= PASS_SCORE


def _answer_value(q: Question, a: Answer) -> float:
    if a is Answer.PARTIAL:
        return 0.5
    return 1.0 if a is q.good else 0.0


def score_questionnaire(answers: Mapping[str, str | None]) -> Assessment:
    """Score answers against :data:`QUESTIONS`.

    Missing answers (absent or ``None``/empty) score 0 with their full weight and make
    the assessment incomplete; ``n/a`` is accepted only where a question allows it.

    Raises
    ------
    DataValidationError
        Unknown question ids, unknown answers, or ``n/a`` where it is not allowed.
    """
    unknown = sorted(set(answers) - set(_BY_ID))
    if unknown:
        raise DataValidationError(
            f"{len(unknown)} unknown question id(s); list them with `shopguard vendors questions`"
        )
    got = 0.0
    total = 0.0
    missing: list[str] = []
    critical: list[str] = []
    cat_got: dict[str, float] = {}
    cat_total: dict[str, float] = {}
    for q in QUESTIONS:
        raw = answers.get(q.id)
        if raw is None or str(raw).strip() == "":
            missing.append(q.id)
            value = 0.0
        else:
            try:
                ans = Answer(str(raw).strip().lower())
            except ValueError:
                raise DataValidationError(
                    f"question {q.id}: answer must be one of {', '.join(a.value for a in Answer)}"
                ) from None
            if ans is Answer.NOT_APPLICABLE:
                if not q.na_allowed:
                    raise DataValidationError(f"question {q.id}: 'n/a' is not allowed")
                continue
            value = _answer_value(q, ans)
            if q.critical and value < 1.0:
                critical.append(q.id)
        got += q.weight * value
        total += q.weight
        cat_got[q.category] = cat_got.get(q.category, 0.0) + q.weight * value
        cat_total[q.category] = cat_total.get(q.category, 0.0) + q.weight
    score = got / total if total else 0.0
    return Assessment(
        score=round(score, 4),
        complete=not missing,
        missing=tuple(missing),
        critical_failed=tuple(critical),
        by_category={c: round(cat_got[c] / cat_total[c], 4) for c in sorted(cat_total)},
    )


@dataclass(frozen=True)
class Certification:
    name: str
    expires: date


@dataclass(frozen=True)
class VendorEvent:
    at: str
    kind: str  # incident | sla_breach
    severity: str  # low | medium | high | critical
    summary: str


@dataclass(frozen=True)
class Vendor:
    vendor_id: str
    name: str
    supplies: str
    kind: str
    personal_data: tuple[DataCategory, ...]
    depends: Mapping[str, tuple[str, ...]]
    endpoints: tuple[str, ...]
    clauses: Mapping[Clause, bool]
    breach_notification_hours: int | None
    certifications: tuple[Certification, ...]
    reassess_days: int
    status: str
    created_at: str

    @property
    def missing_clauses(self) -> tuple[Clause, ...]:
        out = [c for c in Clause if not self.clauses.get(c, False)]
        hours = self.breach_notification_hours
        if Clause.BREACH_NOTIFICATION not in out and (
            hours is None or hours > MAX_BREACH_NOTIFICATION_HOURS
        ):
            out.append(Clause.BREACH_NOTIFICATION)
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "vendor_id": self.vendor_id,
            "name": self.name,
            "supplies": self.supplies,
            "kind": self.kind,
            "personal_data": [c.value for c in self.personal_data],
            "depends": {k: list(v) for k, v in self.depends.items()},
            "endpoints": list(self.endpoints),
            "clauses": {c.value: bool(self.clauses.get(c, False)) for c in Clause},
            "breach_notification_hours": self.breach_notification_hours,
            "missing_clauses": [c.value for c in self.missing_clauses],
            "certifications": [
                {"name": c.name, "expires": c.expires.isoformat()} for c in self.certifications
            ],
            "reassess_days": self.reassess_days,
            "status": self.status,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class RiskRating:
    vendor_id: str
    at: str
    risk: float  # [0, 1], higher is riskier
    level: RiskLevel
    reasons: tuple[str, ...]
    reassess_due: str | None
    overdue: bool
    expired_certifications: tuple[str, ...] = ()
    assessed: bool = False
    details: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "vendor_id": self.vendor_id,
            "at": self.at,
            "risk": self.risk,
            "level": self.level.value,
            "reasons": list(self.reasons),
            "reassess_due": self.reassess_due,
            "overdue": self.overdue,
            "expired_certifications": list(self.expired_certifications),
            "assessed": self.assessed,
            "details": dict(self.details),
        }


_INCIDENT_POINTS = {"low": 2.0, "medium": 6.0, "high": 12.0, "critical": 20.0}
_EVENT_KINDS = ("incident", "sla_breach")


def _level(points: float) -> RiskLevel:
    if points >= 75:
        return RiskLevel.CRITICAL
    if points >= 50:
        return RiskLevel.HIGH
    if points >= 25:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def _parse_dt(value: str) -> datetime:
    dt = datetime.fromisoformat(value)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def rate_vendor(
    vendor: Vendor,
    assessment: Assessment | None,
    events: Sequence[VendorEvent],
    *,
    now: datetime,
) -> RiskRating:
    """The vendor's risk at ``now`` (pure: the same inputs give the same rating)."""
    reasons: list[str] = []
    details: dict[str, float] = {}
    points = 0.0
    if assessment is None:
        details["controls"] = 45.0
        reasons.append("never assessed")
        due: datetime | None = None
        overdue = True
    else:
        details["controls"] = round((1.0 - assessment.score) * 40.0, 2)
        if not assessment.complete:
            details["incomplete"] = 10.0
            reasons.append(f"assessment incomplete ({len(assessment.missing)} unanswered)")
        if assessment.critical_failed:
            details["critical"] = 15.0 * len(assessment.critical_failed)
            reasons.append("critical question failed: " + ", ".join(assessment.critical_failed))
        due = _parse_dt(assessment.at) + timedelta(days=vendor.reassess_days)
        overdue = now > due
    if overdue and assessment is not None:
        details["overdue"] = 15.0
        reasons.append("re-assessment overdue")
    missing = vendor.missing_clauses
    if missing:
        details["clauses"] = 5.0 * len(missing)
        reasons.append("missing contract clauses: " + ", ".join(c.value for c in missing))
    expired = tuple(c.name for c in vendor.certifications if c.expires < now.date())
    expiring = [
        c.name
        for c in vendor.certifications
        if now.date() <= c.expires < (now + timedelta(days=30)).date()
    ]
    if expired:
        details["certifications"] = 10.0
        reasons.append("certification expired: " + ", ".join(expired))
    elif expiring:
        details["certifications"] = 3.0
        reasons.append("certification expires within 30 days: " + ", ".join(expiring))
    inc = 0.0
    sla = 0.0
    for ev in events:
        age = (now - _parse_dt(ev.at)).total_seconds() / 86400.0
        if age < 0:
            continue  # recorded after ``now``: not known yet at that time
        if ev.kind == "incident" and age < 365:
            inc += _INCIDENT_POINTS.get(ev.severity, 6.0) * (1.0 - age / 365.0)
        elif ev.kind == "sla_breach" and age < 90:
            sla += 3.0 * (1.0 - age / 90.0)
    if inc:
        details["incidents"] = round(inc, 2)
        reasons.append("security incidents in the last year")
    if sla:
        details["sla_breaches"] = round(sla, 2)
        reasons.append("SLA breaches in the last 90 days")
    points = sum(details.values())
    if not vendor.personal_data:
        factor = 0.6
    elif SENSITIVE & set(vendor.personal_data):
        factor = 1.3
        reasons.append("receives sensitive personal data")
    else:
        factor = 1.0
    points = min(100.0, points * factor)
    level = _level(points)
    if assessment is not None and assessment.critical_failed and level.rank < RiskLevel.HIGH.rank:
        level = RiskLevel.HIGH
    return RiskRating(
        vendor_id=vendor.vendor_id,
        at=_iso(now),
        risk=round(points / 100.0, 4),
        level=level,
        reasons=tuple(reasons),
        reassess_due=_iso(due) if due is not None else None,
        overdue=overdue,
        expired_certifications=expired,
        assessed=assessment is not None,
        details=details,
    )


def _json_list(value: str) -> list[Any]:
    out = json.loads(value)
    return out if isinstance(out, list) else []


class VendorRegister:
    """The register over the database; decisions go to the audit log, alerts to the bus."""

    def __init__(
        self,
        engine: Engine,
        *,
        audit: AuditLog | None = None,
        bus: EventBus | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.audit = audit
        self.bus = bus
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- validation -------------------------------------------------------------------

    @staticmethod
    def _check_id(vendor_id: str) -> str:
        if not isinstance(vendor_id, str) or not _ID.match(vendor_id):
            raise DataValidationError(
                "vendor id must be 1-63 characters of a-z, 0-9, '.', '_' or '-'"
            )
        return vendor_id

    def _record(self, action: str, target: str, decision: str, **details: Any) -> None:
        if self.audit is not None:
            self.audit.append(
                AuditEvent(
                    action=action,
                    decision=decision,
                    principal="governance",
                    target=f"vendor:{target}",
                    details=details,
                )
            )

    # -- writes -----------------------------------------------------------------------

    def add(
        self,
        *,
        vendor_id: str,
        name: str,
        supplies: str,
        kind: str = "ai_api",
        personal_data: Sequence[str] = (),
        depends: Mapping[str, Sequence[str]] | None = None,
        endpoints: Sequence[str] = (),
        clauses: Mapping[str, bool] | Sequence[str] = (),
        breach_notification_hours: int | None = None,
        certifications: Sequence[tuple[str, date | str]] = (),
        reassess_days: int = 365,
    ) -> Vendor:
        """Add (or replace the description of) a vendor.

        Raises
        ------
        DataValidationError
            A bad id, unknown data category or clause, a bad date, or an empty name.
        """
        self._check_id(vendor_id)
        if not name.strip() or not supplies.strip():
            raise DataValidationError("vendor name and 'supplies' must not be empty")
        cats = []
        for c in personal_data:
            try:
                cats.append(DataCategory(c))
            except ValueError:
                raise DataValidationError(
                    "unknown personal data category; expected one of "
                    + ", ".join(x.value for x in DataCategory)
                ) from None
        dep = {k: tuple(v) for k, v in (depends or {}).items()}
        bad = sorted(set(dep) - {"models", "datasets", "routes"})
        if bad:
            raise DataValidationError("depends may name only models, datasets and routes")
        signed = dict(clauses) if isinstance(clauses, Mapping) else dict.fromkeys(clauses, True)
        for c in signed:
            try:
                Clause(c)
            except ValueError:
                raise DataValidationError(
                    "unknown contract clause; expected one of " + ", ".join(x.value for x in Clause)
                ) from None
        certs = []
        for i, (cname, expires) in enumerate(certifications, start=1):
            try:
                exp = expires if isinstance(expires, date) else date.fromisoformat(str(expires))
            except ValueError:
                raise DataValidationError(
                    f"certification {i}: expiry must be an ISO date (YYYY-MM-DD)"
                ) from None
            certs.append({"name": cname, "expires": exp.isoformat()})
        if not all(isinstance(e, str) and _ENDPOINT.match(e) for e in endpoints):
            raise DataValidationError("endpoints must be http:// or https:// URLs")
        if not 1 <= reassess_days <= 3 * 365:
            raise DataValidationError("reassess_days must be between 1 and 1095")
        if breach_notification_hours is not None and breach_notification_hours < 0:
            raise DataValidationError("breach_notification_hours must not be negative")
        now = _iso(self.clock())
        row = {
            "name": name.strip()[:200],
            "supplies": supplies.strip()[:500],
            "kind": kind[:32],
            "personal_data": json.dumps(sorted(c.value for c in set(cats))),
            "depends": json.dumps({k: list(v) for k, v in sorted(dep.items())}),
            "endpoints": json.dumps(list(endpoints)),
            "clauses": json.dumps({k: bool(v) for k, v in sorted(signed.items())}),
            "breach_notification_hours": breach_notification_hours,
            "certifications": json.dumps(certs),
            "reassess_days": reassess_days,
            "status": "active",
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(vendors_table.c.vendor_id).where(vendors_table.c.vendor_id == vendor_id)
            ).first()
            if exists:
                conn.execute(
                    vendors_table.update()
                    .where(vendors_table.c.vendor_id == vendor_id)
                    .values(**row)
                )
            else:
                conn.execute(
                    vendors_table.insert().values(vendor_id=vendor_id, created_at=now, **row)
                )
        self._record("vendor.register", vendor_id, "updated" if exists else "added")
        return self.get(vendor_id)

    def assess(
        self, vendor_id: str, answers: Mapping[str, str | None], *, assessor: str = "cli"
    ) -> Assessment:
        """Score and store a questionnaire; incomplete answers are stored as incomplete."""
        self.get(vendor_id)
        result = score_questionnaire(answers)
        at = _iso(self.clock())
        with self.engine.begin() as conn:
            conn.execute(
                assessments_table.insert().values(
                    vendor_id=vendor_id,
                    at=at,
                    assessor=assessor[:64],
                    answers=json.dumps({k: v for k, v in sorted(answers.items())}),
                    score=result.score,
                    complete=result.complete,
                    missing=json.dumps(list(result.missing)),
                    critical_failed=json.dumps(list(result.critical_failed)),
                )
            )
        self._record(
            "vendor.assess",
            vendor_id,
            "pass" if result.passed else "fail",
            score=result.score,
            complete=result.complete,
            missing=len(result.missing),
        )
        self.rate(vendor_id, store=True)
        return Assessment(
            result.score,
            result.complete,
            result.missing,
            result.critical_failed,
            result.by_category,
            at=at,
            assessor=assessor[:64],
        )

    def record_event(
        self, vendor_id: str, *, kind: str, severity: str, summary: str, at: datetime | None = None
    ) -> RiskRating:
        """Record an incident or SLA breach; returns the new rating."""
        self.get(vendor_id)
        if kind not in _EVENT_KINDS:
            raise DataValidationError("event kind must be 'incident' or 'sla_breach'")
        if severity not in _INCIDENT_POINTS:
            raise DataValidationError("severity must be low, medium, high or critical")
        if not summary.strip():
            raise DataValidationError("an event needs a summary")
        when = _iso(at or self.clock())
        with self.engine.begin() as conn:
            conn.execute(
                events_table.insert().values(
                    vendor_id=vendor_id,
                    at=when,
                    kind=kind,
                    severity=severity,
                    summary=summary[:500],
                )
            )
        self._record(f"vendor.{kind}", vendor_id, "recorded", severity=severity)
        return self.rate(vendor_id, store=True)

    # -- reads ------------------------------------------------------------------------

    def get(self, vendor_id: str) -> Vendor:
        self._check_id(vendor_id)
        with self.engine.connect() as conn:
            r = (
                conn.execute(sa.select(vendors_table).where(vendors_table.c.vendor_id == vendor_id))
                .mappings()
                .first()
            )
        if r is None:
            raise NotFoundError(f"no vendor {vendor_id!r}")
        return self._vendor(r)

    @staticmethod
    def _vendor(r: sa.RowMapping) -> Vendor:
        depends = json.loads(r["depends"])
        return Vendor(
            vendor_id=r["vendor_id"],
            name=r["name"],
            supplies=r["supplies"],
            kind=r["kind"],
            personal_data=tuple(DataCategory(c) for c in _json_list(r["personal_data"])),
            depends={k: tuple(v) for k, v in depends.items()},
            endpoints=tuple(_json_list(r["endpoints"])),
            clauses={Clause(k): bool(v) for k, v in json.loads(r["clauses"]).items()},
            breach_notification_hours=r["breach_notification_hours"],
            certifications=tuple(
                Certification(c["name"], date.fromisoformat(c["expires"]))
                for c in _json_list(r["certifications"])
            ),
            reassess_days=int(r["reassess_days"]),
            status=r["status"],
            created_at=r["created_at"],
        )

    def all(self) -> list[Vendor]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(vendors_table).order_by(vendors_table.c.vendor_id)
            ).mappings()
            return [self._vendor(r) for r in rows]

    def latest_assessment(
        self, vendor_id: str, *, before: datetime | None = None
    ) -> Assessment | None:
        q = sa.select(assessments_table).where(assessments_table.c.vendor_id == vendor_id)
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(assessments_table.c.id.desc())).mappings().all()
        for r in rows:
            if before is not None and _parse_dt(r["at"]) > before:
                continue
            answers = json.loads(r["answers"])
            scored = score_questionnaire(answers)
            return Assessment(
                float(r["score"]),
                bool(r["complete"]),
                tuple(_json_list(r["missing"])),
                tuple(_json_list(r["critical_failed"])),
                scored.by_category,
                at=r["at"],
                assessor=r["assessor"],
            )
        return None

    def events(self, vendor_id: str) -> list[VendorEvent]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(events_table)
                .where(events_table.c.vendor_id == vendor_id)
                .order_by(events_table.c.id)
            ).mappings()
            return [VendorEvent(r["at"], r["kind"], r["severity"], r["summary"]) for r in rows]

    def rate(
        self, vendor_id: str, *, at: datetime | None = None, store: bool = False
    ) -> RiskRating:
        """The vendor's rating at ``at`` (default now); ``store`` appends it to the history."""
        vendor = self.get(vendor_id)
        now = at or self.clock()
        rating = rate_vendor(
            vendor, self.latest_assessment(vendor_id, before=now), self.events(vendor_id), now=now
        )
        if store:
            with self.engine.begin() as conn:
                conn.execute(
                    ratings_table.insert().values(
                        vendor_id=vendor_id,
                        at=rating.at,
                        risk=rating.risk,
                        level=rating.level.value,
                        reasons=json.dumps(list(rating.reasons)),
                    )
                )
        return rating

    def history(self, vendor_id: str) -> list[tuple[str, float, RiskLevel]]:
        """Stored ratings, oldest first: (at, risk, level)."""
        self.get(vendor_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(ratings_table.c.at, ratings_table.c.risk, ratings_table.c.level)
                .where(ratings_table.c.vendor_id == vendor_id)
                .order_by(ratings_table.c.id)
            ).all()
        return [(r.at, float(r.risk), RiskLevel(r.level)) for r in rows]

    def monitor(self, *, at: datetime | None = None) -> list[Alert]:
        """Rate every active vendor now, store the ratings, and alert on what needs a person.

        Alerts (topic ``governance.vendor``): re-assessment overdue or never done,
        certification expired, rating degraded since the last stored one, rating critical.
        """
        now = at or self.clock()
        alerts: list[Alert] = []
        for vendor in self.all():
            if vendor.status != "active":
                continue
            previous = self.history(vendor.vendor_id)
            rating = self.rate(vendor.vendor_id, at=now, store=True)
            base = {"vendor": vendor.vendor_id, "risk": rating.risk, "level": rating.level.value}
            if rating.overdue:
                alerts.append(
                    Alert(
                        "governance.vendor",
                        AlertSeverity.WARNING,
                        "governance.vendors",
                        f"vendor {vendor.vendor_id}: "
                        + ("never assessed" if not rating.assessed else "re-assessment overdue"),
                        {**base, "reason": "overdue", "due": rating.reassess_due},
                        at=now,
                    )
                )
            if rating.expired_certifications:
                alerts.append(
                    Alert(
                        "governance.vendor",
                        AlertSeverity.HIGH,
                        "governance.vendors",
                        f"vendor {vendor.vendor_id}: certification expired",
                        {**base, "reason": "certification_expired"},
                        at=now,
                    )
                )
            if previous and rating.level.rank > previous[-1][2].rank:
                alerts.append(
                    Alert(
                        "governance.vendor",
                        AlertSeverity.HIGH
                        if rating.level.rank >= RiskLevel.HIGH.rank
                        else AlertSeverity.WARNING,
                        "governance.vendors",
                        f"vendor {vendor.vendor_id}: risk degraded "
                        f"{previous[-1][2].value} -> {rating.level.value}",
                        {**base, "reason": "degraded", "previous": previous[-1][2].value},
                        at=now,
                    )
                )
            elif rating.level is RiskLevel.CRITICAL:
                alerts.append(
                    Alert(
                        "governance.vendor",
                        AlertSeverity.CRITICAL,
                        "governance.vendors",
                        f"vendor {vendor.vendor_id}: risk critical",
                        {**base, "reason": "critical"},
                        at=now,
                    )
                )
        for alert in alerts:
            if self.bus is not None:
                self.bus.publish(alert)
            self._record(
                "vendor.alert",
                str(alert.details["vendor"]),
                "alerted",
                reason=alert.details["reason"],
                level=alert.details["level"],
            )
        return alerts
