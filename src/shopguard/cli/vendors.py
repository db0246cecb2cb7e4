"""``shopguard vendors ...``: the vendor risk register."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from shopguard.cli import app
from shopguard.cli._common import console, err_console, open_runtime, require_file
from shopguard.core.errors import DataValidationError

vendors_app = typer.Typer(
    help="Vendor risk register: who supplies the store's AI and how risky they are.",
    no_args_is_help=True,
)
app.add_typer(vendors_app, name="vendors")


def _register(rt: Any) -> Any:
    from shopguard.governance.vendors import VendorRegister

    return VendorRegister(rt.engine, audit=rt.audit, bus=rt.bus)


def _certs(values: list[str]) -> list[tuple[str, str]]:
    out = []
    for v in values:
        name, sep, expires = v.rpartition(":")
        if not sep or not name:
            raise DataValidationError("--cert must be NAME:YYYY-MM-DD")
        out.append((name, expires))
    return out


@vendors_app.command("add")
def vendors_add(
    vendor_id: str = typer.Argument(..., help="Short id (a-z, 0-9, '.', '_', '-')."),
    name: str = typer.Option(..., "--name", help="The vendor's name."),
    supplies: str = typer.Option(..., "--supplies", help="What it supplies."),
    kind: str = typer.Option("ai_api", "--kind", help="ai_api, data, cloud, model, other."),
    personal_data: list[str] = typer.Option(
        [], "--personal-data", help="A data category it receives (repeat)."
    ),
    model: list[str] = typer.Option([], "--model", help="A model that depends on it (repeat)."),
    dataset: list[str] = typer.Option(
        [], "--dataset", help="A dataset that depends on it (repeat)."
    ),
    route: list[str] = typer.Option([], "--route", help="A route that depends on it (repeat)."),
    endpoint: list[str] = typer.Option([], "--endpoint", help="Its API endpoint URL (repeat)."),
    clause: list[str] = typer.Option([], "--clause", help="A signed contract clause (repeat)."),
    breach_hours: int = typer.Option(
        None, "--breach-notification-hours", min=0, help="Contracted breach notice."
    ),
    cert: list[str] = typer.Option([], "--cert", help="Certification NAME:YYYY-MM-DD (repeat)."),
    reassess_days: int = typer.Option(365, "--reassess-days", min=1, max=1095),
) -> None:
    """Add a vendor (or update one): what it supplies, what depends on it, what data it gets."""
    depends = {k: v for k, v in (("models", model), ("datasets", dataset), ("routes", route)) if v}
    with open_runtime() as rt:
        v = _register(rt).add(
            vendor_id=vendor_id,
            name=name,
            supplies=supplies,
            kind=kind,
            personal_data=personal_data,
            depends=depends,
            endpoints=endpoint,
            clauses=clause,
            breach_notification_hours=breach_hours,
            certifications=_certs(cert),
            reassess_days=reassess_days,
        )
    missing = ", ".join(c.value for c in v.missing_clauses) or "none"
    console.print(f"vendor {v.vendor_id} registered; missing contract clauses: {missing}")


@vendors_app.command("list")
def vendors_list(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Every vendor with its current risk rating."""
    with open_runtime() as rt:
        reg = _register(rt)
        rows = [(v, reg.rate(v.vendor_id)) for v in reg.all()]
    if as_json:
        typer.echo(json.dumps([{**v.to_json(), "rating": r.to_json()} for v, r in rows], indent=2))
        return
    table = Table("vendor", "supplies", "personal data", "risk", "level", "re-assess by", "reasons")
    for v, r in rows:
        table.add_row(
            v.vendor_id,
            v.supplies[:40],
            ", ".join(c.value for c in v.personal_data) or "-",
            f"{r.risk:.2f}",
            r.level.value,
            (r.reassess_due or "now")[:10],
            "; ".join(r.reasons)[:80],
        )
    console.print(table)


