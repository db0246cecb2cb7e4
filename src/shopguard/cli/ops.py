"""``shopguard staff|ops|incident|risk``: staff accounts, access reviews, training and drills,
incidents and the risk register."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.table import Table

from shopguard.cli import app
from shopguard.cli._common import console, err_console, open_runtime
from shopguard.core.errors import DataValidationError

__all__ = ["incident_app", "ops_app", "risk_app", "staff_app"]

staff_app = typer.Typer(
    help="Staff accounts, roles and multi-factor authentication.", no_args_is_help=True
)
ops_app = typer.Typer(
    help="Operational security: access reviews, training and drills.", no_args_is_help=True
)
incident_app = typer.Typer(
    help="Incidents: playbooks, containment, timeline, reports.", no_args_is_help=True
)
risk_app = typer.Typer(help="The risk register.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
app.add_typer(ops_app, name="ops")
app.add_typer(incident_app, name="incident")
app.add_typer(risk_app, name="risk")


class RoleName(StrEnum):
    admin = "admin"
    security_engineer = "security_engineer"
    ml_engineer = "ml_engineer"
    privacy_officer = "privacy_officer"
    analyst = "analyst"
    auditor = "auditor"


def _password(from_stdin: bool, *, confirm: bool = True) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise DataValidationError("no password on standard input", column="password")
        return line
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=confirm))


_PW_STDIN = typer.Option(False, "--password-stdin", help="Read the password from standard input.")


# -- staff ---------------------------------------------------------------------------
@staff_app.command("add")
def staff_add(
    username: str = typer.Argument(..., help="Login name (lower case)."),
    name: str = typer.Option(..., "--name", help="Display name."),
    role: RoleName = typer.Option(..., "--role", help="The role (a set of scopes)."),
    manager: str = typer.Option(None, "--manager", help="Who answers for this account."),
    password_stdin: bool = _PW_STDIN,
) -> None:
    """Create a staff account (privileged roles must enrol MFA before they can log in)."""
    from shopguard.governance.roles import PRIVILEGED, Role
    from shopguard.governance.staff import StaffDirectory

    pw = _password(password_stdin)
    with open_runtime() as rt:
        m = StaffDirectory.from_runtime(rt).add(
            username, display_name=name, role=Role(role.value), password=pw, manager=manager
        )
    console.print(f"added {m.username} ({m.role.value})")
    if m.role in PRIVILEGED:
        err_console.print(f"this role requires MFA: run 'shopguard staff enable-mfa {m.username}'")


@staff_app.command("list")
def staff_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List staff accounts with role, MFA, lock and last login."""
    from shopguard.governance.staff import StaffDirectory

    with open_runtime() as rt:
        members = StaffDirectory.from_runtime(rt).members()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "username": m.username,
                        "role": m.role.value,
                        "mfa": m.mfa_enabled,
                        "privileged": m.privileged,
                        "active": m.active,
                        "locked_until": m.locked_until,
                        "last_login_at": m.last_login_at,
                        "manager": m.manager,
                    }
                    for m in members
                ],
                indent=2,
            )
        )
        return
    table = Table("user", "name", "role", "MFA", "state", "last login", "manager")
    for m in members:
        state = "disabled" if not m.active else ("locked" if m.locked_until else "active")
        mfa = "yes" if m.mfa_enabled else ("MISSING" if m.privileged else "no")
        table.add_row(
            m.username,
            m.display_name,
            m.role.value,
            mfa,
            state,
            m.last_login_at or "never",
            m.manager or "",
        )
    console.print(table)


@staff_app.command("enable-mfa")
def staff_enable_mfa(username: str = typer.Argument(...)) -> None:
    """Start TOTP enrolment: prints the secret, an otpauth:// URI and ten recovery codes once."""
    from shopguard.governance.staff import StaffDirectory

    with open_runtime() as rt:
        enrol = StaffDirectory.from_runtime(rt).begin_mfa(username)
    err_console.print(
        "add this to the authenticator app, then run 'shopguard staff confirm-mfa'; shown once:"
    )
    typer.echo(f"secret: {enrol.secret}")
    typer.echo(f"uri: {enrol.provisioning_uri}")
    typer.echo("recovery codes: " + " ".join(enrol.recovery_codes))


