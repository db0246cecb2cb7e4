"""Scorecard checks of operations and monitoring.

Resources: ``runtime`` for every check; the extraction check also needs
``base_url`` (a live gateway on that runtime) and ``drill_targets`` (customer
ids the drill may query). The demo provides them (:mod:`.ops_demo`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from shopguard.core.errors import DataValidationError, ModelError
from shopguard.core.scorecard import Area, Check, CheckContext, Figure, Status, checks
from shopguard.gateway.keys import ApiKeyStore
from shopguard.governance.access_review import AccessReview
from shopguard.governance.gateway_hook import desk_for
from shopguard.governance.model_versions import ModelVersions
from shopguard.governance.staff import StaffDirectory
from shopguard.governance.training import TrainingRegister, run_extraction_drill
from shopguard.monitor.rules import builtin_rule_files, load_rules
from shopguard.monitor.watch import Monitor

__all__: list[str] = []

#: Bars the checks hold the deployment to.
DETECT_BAR_S = 30.0
RESPOND_BAR_S = 10.0
ROLLBACK_BAR_S = 10.0


@checks.register
class PrivilegedMfa(Check):
    """Every active privileged staff account has multi-factor authentication."""

    name = "operations.privileged_mfa"
    area = Area.OPERATIONS
    title = "Every privileged account has MFA"
    requires = ("runtime",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        staff = StaffDirectory.from_runtime(ctx["runtime"])
        members = [m for m in staff.members() if m.active and m.privileged]
        missing = staff.needs_mfa()
        fig = Figure("privileged accounts without MFA", float(len(missing)), 0.0)
        if missing:
            return Status.FAIL, fig, "without MFA: " + ", ".join(m.username for m in missing)
        return Status.PASS, fig, f"{len(members)} privileged accounts, all with TOTP MFA"


@checks.register
class UnusedKeys(Check):
    """No API key has gone unused longer than the policy allows."""

    name = "operations.unused_keys"
    area = Area.OPERATIONS
    title = "No unused API key older than the policy"
    requires = ("runtime",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        rt = ctx["runtime"]
        entries = [e for e in AccessReview.from_runtime(rt).entries() if e.kind == "api_key"]
        stale = [e for e in entries if "unused" in e.flags]
        fig = Figure("unused API keys", float(len(stale)), 0.0)
        days = rt.settings.ops_key_unused_days
        if stale:
            return (
                Status.FAIL,
                fig,
                f"unused for {days}+ days: " + ", ".join(e.subject for e in stale),
            )
        return Status.PASS, fig, f"{len(entries)} live keys, none unused for {days} days"


@checks.register
class TrainingInDate(Check):
    """Required training for every active account and both drill kinds are in date."""

    name = "operations.training_in_date"
    area = Area.OPERATIONS
    title = "Training and drills in date"
    requires = ("runtime",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        reg = TrainingRegister.from_runtime(ctx["runtime"])
        training, drills = reg.overdue()
        n = len(training) + len(drills)
        fig = Figure("overdue trainings and drills", float(n), 0.0)
        if n:
            reg.alert_overdue()
            parts = [f"{s.username}:{s.course} {s.state}" for s in training[:10]] + [
                f"{d} drill" for d in drills
            ]
            return Status.FAIL, fig, "overdue: " + ", ".join(parts)
        people = len({s.username for s in reg.status()})
        return Status.PASS, fig, f"{people} people trained; tabletop and live drills in date"


@checks.register
class ExtractionBecomesIncident(Check):
    """A live model-extraction drill against the gateway is detected as an incident with the
    extraction playbook, and its containment shuts the attacker out, within the bars."""

    name = "monitoring.extraction_becomes_incident"
    area = Area.MONITORING
    title = f"Simulated extraction becomes an incident within {DETECT_BAR_S:g} s"
    requires = ("runtime", "base_url", "drill_targets")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        rt = ctx["runtime"]
        issued = ApiKeyStore(rt.engine, rt.keyring).create(
            name="drill-attacker",
            tenant=ctx.resources.get("drill_tenant", "default"),
            scopes=["recommendations:read"],
        )
        desk = desk_for(rt)
        monitor = Monitor(bus=rt.bus, audit=rt.audit)
        monitor.tick()  # start the per-key window after everything already logged
        result = run_extraction_drill(
            base_url=ctx["base_url"],
            attacker_key=issued.secret,
            attacker_key_id=issued.record.key_id,
            targets=list(ctx["drill_targets"]),
            incidents=desk,
            tick=monitor.tick,
            detect_bar_s=DETECT_BAR_S,
            respond_bar_s=RESPOND_BAR_S,
        )
        TrainingRegister.from_runtime(rt).record_drill(result)
        value = result.detect_s if result.detect_s is not None else float("inf")
        fig = Figure("seconds to detect", value, DETECT_BAR_S)
        evidence = f"detected in {result.detect_s} s, key refused {result.respond_s} s later; {result.notes}"
        return (Status.PASS if result.passed else Status.FAIL), fig, evidence


@checks.register
class ModelRollback(Check):
    """Rolling a model back restores the previous version byte for byte, and a tampered
    stored version is refused."""

    name = "operations.model_rollback"
    area = Area.OPERATIONS
    title = "Model roll-back restores the previous version"
    requires = ("runtime",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        models = Path(ctx["runtime"].settings.models_dir)
        live = (
            sorted(p.name for p in models.iterdir() if p.is_dir() and not p.name.startswith("."))
            if models.is_dir()
            else []
        )
        with tempfile.TemporaryDirectory(prefix="sg-rollback-") as tmp:
            root = Path(tmp)
            name = live[0] if live else "model"
            if live:
                shutil.copytree(models / name, root / name)
            else:
                (root / name).mkdir()
                (root / name / "model.json").write_text('{"v": 1}', "utf-8")
            mv = ModelVersions(root)
            good = mv.snapshot(name)
            (root / name / "injected.bin").write_bytes(b"backdoor")
            t0 = time.perf_counter()
            restored = mv.rollback(name)
            seconds = time.perf_counter() - t0
            after = {
                p.relative_to(root / name).as_posix()
                for p in (root / name).rglob("*")
                if p.is_file()
            }
            exact = restored.version == good.version and after == set(good.files)
            bad = mv.versions(name)[-1]
            victim = root / ".versions" / name / f"v{bad.version:04d}" / "files" / "injected.bin"
            victim.write_bytes(b"tampered")
            try:
                mv.rollback(name, to=bad.version)
                refused = False
            except (ModelError, DataValidationError):
                refused = True
        fig = Figure("roll-back seconds", round(seconds, 4), ROLLBACK_BAR_S)
        ok = exact and refused and seconds <= ROLLBACK_BAR_S
        evidence = (
            f"model {name}: v{good.version} restored exactly ({len(good.files)} files) in {seconds:.3f} s; "
            f"tampered version {'refused' if refused else 'ACCEPTED'}"
        )
        return (Status.PASS if ok else Status.FAIL), fig, evidence


@checks.register
class AlertRulesValid(Check):
    """The shipped Prometheus alert rules parse, and a malformed rule is refused."""

    name = "monitoring.alert_rules_valid"
    area = Area.MONITORING
    title = "Alert rules load and malformed rules are refused"

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        rules = [r for f in builtin_rule_files() for r in load_rules(f)]
        with tempfile.TemporaryDirectory() as tmp:
            bad = Path(tmp) / "bad.yml"
            bad.write_text(
                "groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: rate(x) >\n"
                "        labels: {severity: high}\n        annotations: {summary: s}\n",
                "utf-8",
            )
            try:
                load_rules(bad)
                refused = False
            except DataValidationError:
                refused = True
        fig = Figure("alert rules loaded", float(len(rules)), 1.0)
        ok = bool(rules) and refused
        return (
            (Status.PASS if ok else Status.FAIL),
            fig,
            f"{len(rules)} rules valid; malformed rule refused={refused}",
        )


@checks.register
class NotificationDeadlines(Check):
    """No personal-data incident is past its 72-hour notification deadline."""

    name = "operations.breach_notification_deadlines"
    area = Area.OPERATIONS
    title = "No GDPR 72-hour notification overdue"
    requires = ("runtime",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        desk = desk_for(ctx["runtime"])
        late = desk.overdue_notifications()
        fig = Figure("overdue breach notifications", float(len(late)), 0.0)
        if late:
            return Status.FAIL, fig, "overdue: " + ", ".join(f"incident {i.id}" for i in late)
        tracked = sum(1 for i in desk.incidents() if i.personal_data)
        return Status.PASS, fig, f"{tracked} personal-data incidents tracked, none overdue"


@checks.register
class ContainmentEnforced(Check):
    """Containment from incident response holds at the live gateway: a blocked principal is
    refused (403), frozen review ingestion is refused (503), and both lift again.

    The probe key (scope ``reviews:write`` only) sends an empty review, which the schema
    refuses (422) whenever the request is admitted: nothing is ever written. The key is
    revoked and every containment entry lifted at the end.
    """

    name = "operations.containment_enforced"
    area = Area.OPERATIONS
    title = "Containment actions (block a key, freeze review ingestion) are enforced"
    requires = ("runtime", "base_url")
    fix = "Keep ops.containment in gateway_guards (after authz)."

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        import httpx

        from shopguard.governance.playbooks import Containment

        rt = ctx["runtime"]
        keys = ApiKeyStore(rt.engine, rt.keyring)
        issued = keys.create(
            name="containment-probe",
            tenant=ctx.resources.get("drill_tenant", "default"),
            scopes=["reviews:write"],
        )
        key_id = issued.record.key_id
        containment = Containment(rt.engine, rt.keyring, rt.settings.models_dir)
        seen: dict[str, int] = {}
        try:
            with httpx.Client(base_url=ctx["base_url"], timeout=30) as client:

                def probe() -> int:
                    r = client.post("/v1/reviews", json={}, headers={"X-API-Key": issued.secret})
                    return r.status_code

                def settle(expect: int) -> int:
                    # The gateway caches the containment state for half a second.
                    deadline = time.monotonic() + 5.0
                    code = probe()
                    while code != expect and time.monotonic() < deadline:
                        time.sleep(0.25)
                        code = probe()
                    return code

                seen["admitted"] = probe()
                containment.block(key_id)
                seen["blocked"] = settle(403)
                containment.lift("block", key_id)
                seen["lifted"] = settle(seen["admitted"])
                containment.freeze("reviews")
                seen["frozen"] = settle(503)
                containment.lift("freeze", "reviews")
                seen["thawed"] = settle(seen["admitted"])
        finally:
            containment.lift("block", key_id)
            containment.lift("freeze", "reviews")
            keys.revoke(key_id)
        ok = (
            seen.get("admitted") == 422
            and seen.get("blocked") == 403
            and seen.get("frozen") == 503
            and seen.get("lifted") == seen.get("thawed") == 422
        )
        evidence = "; ".join(f"{k} -> {v}" for k, v in seen.items())
        enforced = float((seen.get("blocked") == 403) + (seen.get("frozen") == 503))
        return (
            (Status.PASS if ok else Status.FAIL),
            Figure("actions_enforced", enforced, 2),
            evidence,
        )
