"""Incident response: alerts become incidents with a playbook, a timeline and deadlines.

:class:`IncidentDesk` subscribes to the event bus. Each alert is mapped to a
threat (:func:`~shopguard.governance.threats.threat_of`) and grouped with the
open incident of the same threat and the same culprit (API key, client or, failing
those, source) seen within ``ops_incident_group_s``; identical alerts are
deduplicated (counted, one timeline entry). A new incident gets its threat's
playbook as a checklist. Incidents involving personal data (the data-breach
threat, or an alert saying ``personal_data``) carry the GDPR 72-hour deadline to
notify the supervisory authority. Opening, escalating and each action are
recorded in the timeline, audited, and routed to webhooks / e-mail by the
:class:`~shopguard.governance.notify.AlertRouter`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.audit import AuditEvent, AuditLog, scrub_personal_data
from shopguard.core.errors import DataValidationError, NotFoundError, StorageError
from shopguard.core.events import Alert, EventBus, Severity
from shopguard.governance import ops_tables as t
from shopguard.governance.notify import AlertRouter, Delivery, severity_rank
from shopguard.governance.playbooks import Action, Containment, playbook_for
from shopguard.governance.threats import Threat, threat_of

__all__ = ["GDPR_DEADLINE", "Incident", "IncidentDesk", "Status", "TimelineEntry"]

logger = logging.getLogger(__name__)

GDPR_DEADLINE = timedelta(hours=72)
_OWN_TOPICS = "ops.incident."
_CULPRIT_KEYS = ("key_id", "principal", "client", "model", "stream")


class Status(StrEnum):
    OPEN = "open"
    CONTAINED = "contained"
    CLOSED = "closed"


@dataclass(frozen=True)
class TimelineEntry:
    at: str
    kind: str
    actor: str
    summary: str
    details: dict[str, Any]


@dataclass(frozen=True)
class Incident:
    id: int
    threat: Threat
    severity: Severity
    status: Status
    title: str
    opened_at: str
    updated_at: str
    closed_at: str | None
    alert_count: int
    personal_data: bool
    notify_deadline: str | None
    notified_at: str | None
    playbook: str
    steps: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "threat": self.threat.value,
            "severity": self.severity.value,
            "status": self.status.value,
            "title": self.title,
            "opened_at": self.opened_at,
            "updated_at": self.updated_at,
            "closed_at": self.closed_at,
            "alert_count": self.alert_count,
            "personal_data": self.personal_data,
            "notify_deadline": self.notify_deadline,
            "notified_at": self.notified_at,
            "playbook": self.playbook,
            "steps": [dict(s) for s in self.steps],
        }


def _fingerprint(alert: Alert) -> str:
    body = json.dumps(
        [alert.topic, alert.source, alert.summary, dict(alert.details)], sort_keys=True, default=str
    )
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def _culprit(alert: Alert) -> str:
    for k in _CULPRIT_KEYS:
        v = alert.details.get(k)
        if isinstance(v, str) and v:
            return f"{k}={v}"
    return f"source={alert.source}"


class IncidentDesk:
    """Turns alerts into incidents and runs their playbooks."""

    def __init__(
        self,
        engine: Engine,
        audit: AuditLog,
        *,
        containment: Containment | None = None,
        router: AlertRouter | None = None,
        bus: EventBus | None = None,
        group_window: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._engine = engine
        self._audit = audit
        self.containment = containment
        self.router = router
        self._bus = bus
        self.group_window = group_window
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self.deliveries: list[Delivery] = []

    @classmethod
    def from_runtime(cls, rt: Any, **kwargs: Any) -> IncidentDesk:
        s = rt.settings
        kwargs.setdefault("containment", Containment(rt.engine, rt.keyring, s.models_dir))
        if "router" not in kwargs:
            key = rt.keyring.active("ops.webhook").secret if s.ops_alert_webhooks else None
            kwargs["router"] = AlertRouter.from_settings(s, signing_key=key)
        kwargs.setdefault("group_window", timedelta(seconds=s.ops_incident_group_s))
        return cls(rt.engine, rt.audit, bus=rt.bus, **kwargs)

    def attach(self, bus: EventBus) -> Callable[[], None]:
        """Subscribe to every alert on ``bus``; returns the unsubscribe function."""
        self._bus = bus

        def on_alert(alert: Alert) -> None:
            if not alert.topic.startswith(_OWN_TOPICS):
                self.ingest(alert)

        return bus.subscribe("*", on_alert)

    def _iso(self, dt: datetime | None = None) -> str:
        return (dt or self._clock()).astimezone(UTC).isoformat()

    # -- ingest ---------------------------------------------------------------------
    def ingest(self, alert: Alert) -> int:
        """Group ``alert`` into an incident (opening one if needed); returns its id."""
        threat = threat_of(alert.topic, alert.details)
        # Alerts should hold no personal data; if one does, it goes no further than here.
        alert = dataclasses.replace(
            alert,
            summary=scrub_personal_data(alert.summary, self._audit.pseudonym),
            details=json.loads(
                scrub_personal_data(
                    json.dumps(dict(alert.details), sort_keys=True, default=str),
                    self._audit.pseudonym,
                )
            ),
        )
        group = f"{threat.value}|{_culprit(alert)}"
        fp = _fingerprint(alert)
        now = self._clock()
        personal = threat == Threat.DATA_BREACH or bool(alert.details.get("personal_data"))
        severity = Severity(alert.severity)
        if threat == Threat.DATA_BREACH and severity_rank(severity) < severity_rank(Severity.HIGH):
            severity = Severity.HIGH
        with self._lock:
            opened, escalated, incident_id = self._upsert(
                group, threat, severity, alert, fp, personal, now
            )
        if opened:
            self._audit.append(
                AuditEvent(
                    action="incident.open",
                    decision="open",
                    principal="ops.incidents",
                    target=f"incident:{incident_id}",
                    details={
                        "threat": threat.value,
                        "severity": severity.value,
                        "topic": alert.topic,
                    },
                )
            )
        if opened or escalated:
            self._notify(incident_id, "opened" if opened else "escalated")
        return incident_id

    def _upsert(
        self,
        group: str,
        threat: Threat,
        severity: Severity,
        alert: Alert,
        fp: str,
        personal: bool,
        now: datetime,
    ) -> tuple[bool, bool, int]:
        since = self._iso(now - self.group_window)
        with self._engine.begin() as conn:
            row = (
                conn.execute(
                    sa.select(t.incidents)
                    .where(
                        t.incidents.c.group_key == group,
                        t.incidents.c.status != Status.CLOSED.value,
                        t.incidents.c.updated_at >= since,
                    )
                    .order_by(t.incidents.c.id.desc())
                )
                .mappings()
                .first()
            )
            if row is None:
                deadline = self._iso(now + GDPR_DEADLINE) if personal else None
                inserted = conn.execute(
                    t.incidents.insert().values(
                        group_key=group,
                        threat=threat.value,
                        severity=severity.value,
                        status=Status.OPEN.value,
                        title=f"{playbook_for(threat).title}: {alert.summary}"[:512],
                        opened_at=self._iso(now),
                        updated_at=self._iso(now),
                        alert_count=1,
                        fingerprints=json.dumps({fp: 1}),
                        personal_data=personal,
                        notify_deadline=deadline,
                    )
                ).inserted_primary_key
                if not inserted:  # pragma: no cover - every backend returns the new id
                    raise StorageError("incident insert returned no id")
                incident_id = int(inserted[0])
                conn.execute(
                    t.incident_steps.insert(),
                    [
                        {
                            "incident_id": incident_id,
                            "step_id": s.id,
                            "phase": s.phase.value,
                            "title": s.title,
                            "action": s.action.value if s.action else None,
                        }
                        for s in playbook_for(threat).steps
                    ],
                )
                self._event(
                    conn,
                    incident_id,
                    "alert",
                    alert.source,
                    alert.summary,
                    self._alert_details(alert),
                )
                self._event(
                    conn,
                    incident_id,
                    "opened",
                    "ops.incidents",
                    f"incident opened ({severity.value}); playbook {playbook_for(threat).title!r} attached",
                    {"threat": threat.value, "deadline": deadline},
                )
                return True, False, incident_id
            incident_id = int(row["id"])
            fps: dict[str, int] = json.loads(row["fingerprints"])
            duplicate = fp in fps
            fps[fp] = fps.get(fp, 0) + 1
            old = Severity(row["severity"])
            escalated = severity_rank(severity) > severity_rank(old)
            values: dict[str, Any] = {
                "alert_count": int(row["alert_count"]) + 1,
                "fingerprints": json.dumps(fps),
                "updated_at": self._iso(now),
            }
            if escalated:
                values["severity"] = severity.value
            if personal and not row["personal_data"]:
                values["personal_data"] = True
                values["notify_deadline"] = self._iso(now + GDPR_DEADLINE)
            conn.execute(
                t.incidents.update().where(t.incidents.c.id == incident_id).values(**values)
            )
            if not duplicate:
                self._event(
                    conn,
                    incident_id,
                    "alert",
                    alert.source,
                    alert.summary,
                    self._alert_details(alert),
                )
            if escalated:
                self._event(
                    conn,
                    incident_id,
                    "escalated",
                    "ops.incidents",
                    f"severity {old.value} -> {severity.value}",
                    {},
                )
            return False, escalated, incident_id

    @staticmethod
    def _alert_details(alert: Alert) -> dict[str, Any]:
        return {
            "topic": alert.topic,
            "severity": str(alert.severity),
            "alert_at": alert.at.isoformat(),
            **dict(alert.details),
        }

    def _event(
        self,
        conn: sa.Connection,
        incident_id: int,
        kind: str,
        actor: str,
        summary: str,
        details: dict[str, Any],
    ) -> None:
        conn.execute(
            t.incident_events.insert().values(
                incident_id=incident_id,
                at=self._iso(),
                kind=kind,
                actor=actor[:64],
                summary=summary[:512],
                details=json.dumps(details, sort_keys=True, default=str),
            )
        )

    def _notify(self, incident_id: int, why: str) -> None:
        inc = self.get(incident_id)
        if self._bus is not None:
            self._bus.publish(
                Alert(
                    topic=f"{_OWN_TOPICS}{why}",
                    severity=inc.severity,
                    source="governance.incidents",
                    summary=f"incident {inc.id} {why}: {inc.title}"[:512],
                    details={"incident": inc.id, "threat": inc.threat.value},
                )
            )
        if self.router is None or not self.router.wants(inc.severity):
            return
        subject = (
            f"[shopguard] {inc.severity.value.upper()} incident {inc.id} {why}: {inc.playbook}"
        )
        deliveries = self.router.route(subject, inc.to_json())
        self.deliveries.extend(deliveries)
        with self._engine.begin() as conn:
            for d in deliveries:
                self._event(
                    conn,
                    incident_id,
                    "routed",
                    "ops.router",
                    f"{d.sink}: {'delivered' if d.ok else 'FAILED ' + (d.error or '')}",
                    {"sink": d.sink, "ok": d.ok},
                )

    # -- reading --------------------------------------------------------------------
    def get(self, incident_id: int) -> Incident:
        with self._engine.connect() as conn:
            row = (
                conn.execute(sa.select(t.incidents).where(t.incidents.c.id == incident_id))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFoundError(f"no incident {incident_id}")
            steps = (
                conn.execute(
                    sa.select(t.incident_steps).where(t.incident_steps.c.incident_id == incident_id)
                )
                .mappings()
                .all()
            )
        threat = Threat(row["threat"])
        order = {s.id: i for i, s in enumerate(playbook_for(threat).steps)}
        return Incident(
            id=int(row["id"]),
            threat=threat,
            severity=Severity(row["severity"]),
            status=Status(row["status"]),
            title=row["title"],
            opened_at=row["opened_at"],
            updated_at=row["updated_at"],
            closed_at=row["closed_at"],
            alert_count=int(row["alert_count"]),
            personal_data=bool(row["personal_data"]),
            notify_deadline=row["notify_deadline"],
            notified_at=row["notified_at"],
            playbook=playbook_for(threat).title,
            steps=tuple(
                {
                    "id": s["step_id"],
                    "phase": s["phase"],
                    "title": s["title"],
                    "action": s["action"],
                    "done": s["done_at"] is not None,
                    "done_by": s["done_by"],
                    "done_at": s["done_at"],
                }
                for s in sorted(steps, key=lambda s: order.get(s["step_id"], 99))
            ),
        )

    def incidents(self, *, status: Status | None = None) -> list[Incident]:
        q = sa.select(t.incidents.c.id).order_by(t.incidents.c.id)
        if status is not None:
            q = q.where(t.incidents.c.status == status.value)
        with self._engine.connect() as conn:
            ids = [int(i) for i in conn.execute(q).scalars()]
        return [self.get(i) for i in ids]

    def timeline(self, incident_id: int) -> list[TimelineEntry]:
        self.get(incident_id)
        with self._engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(t.incident_events)
                    .where(t.incident_events.c.incident_id == incident_id)
                    .order_by(t.incident_events.c.id)
                )
                .mappings()
                .all()
            )
        return [
            TimelineEntry(r["at"], r["kind"], r["actor"], r["summary"], json.loads(r["details"]))
            for r in rows
        ]

    # -- acting ---------------------------------------------------------------------
    def complete_step(self, incident_id: int, step_id: str, *, actor: str, note: str = "") -> None:
        self.get(incident_id)
        with self._engine.begin() as conn:
            n = conn.execute(
                t.incident_steps.update()
                .where(
                    t.incident_steps.c.incident_id == incident_id,
                    t.incident_steps.c.step_id == step_id,
                )
                .values(done_by=actor[:64], done_at=self._iso())
            ).rowcount
            if n == 0:
                raise NotFoundError(f"incident {incident_id} has no step {step_id}")
            self._event(
                conn, incident_id, "step", actor, f"step {step_id} done", {"note": note[:512]}
            )
        self._audit.append(
            AuditEvent(
                action="incident.step",
                decision="done",
                principal=actor,
                target=f"incident:{incident_id}",
                details={"step": step_id},
            )
        )

    def run_action(self, incident_id: int, step_id: str, *, actor: str, target: str) -> str:
        """Run the containment action of ``step_id`` against ``target`` (key id, principal,
        model name or stream); the step is marked done and the incident contained."""
        inc = self.get(incident_id)
        step = next((s for s in inc.steps if s["id"] == step_id), None)
        if step is None:
            raise NotFoundError(f"incident {incident_id} has no step {step_id}")
        if step["action"] is None:
            raise DataValidationError(f"step {step_id} has no runnable action", column="step")
        if self.containment is None:
            raise DataValidationError("no containment configured", column="step")
        action = Action(step["action"])
        c = self.containment
        if action is Action.REVOKE_KEY:
            c.revoke_key(target, incident_id=incident_id)
            outcome = f"revoked API key {target}"
        elif action is Action.BLOCK_CLIENT:
            c.block(target, incident_id=incident_id)
            outcome = f"blocked {target}"
        elif action is Action.ROLLBACK_MODEL:
            version = c.rollback_model(target, incident_id=incident_id)
            outcome = f"rolled model {target} back to v{version}"
        elif action is Action.FREEZE_INGESTION:
            c.freeze(target, incident_id=incident_id)
            outcome = f"froze {target} ingestion"
        else:  # pragma: no cover - exhaustive over Action
            raise AssertionError(action)
        with self._engine.begin() as conn:
            self._event(
                conn,
                incident_id,
                "action",
                actor,
                outcome,
                {"action": action.value, "target": target},
            )
            conn.execute(
                t.incident_steps.update()
                .where(
                    t.incident_steps.c.incident_id == incident_id,
                    t.incident_steps.c.step_id == step_id,
                )
                .values(done_by=actor[:64], done_at=self._iso())
            )
            if inc.status == Status.OPEN:
                conn.execute(
                    t.incidents.update()
                    .where(t.incidents.c.id == incident_id)
                    .values(status=Status.CONTAINED.value, updated_at=self._iso())
                )
        self._audit.append(
            AuditEvent(
                action=f"incident.{action.value}",
                decision="allow",
                principal=actor,
                target=f"incident:{incident_id}",
                details={"target": target},
            )
        )
        return outcome

    def mark_notified(self, incident_id: int, *, actor: str, reference: str = "") -> None:
        """Record that the supervisory authority was notified (the 72-hour clock stops)."""
        inc = self.get(incident_id)
        if not inc.personal_data:
            raise DataValidationError(
                f"incident {incident_id} has no notification duty", column="incident"
            )
        with self._engine.begin() as conn:
            conn.execute(
                t.incidents.update()
                .where(t.incidents.c.id == incident_id)
                .values(notified_at=self._iso())
            )
            self._event(
                conn,
                incident_id,
                "notified",
                actor,
                "supervisory authority notified",
                {"reference": reference[:128]},
            )
        self._audit.append(
            AuditEvent(
                action="incident.notified",
                decision="allow",
                principal=actor,
                target=f"incident:{incident_id}",
            )
        )

    def close(self, incident_id: int, *, actor: str, note: str = "") -> None:
        self.get(incident_id)
        with self._engine.begin() as conn:
            conn.execute(
                t.incidents.update()
                .where(t.incidents.c.id == incident_id)
                .values(status=Status.CLOSED.value, closed_at=self._iso(), updated_at=self._iso())
            )
            self._event(conn, incident_id, "closed", actor, "incident closed", {"note": note[:512]})
        self._audit.append(
            AuditEvent(
                action="incident.close",
                decision="allow",
                principal=actor,
                target=f"incident:{incident_id}",
            )
        )

    def overdue_notifications(self) -> list[Incident]:
        """Personal-data incidents whose 72-hour deadline passed without a notification."""
        now = self._clock()
        return [
            i
            for i in self.incidents()
            if i.personal_data
            and i.notified_at is None
            and i.notify_deadline is not None
            and datetime.fromisoformat(i.notify_deadline) <= now
        ]

    # -- report ---------------------------------------------------------------------
    def report(self, incident_id: int) -> str:
        """A post-incident report (Markdown): summary, measured times, checklist, timeline."""
        inc = self.get(incident_id)
        tl = self.timeline(incident_id)
        opened = datetime.fromisoformat(inc.opened_at)
        first_alert = min(
            (
                datetime.fromisoformat(e.details["alert_at"])
                for e in tl
                if e.kind == "alert" and "alert_at" in e.details
            ),
            default=opened,
        )
        actions = [datetime.fromisoformat(e.at) for e in tl if e.kind == "action"]
        contain = (
            f"{(min(actions) - first_alert).total_seconds():.1f} s" if actions else "not contained"
        )
        lines = [
            f"# Post-incident report: incident {inc.id}",
            "",
            f"- **Threat**: {inc.threat.value} ({inc.playbook})",
            f"- **Severity**: {inc.severity.value}",
            f"- **Status**: {inc.status.value}",
            f"- **Opened**: {inc.opened_at}; **closed**: {inc.closed_at or 'still open'}",
            f"- **Alerts grouped**: {inc.alert_count}",
            f"- **Time from first alert to incident**: {(opened - first_alert).total_seconds():.1f} s",
            f"- **Time from first alert to containment**: {contain}",
        ]
        if inc.personal_data:
            met = (
                "met"
                if inc.notified_at
                and inc.notify_deadline
                and inc.notified_at <= inc.notify_deadline
                else ("MISSED" if inc.notified_at else "pending")
            )
            lines.append(
                f"- **GDPR Art. 33 notification**: deadline {inc.notify_deadline}; "
                f"notified {inc.notified_at or 'not yet'} ({met})"
            )
        lines += ["", "## Playbook checklist", ""]
        for s in inc.steps:
            mark = "x" if s["done"] else " "
            by = f" ({s['done_by']}, {s['done_at']})" if s["done"] else ""
            lines.append(f"- [{mark}] **{s['phase']}**: {s['title']}{by}")
        lines += [
            "",
            "## Timeline",
            "",
            "| at | what | who | summary |",
            "| --- | --- | --- | --- |",
        ]
        for e in tl:
            lines.append(f"| {e.at} | {e.kind} | {e.actor} | {e.summary.replace('|', '/')} |")
        open_steps = [s for s in inc.steps if not s["done"]]
        lines += ["", "## Follow-up", ""]
        lines += [f"- {s['phase']}: {s['title']}" for s in open_steps] or [
            "- every playbook step is done"
        ]
        return "\n".join(lines) + "\n"