@vendors_app.command("questions")
def vendors_questions() -> None:
    """Print the questionnaire as a JSON answers template (fill in yes / no / partial / n/a)."""
    from shopguard.governance.vendors import QUESTIONS

    typer.echo(json.dumps({q.id: None for q in QUESTIONS}, indent=2))
    for q in QUESTIONS:
        na = ", n/a allowed" if q.na_allowed else ""
        err_console.print(f"{q.id}: {q.text} (weight {q.weight:g}, good answer {q.good.value}{na})")


@vendors_app.command("assess")
def vendors_assess(
    vendor_id: str = typer.Argument(...),
    answers: Path = typer.Option(..., "--answers", help="JSON object: question id -> answer."),
    assessor: str = typer.Option("cli", "--assessor", help="Who assessed (an id, not a name)."),
) -> None:
    """Score a questionnaire. Exit 1 when it is incomplete, fails a critical question or scores low."""
    require_file(answers, what="answers file")
    try:
        doc = json.loads(answers.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DataValidationError("not valid JSON", file=answers.name) from None
    if not isinstance(doc, dict):
        raise DataValidationError(
            "expected a JSON object of question id -> answer", file=answers.name
        )
    with open_runtime() as rt:
        reg = _register(rt)
        result = reg.assess(vendor_id, doc, assessor=assessor)
        rating = reg.rate(vendor_id)
    console.print(
        f"{vendor_id}: score {result.score:.2f}, "
        f"{'complete' if result.complete else f'INCOMPLETE ({len(result.missing)} unanswered)'}; "
        f"risk {rating.risk:.2f} ({rating.level.value})"
    )
    if result.missing:
        err_console.print("unanswered (scored as failed): " + ", ".join(result.missing))
    if result.critical_failed:
        err_console.print("critical questions failed: " + ", ".join(result.critical_failed))
    if not result.passed:
        raise typer.Exit(1)


@vendors_app.command("incident")
def vendors_incident(
    vendor_id: str = typer.Argument(...),
    severity: str = typer.Option(..., "--severity", help="low, medium, high or critical."),
    summary: str = typer.Option(..., "--summary", help="What happened (no personal data)."),
    sla: bool = typer.Option(
        False, "--sla-breach", help="Record an SLA breach instead of an incident."
    ),
) -> None:
    """Record a vendor incident or SLA breach; prints the new risk rating."""
    with open_runtime() as rt:
        rating = _register(rt).record_event(
            vendor_id, kind="sla_breach" if sla else "incident", severity=severity, summary=summary
        )
    console.print(f"{vendor_id}: risk {rating.risk:.2f} ({rating.level.value})")


@vendors_app.command("show")
def vendors_show(vendor_id: str = typer.Argument(...)) -> None:
    """One vendor: register entry, latest assessment, events and risk history (JSON)."""
    with open_runtime() as rt:
        reg = _register(rt)
        v = reg.get(vendor_id)
        latest = reg.latest_assessment(vendor_id)
        out = {
            **v.to_json(),
            "rating": reg.rate(vendor_id).to_json(),
            "latest_assessment": None
            if latest is None
            else {
                "at": latest.at,
                "score": latest.score,
                "complete": latest.complete,
                "missing": list(latest.missing),
                "critical_failed": list(latest.critical_failed),
                "by_category": dict(latest.by_category),
            },
            "events": [e.__dict__ for e in reg.events(vendor_id)],
            "risk_history": [
                {"at": at, "risk": r, "level": lv.value} for at, r, lv in reg.history(vendor_id)
            ],
        }
    typer.echo(json.dumps(out, indent=2))


@vendors_app.command("monitor")
def vendors_monitor() -> None:
    """Re-rate every vendor, store the ratings and raise alerts. Exit 1 when any alert was raised."""
    with open_runtime() as rt:
        alerts = _register(rt).monitor()
    for a in alerts:
        err_console.print(f"[{a.severity.value}] {a.summary}")
    console.print(f"{len(alerts)} vendor alerts")
    if alerts:
        raise typer.Exit(1)
