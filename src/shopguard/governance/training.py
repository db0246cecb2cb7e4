"""Security training per role, and drills: tabletop exercises and live red-team drills.

Training: each role must hold certain courses; a completion is valid for the
course's period. :meth:`TrainingRegister.status` lists every required course
per active staff member as ``ok``, ``expiring`` (within 30 days), ``overdue`` or
``missing``; :meth:`TrainingRegister.alert_overdue` raises one alert naming the
counts.

Drills: a tabletop walks a team through a threat's playbook (the script comes
from :mod:`.playbooks`); a live drill (:func:`run_extraction_drill`) runs a
real model-extraction attack against the running gateway and times how long the
monitor takes to turn it into an incident (detection) and how long the playbook's
containment takes to shut the attacker out (response). Both are recorded; a drill
kind not run within its interval is overdue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.audit import AuditEvent, AuditLog
from shopguard.core.errors import DataValidationError
from shopguard.core.events import Alert, EventBus, Severity
from shopguard.governance import ops_tables as t
from shopguard.governance.playbooks import playbook_for
from shopguard.governance.roles import Role
from shopguard.governance.staff import StaffDirectory
from shopguard.governance.threats import Threat

__all__ = [
    "COURSES",
    "DRILL_INTERVALS",
    "REQUIRED",
    "DrillResult",
    "TrainingRegister",
    "run_extraction_drill",
    "tabletop_script",
]


#: course -> validity
COURSES: dict[str, timedelta] = {
    "security-awareness": timedelta(days=365),
    "phishing": timedelta(days=180),
    "secure-ml": timedelta(days=365),
    "incident-response": timedelta(days=365),
    "privacy-gdpr": timedelta(days=365),
}

REQUIRED: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: ("security-awareness", "phishing", "incident-response", "privacy-gdpr"),
    Role.SECURITY_ENGINEER: ("security-awareness", "phishing", "incident-response", "secure-ml"),
    Role.ML_ENGINEER: ("security-awareness", "phishing", "secure-ml"),
    Role.PRIVACY_OFFICER: ("security-awareness", "phishing", "privacy-gdpr", "incident-response"),
    Role.ANALYST: ("security-awareness", "phishing", "privacy-gdpr"),
    Role.AUDITOR: ("security-awareness", "privacy-gdpr"),
}

DRILL_INTERVALS: dict[str, timedelta] = {
    "tabletop": timedelta(days=180),
    "live": timedelta(days=90),
}
_EXPIRING = timedelta(days=30)


@dataclass(frozen=True)
class TrainingStatus:
    username: str
    role: str
    course: str
    state: str  # ok | expiring | overdue | missing
    expires_at: str | None


@dataclass(frozen=True)
class DrillResult:
    kind: str
    scenario: str
    detect_s: float | None
    respond_s: float | None
    passed: bool
    notes: str


class TrainingRegister:
    def __init__(
        self,
        engine: Engine,
        audit: AuditLog,
        staff: StaffDirectory,
        *,
        bus: EventBus | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._engine = engine
        self._audit = audit
        self.staff = staff
        self._bus = bus
        self._clock = clock or (lambda: datetime.now(UTC))

    @classmethod
    def from_runtime(cls, rt: Any, **kw: Any) -> TrainingRegister:
        clock = kw.get("clock")
        staff = kw.pop("staff", None) or StaffDirectory.from_runtime(
            rt, **({"clock": clock} if clock else {})
        )
        return cls(rt.engine, rt.audit, staff, bus=rt.bus, **kw)

    # -- training ---------------------------------------------------------------------
    def record(
        self,
        username: str,
        course: str,
        *,
        completed_at: datetime | None = None,
        actor: str = "cli",
    ) -> str:
        if course not in COURSES:
            raise DataValidationError(f"unknown course; one of {sorted(COURSES)}", column="course")
        self.staff.get(username)
        done = completed_at or self._clock()
        if done > self._clock():
            raise DataValidationError("completion date is in the future", column="completed_at")
        expires = (done + COURSES[course]).isoformat()
        with self._engine.begin() as conn:
            conn.execute(
                t.training_records.insert().values(
                    username=username,
                    course=course,
                    completed_at=done.isoformat(),
                    expires_at=expires,
                )
            )
        self._audit.append(
            AuditEvent(
                action="training.record",
                decision="allow",
                principal=actor,
                target=f"staff:{username}",
                details={"course": course},
            )
        )
        return expires

    def status(self) -> list[TrainingStatus]:
        now = self._clock()
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    t.training_records.c.username,
                    t.training_records.c.course,
                    sa.func.max(t.training_records.c.expires_at),
                ).group_by(t.training_records.c.username, t.training_records.c.course)
            ).all()
        latest = {(str(u), str(c)): str(e) for u, c, e in rows}
        out = []
        for m in self.staff.members():
            if not m.active:
                continue
            for course in REQUIRED[m.role]:
                exp = latest.get((m.username, course))
                if exp is None:
                    state = "missing"
                elif datetime.fromisoformat(exp) <= now:
                    state = "overdue"
                elif datetime.fromisoformat(exp) - now <= _EXPIRING:
                    state = "expiring"
                else:
                    state = "ok"
                out.append(TrainingStatus(m.username, m.role.value, course, state, exp))
        return out

    # -- drills -----------------------------------------------------------------------
    def record_drill(self, result: DrillResult) -> None:
        if result.kind not in DRILL_INTERVALS:
            raise DataValidationError("drill kind must be tabletop or live", column="kind")
        with self._engine.begin() as conn:
            conn.execute(
                t.drills.insert().values(
                    kind=result.kind,
                    scenario=result.scenario[:64],
                    run_at=self._clock().isoformat(),
                    detect_s=result.detect_s,
                    respond_s=result.respond_s,
                    passed=result.passed,
                    notes=result.notes[:4000],
                )
            )
        self._audit.append(
            AuditEvent(
                action=f"drill.{result.kind}",
                decision="pass" if result.passed else "fail",
                principal="ops.drills",
                target=f"scenario:{result.scenario}",
                details={"detect_s": result.detect_s, "respond_s": result.respond_s},
            )
        )

    def drills(self) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            return [
                dict(r)
                for r in conn.execute(sa.select(t.drills).order_by(t.drills.c.id)).mappings()
            ]

    def drill_status(self) -> dict[str, dict[str, Any]]:
        """Per drill kind: the last run, whether it passed, when the next is due, overdue."""
        now = self._clock()
        out: dict[str, dict[str, Any]] = {}
        runs = self.drills()
        for kind, every in DRILL_INTERVALS.items():
            mine = [r for r in runs if r["kind"] == kind]
            last = mine[-1] if mine else None
            due = datetime.fromisoformat(last["run_at"]) + every if last else now
            out[kind] = {
                "last_run": last["run_at"] if last else None,
                "passed": bool(last["passed"]) if last else None,
                "due": due.isoformat(),
                "overdue": due <= now,
            }
        return out

    def overdue(self) -> tuple[list[TrainingStatus], list[str]]:
        training = [s for s in self.status() if s.state in ("missing", "overdue")]
        drills = [k for k, v in self.drill_status().items() if v["overdue"]]
        return training, drills

    def alert_overdue(self) -> int:
        """Publish one alert if any training or drill is overdue; returns the number overdue."""
        training, drills = self.overdue()
        n = len(training) + len(drills)
        if n and self._bus is not None:
            self._bus.publish(
                Alert(
                    topic="ops.training.overdue",
                    severity=Severity.WARNING,
                    source="governance.training",
                    summary=f"{len(training)} required trainings and {len(drills)} drills are overdue",
                    details={
                        "threat": Threat.INSIDER_MISUSE.value,
                        "people": sorted({s.username for s in training}),
                        "drills": drills,
                    },
                )
            )
        return n


def tabletop_script(threat: Threat) -> list[str]:
    """The injects of a tabletop exercise: the scenario, then each playbook step as a question."""
    pb = playbook_for(threat)
    lines = [f"Scenario: {pb.title}. An alert just opened an incident for this threat."]
    for i, s in enumerate(pb.steps, 1):
        how = f" (shopguard can run this: {s.action.value})" if s.action else ""
        lines.append(
            f"{i}. [{s.phase.value}] Who does '{s.title}', with what access, how fast?{how}"
        )
    lines.append(
        "Close: what did we not know, what would have been faster, who updates the playbook?"
    )
    return lines


def run_extraction_drill(
    *,
    base_url: str,
    attacker_key: str,
    attacker_key_id: str,
    targets: Sequence[str],
    incidents: Any,
    tick: Callable[[], object],
    path_template: str = "/v1/recommendations/{}",
    detect_bar_s: float = 30.0,
    respond_bar_s: float = 10.0,
    tick_every: int = 25,
    responder: str = "ops.drill",
) -> DrillResult:
    """Live drill: scrape the model with ``attacker_key`` until an extraction incident for
    that key opens (detection), then run its playbook's revoke-key step and time until the
    gateway refuses the key (response).

    ``incidents`` is the :class:`~.incidents.IncidentDesk` on the gateway's event bus and
    ``tick`` one round of the monitor (the embedded monitor's period, made explicit).
    """
    if not targets:
        raise DataValidationError("the drill needs target ids to query", column="targets")
    start = time.perf_counter()
    sent = 0
    detected_at: float | None = None
    incident_id: int | None = None
    with httpx.Client(base_url=base_url, timeout=10, headers={"X-API-Key": attacker_key}) as client:
        for i, target in enumerate(targets):
            client.get(path_template.format(target))
            sent = i + 1
            if (i + 1) % tick_every == 0:
                tick()
                found = [
                    inc
                    for inc in incidents.incidents()
                    if inc.threat == Threat.EXTRACTION
                    and any(s["id"] == "revoke-key" and not s["done"] for s in inc.steps)
                    and any(
                        e.details.get("key_id") == attacker_key_id
                        for e in incidents.timeline(inc.id)
                    )
                ]
                if found:
                    detected_at = time.perf_counter()
                    incident_id = found[0].id
                    break
            if time.perf_counter() - start > detect_bar_s * 2:
                break
        if detected_at is None or incident_id is None:
            return DrillResult(
                "live", "extraction", None, None, False, "the attack was not detected"
            )
        incidents.run_action(incident_id, "revoke-key", actor=responder, target=attacker_key_id)
        refused_at = None
        for _ in range(200):
            if client.get(path_template.format(targets[0])).status_code == 401:
                refused_at = time.perf_counter()
                break
            time.sleep(0.05)
    detect_s = detected_at - start
    respond_s = (refused_at - detected_at) if refused_at else None
    passed = detect_s <= detect_bar_s and respond_s is not None and respond_s <= respond_bar_s
    notes = (
        f"incident {incident_id}; {sent} requests before detection; "
        f"bars: detect <= {detect_bar_s:g} s, respond <= {respond_bar_s:g} s"
    )
    return DrillResult(
        "live",
        "extraction",
        round(detect_s, 3),
        None if respond_s is None else round(respond_s, 3),
        passed,
        notes,
    )
