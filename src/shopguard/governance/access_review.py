"""Access reviews: every human and every API key, what it may do, whether it should.

:func:`AccessReview.entries` lists staff accounts and gateway API keys with
their scopes, last use, owner and review due date, and flags:

- ``unused``: no use (login or request) for ``ops_key_unused_days``, or never
  used and older than that;
- ``over_privileged``: an API key holding ``*`` or scopes it has not used in the
  audit log (only judged once the key has been in use), or a staff account
  holding admin scopes through break-glass;
- ``orphaned``: no owner, or an owner who is not an active staff member;
- ``no_mfa``: a privileged staff account without multi-factor;
- ``review_overdue``: the subject's next review date has passed.

A reviewer approves or revokes each subject (:meth:`AccessReview.decide`);
revoking a key revokes it at the gateway, revoking a person disables the
account (never the last admin). A reviewer cannot review themselves. Every
decision is stored and audited with the next due date.

Last use of an API key comes from the tamper-evident audit log, where the
gateway records the key id of every request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.audit import AuditEvent, AuditLog
from shopguard.core.errors import AuthorizationError, DataValidationError, NotFoundError
from shopguard.core.keyring import KeyRing
from shopguard.gateway.keys import ApiKeyStore
from shopguard.governance import ops_tables as t
from shopguard.governance.staff import StaffDirectory

__all__ = ["AccessReview", "Decision", "ReviewEntry", "scope_of_route"]


class Decision(StrEnum):
    APPROVE = "approve"
    REVOKE = "revoke"


@dataclass(frozen=True)
class ReviewEntry:
    subject: str  # "staff:<username>" or "key:<key id>"
    kind: str
    name: str
    scopes: tuple[str, ...]
    owner: str | None
    last_used: str | None
    created_at: str
    due: str
    flags: tuple[str, ...] = ()
    unused_scopes: tuple[str, ...] = field(default=())
    last_decision: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "kind": self.kind,
            "name": self.name,
            "scopes": list(self.scopes),
            "owner": self.owner,
            "last_used": self.last_used,
            "created_at": self.created_at,
            "due": self.due,
            "flags": list(self.flags),
            "unused_scopes": list(self.unused_scopes),
            "last_decision": self.last_decision,
        }


def scope_of_route(route_id: str) -> str:
    """The scope a gateway route id needs (``fraud.score`` -> ``fraud:score``)."""
    if route_id == "metrics":
        return "metrics:read"
    return route_id.replace(".", ":", 1)


class AccessReview:
    def __init__(
        self,
        engine: Engine,
        keyring: KeyRing,
        audit: AuditLog,
        staff: StaffDirectory,
        *,
        unused_after: timedelta = timedelta(days=90),
        interval: timedelta = timedelta(days=90),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._engine = engine
        self._keys = ApiKeyStore(engine, keyring, cache_ttl=0)
        self._audit = audit
        self.staff = staff
        self.unused_after = unused_after
        self.interval = interval
        self._clock = clock or (lambda: datetime.now(UTC))

    @classmethod
    def from_runtime(
        cls, rt: Any, *, staff: StaffDirectory | None = None, **kw: Any
    ) -> AccessReview:
        s = rt.settings
        kw.setdefault("unused_after", timedelta(days=s.ops_key_unused_days))
        kw.setdefault("interval", timedelta(days=s.ops_access_review_days))
        clock = kw.get("clock")
        staff = staff or StaffDirectory.from_runtime(rt, **({"clock": clock} if clock else {}))
        return cls(rt.engine, rt.keyring, rt.audit, staff, **kw)

    # -- owners ---------------------------------------------------------------------
    def set_owner(self, subject: str, owner: str, *, actor: str) -> None:
        self._check_subject(subject)
        self.staff.get(owner)
        now = self._clock().isoformat()
        with self._engine.begin() as conn:
            conn.execute(t.owners.delete().where(t.owners.c.subject == subject))
            conn.execute(
                t.owners.insert().values(subject=subject, owner=owner, set_by=actor, set_at=now)
            )
        self._audit.append(
            AuditEvent(
                action="access.owner",
                decision="allow",
                principal=actor,
                target=subject,
                details={"owner": owner},
            )
        )

    def _check_subject(self, subject: str) -> None:
        kind, _, ident = subject.partition(":")
        if kind == "staff":
            self.staff.get(ident)
        elif kind == "key":
            if ident not in {k.key_id for k in self._keys.list()}:
                raise NotFoundError(f"no API key {ident}")
        else:
            raise DataValidationError(
                "subject must be staff:<user> or key:<key id>", column="subject"
            )

    # -- listing --------------------------------------------------------------------
    def _key_usage(self) -> dict[str, tuple[str, set[str]]]:
        """key id -> (last request time, route ids used), from the audit log."""
        usage: dict[str, tuple[str, set[str]]] = {}
        for rec in self._audit.records():
            p = rec.principal
            if (
                not p
                or p.startswith(("staff:", "cli", "ops."))
                or rec.decision not in ("allow", "deny", "error")
            ):
                continue
            last, routes = usage.get(p, ("", set()))
            route = rec.details.get("route")
            if isinstance(route, str) and rec.decision == "allow":
                routes.add(route)
            usage[p] = (max(last, rec.at), routes)
        return usage

    def _decisions(self) -> dict[str, tuple[str, str]]:
        """subject -> (last decision, next due)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    t.review_decisions.c.subject,
                    t.review_decisions.c.decision,
                    t.review_decisions.c.next_due,
                ).order_by(t.review_decisions.c.id)
            ).all()
        return {str(s): (str(d), str(n)) for s, d, n in rows}

    def _owners(self) -> dict[str, str]:
        with self._engine.connect() as conn:
            return {
                str(s): str(o)
                for s, o in conn.execute(sa.select(t.owners.c.subject, t.owners.c.owner)).all()
            }

    def entries(self) -> list[ReviewEntry]:
        now = self._clock()
        decisions = self._decisions()
        owners = self._owners()
        members = {m.username: m for m in self.staff.members()}
        active_staff = {u for u, m in members.items() if m.active}
        usage = self._key_usage()
        out: list[ReviewEntry] = []

        def due_of(subject: str, created: str) -> tuple[str, str | None]:
            if subject in decisions:
                d, nxt = decisions[subject]
                return nxt, d
            return (datetime.fromisoformat(created) + self.interval).isoformat(), None

        def stale(last: str | None, created: str) -> bool:
            ref = datetime.fromisoformat(last or created)
            return now - ref >= self.unused_after

        for m in members.values():
            if not m.active:
                continue
            subject = f"staff:{m.username}"
            due, last_decision = due_of(subject, m.created_at)
            owner = owners.get(subject, m.manager)
            flags = []
            if stale(m.last_login_at, m.created_at):
                flags.append("unused")
            if m.privileged and not m.mfa_enabled:
                flags.append("no_mfa")
            if self.staff.active_break_glass(m.username) is not None:
                flags.append("over_privileged")
            if owner is None or owner not in active_staff:
                flags.append("orphaned")
            if datetime.fromisoformat(due) <= now:
                flags.append("review_overdue")
            out.append(
                ReviewEntry(
                    subject,
                    "staff",
                    m.display_name,
                    tuple(sorted(m.scopes)),
                    owner,
                    m.last_login_at,
                    m.created_at,
                    due,
                    tuple(flags),
                    (),
                    last_decision,
                )
            )
        for k in self._keys.list():
            if k.revoked_at is not None:
                continue
            if k.expires_at is not None and datetime.fromisoformat(k.expires_at) <= now:
                continue
            subject = f"key:{k.key_id}"
            due, last_decision = due_of(subject, k.created_at)
            last, routes = usage.get(k.key_id, (None, set()))
            used_scopes = {scope_of_route(r) for r in routes}
            flags = []
            if stale(last, k.created_at):
                flags.append("unused")
            unused_scopes: tuple[str, ...] = ()
            if "*" in k.scopes:
                flags.append("over_privileged")
            elif last is not None:
                unused_scopes = tuple(sorted(set(k.scopes) - used_scopes))
                if unused_scopes:
                    flags.append("over_privileged")
            owner = owners.get(subject)
            if owner is None or owner not in active_staff:
                flags.append("orphaned")
            if datetime.fromisoformat(due) <= now:
                flags.append("review_overdue")
            out.append(
                ReviewEntry(
                    subject,
                    "api_key",
                    k.name,
                    tuple(sorted(k.scopes)),
                    owner,
                    last or None,
                    k.created_at,
                    due,
                    tuple(flags),
                    unused_scopes,
                    last_decision,
                )
            )
        return out

    # -- deciding -------------------------------------------------------------------
    def decide(self, subject: str, decision: Decision, *, reviewer: str, note: str = "") -> str:
        """Record ``decision`` on ``subject``; revoking acts at once. Returns the next due date."""
        self._check_subject(subject)
        rev = self.staff.get(reviewer)
        if not rev.active:
            raise AuthorizationError(f"reviewer {reviewer} is disabled")
        if subject == f"staff:{reviewer}" or self._owners().get(subject) == reviewer:
            # Separation of duties: nobody certifies their own access.
            self._audit.append(
                AuditEvent(
                    action="access.review",
                    decision="deny",
                    principal=f"staff:{reviewer}",
                    target=subject,
                    findings=("self_review",),
                )
            )
            raise AuthorizationError("reviewers cannot review their own access or keys they own")
        entry = next((e for e in self.entries() if e.subject == subject), None)
        flags = entry.flags if entry else ()
        kind, _, ident = subject.partition(":")
        if decision is Decision.REVOKE:
            if kind == "key":
                self._keys.revoke(ident)
            else:
                self.staff.disable(ident, actor=reviewer)
        now = self._clock()
        nxt = (now + self.interval).isoformat()
        with self._engine.begin() as conn:
            conn.execute(
                t.review_decisions.insert().values(
                    subject=subject,
                    reviewer=reviewer,
                    decision=decision.value,
                    flags=json.dumps(list(flags)),
                    note=note[:512],
                    at=now.isoformat(),
                    next_due=nxt,
                )
            )
        self._audit.append(
            AuditEvent(
                action="access.review",
                decision=decision.value,
                principal=f"staff:{reviewer}",
                target=subject,
                findings=tuple(flags),
                details={"next_due": nxt},
            )
        )
        return nxt

    def history(self) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            rows = (
                conn.execute(sa.select(t.review_decisions).order_by(t.review_decisions.c.id))
                .mappings()
                .all()
            )
        return [{**dict(r), "flags": json.loads(r["flags"])} for r in rows]