@staff_app.command("confirm-mfa")
def staff_confirm_mfa(username: str = typer.Argument(...), code: str = typer.Argument(...)) -> None:
    """Turn MFA on with a code from the authenticator app."""
    from shopguard.governance.staff import StaffDirectory

    with open_runtime() as rt:
        StaffDirectory.from_runtime(rt).confirm_mfa(username, code)
    console.print(f"MFA enabled for {username}")


@staff_app.command("login")
def staff_login(
    username: str = typer.Argument(...),
    code: str = typer.Option(None, "--code", help="TOTP code."),
    recovery_code: str = typer.Option(None, "--recovery-code"),
    password_stdin: bool = _PW_STDIN,
) -> None:
    """Log in; prints a session token once (expires per ops_session_ttl_s)."""
    from shopguard.governance.staff import StaffDirectory

    pw = _password(password_stdin, confirm=False)
    with open_runtime() as rt:
        s = StaffDirectory.from_runtime(rt).login(
            username, pw, code=code, recovery_code=recovery_code
        )
    err_console.print(
        f"session for {s.username} ({s.role.value}) until {s.expires_at.isoformat()}:"
    )
    typer.echo(s.token)


@staff_app.command("set-role")
def staff_set_role(
    username: str = typer.Argument(...), role: RoleName = typer.Argument(...)
) -> None:
    """Change a role (never demotes the last admin); ends the user's sessions."""
    from shopguard.governance.roles import Role
    from shopguard.governance.staff import StaffDirectory

    with open_runtime() as rt:
        StaffDirectory.from_runtime(rt).set_role(username, Role(role.value))
    console.print(f"{username} is now {role.value}")


@staff_app.command("disable")
def staff_disable(username: str = typer.Argument(...)) -> None:
    """Disable an account (never the last admin)."""
    from shopguard.governance.staff import StaffDirectory

    with open_runtime() as rt:
        StaffDirectory.from_runtime(rt).disable(username)
    console.print(f"disabled {username}")


@staff_app.command("enable")
def staff_enable(username: str = typer.Argument(...)) -> None:
    """Re-enable a disabled account."""
    from shopguard.governance.staff import StaffDirectory

    with open_runtime() as rt:
        StaffDirectory.from_runtime(rt).enable(username)
    console.print(f"enabled {username}")


@staff_app.command("unlock")
def staff_unlock(username: str = typer.Argument(...)) -> None:
    """Clear a lockout after failed logins."""
    from shopguard.governance.staff import StaffDirectory

    with open_runtime() as rt:
        StaffDirectory.from_runtime(rt).unlock(username)
    console.print(f"unlocked {username}")


@staff_app.command("reset-password")
def staff_reset_password(
    username: str = typer.Argument(...), password_stdin: bool = _PW_STDIN
) -> None:
    """Set a new password (checked against the policy); ends the user's sessions."""
    from shopguard.governance.staff import StaffDirectory

    pw = _password(password_stdin)
    with open_runtime() as rt:
        StaffDirectory.from_runtime(rt).reset_password(username, pw)
    console.print(f"password reset for {username}")


@staff_app.command("recover-admin")
def staff_recover_admin(
    username: str = typer.Argument(...),
    operator: str = typer.Option(..., "--operator", help="Who at the host runs the recovery."),
    password_stdin: bool = _PW_STDIN,
) -> None:
    """Recovery path for a locked-out last admin (needs the host's state directory).

    Resets the password, unlocks, and restarts MFA enrolment; audited and alerted."""
    from shopguard.governance.staff import StaffDirectory

    pw = _password(password_stdin)
    with open_runtime() as rt:
        enrol = StaffDirectory.from_runtime(rt).recover_admin(username, pw, operator=operator)
    err_console.print("admin recovered; enrol the new secret and confirm it; shown once:")
    typer.echo(f"secret: {enrol.secret}")
    typer.echo("recovery codes: " + " ".join(enrol.recovery_codes))


