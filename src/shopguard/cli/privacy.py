"""``shopguard privacy``: find and protect personal data."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import typer

from shopguard.cli import app
from shopguard.cli._common import err_console, progress, require_file
from shopguard.core.errors import DataValidationError

__all__ = ["privacy_app"]

privacy_app = typer.Typer(
    help="Find, pseudonymise and protect personal data.", no_args_is_help=True
)
app.add_typer(privacy_app, name="privacy")


@privacy_app.command("scan-text")
def scan_text(
    infile: Path = typer.Argument(..., help='JSON lines, each {"id": ..., "text": ...}.'),
    out: Path = typer.Option(..., "--out", help="JSON lines to write: {id, entities}."),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Report malformed lines and go on (default: fail, write nothing)."
    ),
    min_score: float = typer.Option(0.5, "--min-score", min=0.0, max=1.0),
) -> None:
    """Detect personal data in texts; write entity types and character offsets per id."""
    from shopguard.privacy.pii import PiiDetector
    from shopguard.privacy.pii._jsonl import BadLine, read_text_records

    require_file(infile, what="input file")
    if not out.parent.is_dir():
        raise DataValidationError("output directory does not exist", file=str(out))
    with infile.open("rb") as fh:
        total = sum(1 for _ in fh)
    detector = PiiDetector(min_score=min_score)
    n_ok = n_bad = 0
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with (
            os.fdopen(fd, "w", encoding="utf-8") as dst,
            infile.open("rb") as src,
            progress() as bar,
        ):
            task = bar.add_task("scanning texts", total=total)
            for item in read_text_records(src):
                bar.update(task, completed=item.line)
                if isinstance(item, BadLine):
                    if not skip_bad:
                        raise DataValidationError(
                            f"line {item.line}: {item.reason}", file=str(infile)
                        )
                    n_bad += 1
                    err_console.print(f"skipped line {item.line}: {item.reason}")
                    continue
                ents = [e.to_dict() for e in detector.detect(item.text)]
                dst.write(json.dumps({"id": item.id, "entities": ents}, ensure_ascii=False) + "\n")
                n_ok += 1
            bar.update(task, completed=total)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    err_console.print(f"scanned {n_ok} texts" + (f", skipped {n_bad} bad lines" if n_bad else ""))
    typer.echo(str(out))


@privacy_app.command("scan-table")
def scan_table(
    source: Path = typer.Argument(None, help="A .csv, .csv.gz or .parquet file."),
    table: str = typer.Option(
        None, "--table", help="Scan this table of the configured database instead."
    ),
    sample: int = typer.Option(
        200, "--sample", min=10, max=100_000, help="Values sampled per column."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Classify the columns of a table that hold personal data, with a confidence (no values shown)."""
    from rich.table import Table

    from shopguard.cli._common import console, open_runtime
    from shopguard.privacy.tables import scan_database_table, scan_file

    if (source is None) == (table is None):
        raise DataValidationError("give either a file or --table")
    if source is not None:
        require_file(source, what="table file")
        findings = scan_file(source, sample=sample)
    else:
        with open_runtime() as rt:
            findings = scan_database_table(rt.engine, table, sample=sample)
    if as_json:
        typer.echo(json.dumps([f.to_json() for f in findings], indent=2))
        return
    out = Table("column", "type", "confidence", "values matched", "by name")
    for f in findings:
        out.add_row(
            f.column,
            f.type.value,
            f"{f.confidence:.2f}",
            f"{f.matched_fraction:.0%}",
            "yes" if f.by_name else "",
        )
    console.print(out)


dsar_app = typer.Typer(
    help="Data-subject requests (access, and soon erasure).", no_args_is_help=True
)
privacy_app.add_typer(dsar_app, name="dsar")


@dsar_app.command("export")
def dsar_export(
    customer: str = typer.Option(..., "--customer", help="The customer id."),
    tenant: str = typer.Option("default", "--tenant", help="The tenant (store)."),
    out: Path = typer.Option(..., "--out", help="JSON file to write (mode 0600)."),
) -> None:
    """Export everything held about a customer as JSON; the request is audited."""
    from shopguard.cli._common import open_runtime
    from shopguard.core.audit import AuditEvent
    from shopguard.privacy.dsar import export_subject, write_export

    if not out.parent.is_dir():
        raise DataValidationError("output directory does not exist", file=str(out))
    with open_runtime() as rt:
        target = f"customer:{rt.audit.pseudonym(customer)}"
        export = export_subject(rt, tenant=tenant, customer_id=customer)
        write_export(export, out)
        rt.audit.append(
            AuditEvent(
                action="privacy.dsar.export",
                decision="allow",
                principal="cli",
                target=target,
                details={
                    "tenant": tenant,
                    "sections": sorted(k for k, v in export["store"].items() if v),
                },
            )
        )
    err_console.print(f"exported the data of one customer to {out}")
