"""``shopguard integrity``: ingest with provenance, score reviews, work the quarantine."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from shopguard.cli import app
from shopguard.cli._common import console, err_console, open_runtime, progress, require_file
from shopguard.core.errors import DataValidationError

__all__ = ["integrity_app"]

integrity_app = typer.Typer(
    help="Validate and screen training data: provenance, duplicates, fake reviews, quarantine.",
    no_args_is_help=True,
)
quarantine_app = typer.Typer(help="Review quarantined records.", no_args_is_help=True)
integrity_app.add_typer(quarantine_app, name="quarantine")
app.add_typer(integrity_app, name="integrity")

_KINDS = ("review", "transaction", "session")


@integrity_app.command("ingest")
def ingest(
    infile: Path = typer.Argument(..., help="CSV (.csv/.csv.gz), JSON lines or Parquet file."),
    kind: str = typer.Option(..., "--kind", help="review, transaction or session."),
    source: str = typer.Option(..., "--source", help="Where the data comes from (provenance)."),
    tenant: str = typer.Option("default", "--tenant"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Ingest a batch: validate, stamp provenance, deduplicate, score, quarantine.

    Running the same file again resumes an interrupted batch and never stores a
    record twice. Exit code 1 when any record was rejected or quarantined.
    """
    from shopguard.integrity.ingest import Ingestor
    from shopguard.integrity.validate import Kind

    if kind not in _KINDS:
        raise DataValidationError(f"--kind must be one of {', '.join(_KINDS)}")
    if not source.strip() or len(source) > 64:
        raise DataValidationError("--source must be 1 to 64 characters")
    require_file(infile, what="input file")
    with open_runtime() as rt, progress() as bar:
        task = bar.add_task(f"ingesting {kind}s", total=None)
        ingestor = Ingestor(
            rt.engine, tenant=tenant, quarantine_at=rt.settings.integrity_quarantine_at
        )
        report = ingestor.ingest_file(
            infile,
            kind=Kind(kind),
            source=source,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        for row, key, column, reason in report.errors[:50]:
            err_console.print(f"row {row} (id {key or '?'}): {column} {reason}")
        if len(report.errors) > 50:
            err_console.print(f"... and {len(report.errors) - 50} more (use --json)")
        resumed = f" (resumed at row {report.resumed_from})" if report.resumed_from else ""
        console.print(
            f"batch {report.batch_id}{resumed}: {report.accepted} accepted, "
            f"{report.quarantined} quarantined, {report.rejected} rejected, "
            f"{report.skipped_existing} already ingested"
        )
    if report.rejected or report.quarantined:
        raise typer.Exit(1)


@integrity_app.command("score-reviews")
def score_reviews(
    infile: Path = typer.Argument(
        ...,
        help="CSV with id,text,rating and optionally product_id,reviewer_id,created_at,"
        "verified_purchase,account_age_days.",
    ),
    out: Path = typer.Option(..., "--out", help="CSV to write: id,score,flagged,reasons."),
    chunk_size: int = typer.Option(
        50_000, "--chunk-size", min=100, help="Rows scored at a time (bounds memory)."
    ),
) -> None:
    """Score reviews for being fake (text model + behaviour), with reasons."""
    from shopguard.integrity.stream import score_reviews_csv

    require_file(infile, what="input file")
    with progress() as bar:
        task = bar.add_task("scoring reviews", total=None)
        stats = score_reviews_csv(
            infile, out, chunk_size=chunk_size, progress=lambda n: bar.update(task, completed=n)
        )
    err_console.print(f"scored {stats['reviews']} reviews, flagged {stats['flagged']}")
    typer.echo(str(out))


@quarantine_app.command("list")
def quarantine_list(
    tenant: str = typer.Option(None, "--tenant"),
    kind: str = typer.Option(None, "--kind"),
    status: str = typer.Option("quarantined", "--status"),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List quarantined (or released / rejected) records with their reasons."""
    from shopguard.integrity.quarantine import Quarantine

    if status not in ("quarantined", "released", "rejected", "accepted"):
        raise DataValidationError("--status must be quarantined, released, rejected or accepted")
    with open_runtime() as rt:
        items = Quarantine(rt.engine, rt.audit).list(
            tenant=tenant, kind=kind, status=status, limit=limit
        )
    if as_json:
        typer.echo(json.dumps([i.to_json() for i in items], indent=2))
        return
    for i in items:
        score = "-" if i.score is None else f"{i.score:.3f}"
        console.print(
            f"{i.id}\t{i.kind}\t{i.source}:{i.key}\t{score}\t{'; '.join(i.reasons)}",
            highlight=False,
            markup=False,
        )
    err_console.print(f"{len(items)} {status}")


def _decide(record_id: int, reviewer: str, reason: str, *, release: bool) -> None:
    from shopguard.integrity.quarantine import Quarantine
    from shopguard.integrity.service import publish_released

    with open_runtime() as rt:
        q = Quarantine(rt.engine, rt.audit, on_release=publish_released(rt.engine))
        done = (q.release if release else q.reject)(record_id, reviewer=reviewer, reason=reason)
    console.print(f"record {done.id} ({done.kind} {done.source}:{done.key}) {done.status}")


@quarantine_app.command("release")
def quarantine_release(
    record_id: int = typer.Argument(..., help="Record id (from 'quarantine list')."),
    reviewer: str = typer.Option(
        ..., "--reviewer", help="Who decides (recorded in the audit log)."
    ),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit log)."),
) -> None:
    """Release a quarantined record (audited): it becomes visible / usable."""
    _decide(record_id, reviewer, reason, release=True)


@quarantine_app.command("reject")
def quarantine_reject(
    record_id: int = typer.Argument(..., help="Record id (from 'quarantine list')."),
    reviewer: str = typer.Option(
        ..., "--reviewer", help="Who decides (recorded in the audit log)."
    ),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit log)."),
) -> None:
    """Reject a quarantined record for good (audited; kept as evidence)."""
    _decide(record_id, reviewer, reason, release=False)