@staff_app.command("break-glass")
def staff_break_glass(
    reason: str = typer.Option(..., "--reason", help="Why (at least 10 characters; audited)."),
    minutes: int = typer.Option(30, "--minutes", min=1, max=240),
) -> None:
    """Elevate the session in SHOPGUARD_STAFF_SESSION to admin for a short time (loudly audited)."""
    import os

    from shopguard.governance.staff import StaffDirectory

    token = os.environ.get("SHOPGUARD_STAFF_SESSION", "")
    if not token:
        raise DataValidationError(
            "set SHOPGUARD_STAFF_SESSION to a session from 'shopguard staff login'"
        )
    with open_runtime() as rt:
        s = StaffDirectory.from_runtime(rt).break_glass(
            token, reason=reason, duration_s=minutes * 60
        )
    console.print(f"break-glass: {s.username} holds admin scopes until {s.break_glass_until}")


@staff_app.command("end-break-glass")
def staff_end_break_glass(username: str = typer.Argument(...)) -> None:
    """End a user's break-glass grants before they expire."""
    from shopguard.governance.staff import StaffDirectory

    with open_runtime() as rt:
        n = StaffDirectory.from_runtime(rt).end_break_glass(username)
    console.print(f"ended {n} break-glass grant(s) of {username}")


# -- ops access-review -----------------------------------------------------------------
review_app = typer.Typer(
    help="List, approve and revoke every human and API key.", invoke_without_command=True
)
ops_app.add_typer(review_app, name="access-review")


@review_app.callback()
def access_review(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    flagged: bool = typer.Option(False, "--flagged", help="Only subjects with a flag."),
) -> None:
    """List every human and API key with scopes, last use, owner, due date and flags."""
    if ctx.invoked_subcommand is not None:
        return
    from shopguard.governance.access_review import AccessReview

    with open_runtime() as rt:
        entries = AccessReview.from_runtime(rt).entries()
    if flagged:
        entries = [e for e in entries if e.flags]
    if as_json:
        typer.echo(json.dumps([e.to_json() for e in entries], indent=2))
        return
    table = Table("subject", "name", "scopes", "last used", "owner", "due", "flags")
    for e in entries:
        scopes = ",".join(e.scopes)
        if e.unused_scopes:
            scopes += f" (unused: {','.join(e.unused_scopes)})"
        table.add_row(
            e.subject,
            e.name,
            scopes,
            e.last_used or "never",
            e.owner or "-",
            e.due[:10],
            ",".join(e.flags) or "ok",
        )
    console.print(table)


class DecisionName(StrEnum):
    approve = "approve"
    revoke = "revoke"


@review_app.command("decide")
def access_decide(
    subject: str = typer.Argument(..., help="staff:<user> or key:<key id>."),
    decision: DecisionName = typer.Argument(...),
    reviewer: str = typer.Option(..., "--reviewer", help="The reviewing staff member."),
    note: str = typer.Option("", "--note"),
) -> None:
    """Approve or revoke one subject; revoking acts at once. Recorded with the next due date."""
    from shopguard.governance.access_review import AccessReview, Decision

    with open_runtime() as rt:
        nxt = AccessReview.from_runtime(rt).decide(
            subject, Decision(decision.value), reviewer=reviewer, note=note
        )
    console.print(f"{decision.value}d {subject}; next review due {nxt[:10]}")


@review_app.command("owner")
def access_owner(
    subject: str = typer.Argument(..., help="staff:<user> or key:<key id>."),
    owner: str = typer.Argument(..., help="The staff member who answers for it."),
    actor: str = typer.Option("cli", "--actor"),
) -> None:
    """Record who owns a key or account (unowned ones are flagged orphaned)."""
    from shopguard.governance.access_review import AccessReview

    with open_runtime() as rt:
        AccessReview.from_runtime(rt).set_owner(subject, owner, actor=actor)
    console.print(f"{subject} is owned by {owner}")


