"""Scorecard checks contributed by core: the audit log verifies, and tampering is caught."""

from __future__ import annotations

import sqlalchemy as sa

from shopguard.core.audit import AuditEvent, AuditLog
from shopguard.core.db import create_engine, migrate
from shopguard.core.runtime import Runtime
from shopguard.core.scorecard import Area, Check, CheckContext, Figure, Status, checks
from shopguard.core.settings import load_settings
from shopguard.core.tables import audit_head, audit_log

__all__ = ["AuditChainIntact", "AuditTamperDetected"]


@checks.register
class AuditChainIntact(Check):
    """The audit log's hash chain, MACs and head anchor verify."""

    name = "operations.audit_log_intact"
    area = Area.OPERATIONS
    title = "Audit log is intact (hash chain, MACs, head anchor verify)"
    requires = ("runtime",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        rt: Runtime = ctx["runtime"]
        report = rt.audit.verify()
        if report.ok:
            return (
                Status.PASS,
                Figure("entries_verified", report.entries, 1),
                (f"{report.entries} entries verified"),
            )
        return Status.FAIL, None, f"entry {report.first_bad_seq}: {report.reason}"


@checks.register
class AuditTamperDetected(Check):
    """A copy of the log is tampered four ways; verification must catch each one."""

    name = "operations.audit_tamper_detected"
    area = Area.OPERATIONS
    title = "Tampering with a copy of the audit log is detected (edit, delete, insert, reorder)"
    requires = ("runtime",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        rt: Runtime = ctx["runtime"]
        # Make sure there is something to tamper with.
        for i in range(3):
            rt.audit.append(
                AuditEvent(action="scorecard.probe", decision="allow", details={"i": i})
            )
        with rt.engine.connect() as conn:
            rows = [
                dict(r)
                for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).mappings()
            ]
            head = [dict(r) for r in conn.execute(sa.select(audit_head)).mappings()]
        mid = rows[len(rows) // 2]["seq"]
        # Raw SQL behind the API's back, as an intruder with database access would do it.
        tampers: dict[str, list[str]] = {
            "edit": [
                "UPDATE audit_log SET decision = CASE WHEN decision = 'deny' THEN 'allow' ELSE 'deny' END "
                "WHERE seq = :mid"
            ],
            "delete": ["DELETE FROM audit_log WHERE seq = :mid"],
            "insert": [
                "INSERT INTO audit_log SELECT seq + 1000000, substr(event_id, 2) || 'x', at, request_id, "
                "principal, action, target, decision, findings, input_digest, details, prev_hash, "
                "entry_hash, mac, mac_key_id FROM audit_log WHERE seq = :mid"
            ],
            "reorder": [
                "UPDATE audit_log SET seq = -1 WHERE seq = :mid",
                "UPDATE audit_log SET seq = :mid WHERE seq = :mid + 1",
                "UPDATE audit_log SET seq = :mid + 1 WHERE seq = -1",
            ],
        }
        caught = []
        for kind, statements in tampers.items():
            engine = create_engine(load_settings(database_url="sqlite://"))
            try:
                migrate(engine)
                with engine.begin() as conn:
                    conn.execute(audit_log.insert(), rows)
                    conn.execute(audit_head.insert(), head)
                    for stmt in statements:
                        conn.execute(sa.text(stmt), {"mid": mid})
                report = AuditLog(engine, rt.keyring).verify()
            finally:
                engine.dispose()
            if not report.ok:
                caught.append(kind)
        n = len(tampers)
        status = Status.PASS if len(caught) == n else Status.FAIL
        missed = sorted(set(tampers) - set(caught))
        evidence = f"caught {len(caught)}/{n} tamperings" + (
            f"; missed {', '.join(missed)}" if missed else ""
        )
        return status, Figure("tamperings_caught", len(caught), n), evidence