# -- incidents -------------------------------------------------------------------------
@incident_app.command("list")
def incident_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every incident with threat, severity, status and notification deadline."""
    from shopguard.governance.incidents import IncidentDesk

    with open_runtime() as rt:
        incs = IncidentDesk.from_runtime(rt).incidents()
    if as_json:
        typer.echo(json.dumps([i.to_json() for i in incs], indent=2))
        return
    table = Table("id", "threat", "severity", "status", "alerts", "opened", "notify by", "title")
    for i in incs:
        table.add_row(
            str(i.id),
            i.threat.value,
            i.severity.value,
            i.status.value,
            str(i.alert_count),
            i.opened_at[:19],
            (i.notify_deadline or "-")[:19] + (" (done)" if i.notified_at else ""),
            i.title,
        )
    console.print(table)


@incident_app.command("show")
def incident_show(incident_id: int = typer.Argument(...)) -> None:
    """The playbook checklist and timeline of one incident."""
    from shopguard.governance.incidents import IncidentDesk

    with open_runtime() as rt:
        desk = IncidentDesk.from_runtime(rt)
        inc = desk.get(incident_id)
        tl = desk.timeline(incident_id)
    console.print(f"incident {inc.id}: {inc.title} [{inc.severity.value}, {inc.status.value}]")
    for s in inc.steps:
        act = (
            f" (run: shopguard incident act {inc.id} {s['id']} --target ...)"
            if s["action"] and not s["done"]
            else ""
        )
        console.print(
            f"  [{'x' if s['done'] else ' '}] {s['phase']}: {s['title']}{act}", markup=False
        )
    for e in tl:
        console.print(f"  {e.at[:19]} {e.kind:<9} {e.actor:<20} {e.summary}", markup=False)


@incident_app.command("act")
def incident_act(
    incident_id: int = typer.Argument(...),
    step: str = typer.Argument(..., help="The playbook step id, e.g. revoke-key."),
    target: str = typer.Option(..., "--target", help="Key id, principal, model name or stream."),
    actor: str = typer.Option("cli", "--actor"),
) -> None:
    """Run a playbook step's containment action (revoke key, block client, roll back, freeze)."""
    from shopguard.governance.incidents import IncidentDesk

    with open_runtime() as rt:
        outcome = IncidentDesk.from_runtime(rt).run_action(
            incident_id, step, actor=actor, target=target
        )
    console.print(outcome)


@incident_app.command("done")
def incident_done(
    incident_id: int = typer.Argument(...),
    step: str = typer.Argument(...),
    actor: str = typer.Option("cli", "--actor"),
    note: str = typer.Option("", "--note"),
) -> None:
    """Tick off a manual playbook step."""
    from shopguard.governance.incidents import IncidentDesk

    with open_runtime() as rt:
        IncidentDesk.from_runtime(rt).complete_step(incident_id, step, actor=actor, note=note)
    console.print(f"step {step} done")


@incident_app.command("notified")
def incident_notified(
    incident_id: int = typer.Argument(...),
    actor: str = typer.Option("cli", "--actor"),
    reference: str = typer.Option("", "--reference", help="The authority's case reference."),
) -> None:
    """Record that the supervisory authority was notified (GDPR Art. 33)."""
    from shopguard.governance.incidents import IncidentDesk

    with open_runtime() as rt:
        IncidentDesk.from_runtime(rt).mark_notified(incident_id, actor=actor, reference=reference)
    console.print(f"incident {incident_id}: notification recorded")


@incident_app.command("close")
def incident_close(
    incident_id: int = typer.Argument(...), actor: str = typer.Option("cli", "--actor")
) -> None:
    """Close an incident."""
    from shopguard.governance.incidents import IncidentDesk

    with open_runtime() as rt:
        IncidentDesk.from_runtime(rt).close(incident_id, actor=actor)
    console.print(f"incident {incident_id} closed")


@incident_app.command("report")
def incident_report(
    incident_id: int = typer.Argument(...),
    out: Path = typer.Option(None, "--out", help="Write the Markdown here instead of stdout."),
) -> None:
    """The post-incident report (Markdown)."""
    from shopguard.governance.incidents import IncidentDesk

    with open_runtime() as rt:
        text = IncidentDesk.from_runtime(rt).report(incident_id)
    if out is None:
        typer.echo(text)
    else:
        if not out.parent.is_dir():
            raise DataValidationError("output directory does not exist", file=str(out))
        out.write_text(text, "utf-8")
        console.print(f"wrote {out}")


@incident_app.command("overdue")
def incident_overdue() -> int:
    """Incidents past their 72-hour notification deadline (exit 1 if any)."""
    from shopguard.governance.incidents import IncidentDesk

    with open_runtime() as rt:
        late = IncidentDesk.from_runtime(rt).overdue_notifications()
    for i in late:
        console.print(f"incident {i.id}: notification was due {i.notify_deadline}")
    if late:
        raise typer.Exit(1)
    console.print("no notification is overdue")
    return 0


# -- risk ------------------------------------------------------------------------------
@risk_app.command("assess")
def risk_assess(
    scorecard: Path = typer.Option(
        None,
        "--scorecard",
        help="scorecard.json with the live evidence (default: none = no credit).",
    ),
    out: Path = typer.Option(
        Path("risk"), "--out", help="Folder for risk-heatmap.png and risk-register.html."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Rank the register by residual risk given the scorecard's evidence; draw the heat map."""
    from shopguard.governance.risks import RiskRegister, load_scorecard, write_heatmap

    results = load_scorecard(scorecard) if scorecard is not None else {}
    with open_runtime() as rt:
        ranked = RiskRegister(rt.engine, rt.audit, bus=rt.bus).assess(results)
    png, page = write_heatmap(ranked, out)
    if as_json:
        typer.echo(json.dumps([a.to_json() for a in ranked], indent=2))
        return
    table = Table(
        "#", "risk", "threat", "owner", "L x I", "inherent", "residual", "level", "evidence"
    )
    for n, a in enumerate(ranked, 1):
        ev = ", ".join(f"{e.control.id} {len(e.passing)}/{len(e.linked)}" for e in a.evidence)
        table.add_row(
            str(n),
            a.risk_id,
            a.threat.value,
            a.owner,
            f"{a.likelihood}x{a.impact}",
            str(a.inherent),
            f"{a.residual:g}",
            a.level,
            ev,
        )
    console.print(table)
    err_console.print(f"heat map: {png}; register: {page}")


@risk_app.command("set")
def risk_set(
    risk_id: str = typer.Argument(...),
    likelihood: int = typer.Option(None, "--likelihood", min=1, max=5),
    impact: int = typer.Option(None, "--impact", min=1, max=5),
    owner: str = typer.Option(None, "--owner"),
    actor: str = typer.Option("cli", "--actor"),
) -> None:
    """Change a risk's likelihood, impact or owner (audited)."""
    from shopguard.governance.risks import RiskRegister

    with open_runtime() as rt:
        RiskRegister(rt.engine, rt.audit).update(
            risk_id, likelihood=likelihood, impact=impact, owner=owner, actor=actor
        )
    console.print(f"updated {risk_id}")


# -- ops training / drills ---------------------------------------------------------------
training_app = typer.Typer(help="Required security training per role.", no_args_is_help=True)
drill_app = typer.Typer(help="Tabletop and live incident drills.", no_args_is_help=True)
ops_app.add_typer(training_app, name="training")
ops_app.add_typer(drill_app, name="drill")


@training_app.command("record")
def training_record(
    username: str = typer.Argument(...),
    course: str = typer.Argument(
        ..., help="security-awareness, phishing, secure-ml, incident-response, privacy-gdpr"
    ),
    completed: str = typer.Option(None, "--completed", help="ISO date (default: now)."),
) -> None:
    """Record a completed course; it expires after the course's validity."""
    from datetime import UTC, datetime

    from shopguard.governance.training import TrainingRegister

    when = None
    if completed:
        try:
            when = datetime.fromisoformat(completed)
        except ValueError:
            raise DataValidationError("--completed must be an ISO date like 2026-03-01") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    with open_runtime() as rt:
        expires = TrainingRegister.from_runtime(rt).record(username, course, completed_at=when)
    console.print(f"{username}: {course} valid until {expires[:10]}")


@training_app.command("status")
def training_status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every required course per person and every drill kind; exit 1 if anything is overdue
    (and raise an alert)."""
    from shopguard.governance.training import TrainingRegister

    with open_runtime() as rt:
        reg = TrainingRegister.from_runtime(rt)
        status = reg.status()
        drills = reg.drill_status()
        overdue = reg.alert_overdue()
    if as_json:
        typer.echo(
            json.dumps({"training": [s.__dict__ for s in status], "drills": drills}, indent=2)
        )
    else:
        table = Table("user", "role", "course", "state", "expires")
        for s in status:
            table.add_row(s.username, s.role, s.course, s.state, (s.expires_at or "-")[:10])
        console.print(table)
        for kind, d in drills.items():
            console.print(
                f"{kind} drill: last {(d['last_run'] or 'never')[:19]}, passed={d['passed']}, "
                f"due {d['due'][:10]}{' (OVERDUE)' if d['overdue'] else ''}"
            )
    if overdue:
        raise typer.Exit(1)


class ThreatName(StrEnum):
    poisoning = "poisoning"
    extraction = "extraction"
    evasion = "evasion"
    prompt_injection = "prompt_injection"
    data_breach = "data_breach"
    vendor_compromise = "vendor_compromise"
    bias = "bias"
    insider_misuse = "insider_misuse"
    availability = "availability"


@drill_app.command("tabletop")
def drill_tabletop(
    threat: ThreatName = typer.Argument(...),
    record: bool = typer.Option(False, "--record", help="Record the exercise as run."),
    passed: bool = typer.Option(True, "--passed/--failed"),
    notes: str = typer.Option("", "--notes", help="Findings of the exercise."),
) -> None:
    """Print the tabletop script for a threat's playbook; with --record, log the exercise."""
    from shopguard.governance.threats import Threat
    from shopguard.governance.training import DrillResult, TrainingRegister, tabletop_script

    for line in tabletop_script(Threat(threat.value)):
        typer.echo(line)
    if record:
        with open_runtime() as rt:
            TrainingRegister.from_runtime(rt).record_drill(
                DrillResult("tabletop", threat.value, None, None, passed, notes)
            )
        console.print("tabletop recorded")


@drill_app.command("live")
def drill_live(
    url: str = typer.Option(
        ..., "--url", help="The running gateway's base URL (same state directory)."
    ),
    tenant: str = typer.Option("default", "--tenant"),
    customers: Path = typer.Option(
        ..., "--customers", help="A file of customer ids, one per line."
    ),
) -> int:
    """Scrape the recommender with a fresh drill key, time detection and containment, record it."""
    from shopguard.cli._common import require_file
    from shopguard.gateway.keys import ApiKeyStore
    from shopguard.governance.gateway_hook import desk_for
    from shopguard.governance.training import TrainingRegister, run_extraction_drill
    from shopguard.monitor.watch import Monitor

    ids = [
        x.strip()
        for x in require_file(customers, what="customer list").read_text("utf-8").splitlines()
        if x.strip()
    ]
    with open_runtime() as rt:
        issued = ApiKeyStore(rt.engine, rt.keyring).create(
            name="drill-attacker", tenant=tenant, scopes=["recommendations:read"]
        )
        monitor = Monitor(bus=rt.bus, audit=rt.audit)
        monitor.tick()
        result = run_extraction_drill(
            base_url=url,
            attacker_key=issued.secret,
            attacker_key_id=issued.record.key_id,
            targets=ids,
            incidents=desk_for(rt),
            tick=monitor.tick,
        )
        TrainingRegister.from_runtime(rt).record_drill(result)
    console.print(
        f"live drill {'PASSED' if result.passed else 'FAILED'}: detect {result.detect_s} s, "
        f"respond {result.respond_s} s ({result.notes})"
    )
    if not result.passed:
        raise typer.Exit(1)
    return 0


# -- monitor -----------------------------------------------------------------------------
monitor_app = typer.Typer(
    help="Traffic and model monitoring with Prometheus alert rules.", no_args_is_help=True
)
app.add_typer(monitor_app, name="monitor")


@monitor_app.command("check-rules")
def monitor_check_rules(
    files: list[Path] = typer.Argument(None, help="Rule files (default: the shipped ones)."),
) -> None:
    """Validate Prometheus alert-rule files (YAML, structure, expressions)."""
    from shopguard.cli._common import require_file
    from shopguard.core.audit import AuditEvent
    from shopguard.monitor.rules import builtin_rule_files, load_rules

    paths = list(files) if files else builtin_rule_files()
    for p in paths:
        try:
            rules = load_rules(require_file(p, what="rule file"))
        except DataValidationError as exc:
            with open_runtime() as rt:  # a refused rule file is a security decision: audit it
                rt.audit.append(
                    AuditEvent(
                        action="monitor.rules.load",
                        decision="deny",
                        principal="cli",
                        target=f"rules:{p.name}",
                        findings=(str(exc)[:200],),
                    )
                )
            raise
        console.print(f"{p}: {len(rules)} alert rules OK")


@monitor_app.command("rules-path")
def monitor_rules_path() -> None:
    """Print where the shipped rule files are (for Prometheus' rule_files)."""
    from shopguard.monitor.rules import builtin_rule_files

    for p in builtin_rule_files():
        typer.echo(str(p))


@monitor_app.command("run")
def monitor_run(
    url: str = typer.Option(..., "--url", help="The gateway's base URL; /metrics is scraped."),
    interval: float = typer.Option(15.0, "--interval", min=0.5, max=3600),
    rounds: int = typer.Option(
        0, "--rounds", min=0, help="Stop after this many rounds (0: run until stopped)."
    ),
    rules: list[Path] = typer.Option(
        None, "--rules", help="Rule files (default: the shipped ones)."
    ),
    port: int = typer.Option(
        0, "--port", min=0, max=65535, help="Serve the monitor's figures on 127.0.0.1:PORT."
    ),
) -> None:
    """Evaluate the alert rules in-process against the gateway's metrics and the audit log;
    alerts open incidents and are routed. The metrics key comes from SHOPGUARD_METRICS_KEY."""
    import os
    import time

    import httpx

    from shopguard.governance.gateway_hook import desk_for
    from shopguard.monitor.watch import Monitor

    key = os.environ.get("SHOPGUARD_METRICS_KEY", "")
    if not key:
        raise DataValidationError(
            "set SHOPGUARD_METRICS_KEY to an API key with the metrics:read scope"
        )

    def scrape() -> str:
        r = httpx.get(url.rstrip("/") + "/metrics", headers={"X-API-Key": key}, timeout=10)
        r.raise_for_status()
        return r.text

    with open_runtime() as rt:
        desk_for(rt)
        mon = Monitor(
            bus=rt.bus, audit=rt.audit, scrape=scrape, rule_files=list(rules) if rules else None
        )
        if port:
            from prometheus_client import start_http_server

            start_http_server(port, addr="127.0.0.1", registry=mon.registry)
        n = 0
        while True:
            firing = mon.tick()
            n += 1
            err_console.print(
                f"round {n}: {len(firing)} alerts firing"
                + "".join(f"; {f.rule.name}" for f in firing)
            )
            if rounds and n >= rounds:
                break
            time.sleep(interval)
