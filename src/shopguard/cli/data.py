"""``shopguard data``: generate a synthetic store, validate a store's own data."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Literal

import typer
from rich.table import Table

from shopguard.cli import app
from shopguard.cli._common import console, progress
from shopguard.core.errors import ConfigError

__all__ = ["data_app"]

data_app = typer.Typer(
    help="Generate a realistic synthetic store, or validate a store's own data.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")


def _parse_start(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ConfigError("--start must be a date as YYYY-MM-DD") from None


@data_app.command("generate")
def generate(
    seed: int = typer.Option(
        ..., "--seed", min=0, help="Random seed; the same seed gives the same files."
    ),
    customers: int = typer.Option(..., "--customers", min=1, help="Number of customers."),
    out: Path = typer.Option(..., "--out", help="Output directory (must be empty or absent)."),
    fmt: str = typer.Option("csv", "--format", help="File format: csv or parquet."),
    days: int = typer.Option(90, "--days", min=7, help="Length of the activity window in days."),
    start: str | None = typer.Option(
        None, "--start", help="First day, YYYY-MM-DD (default 2025-01-06)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace a non-empty output directory."),
) -> None:
    """Write customers, products, sessions, orders, transactions and reviews to OUT."""
    from shopguard.store.generate import TABLES, generate_store, write_store

    if fmt not in ("csv", "parquet"):
        raise ConfigError("--format must be csv or parquet")
    kind: Literal["csv", "parquet"] = "csv" if fmt == "csv" else "parquet"
    first_day = _parse_start(start)
    if out.exists() and not force and (not out.is_dir() or any(out.iterdir())):
        # Checked before the work, again (atomically) by write_store.
        raise ConfigError(f"output directory {out} is not empty (use --force to replace it)")
    with progress(transient=True) as bar:
        task = bar.add_task("generating", total=7)

        def step(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total + 1, description=f"generated {stage}")

        store = generate_store(
            seed=seed, customers=customers, start=first_day, days=days, progress=step
        )
        bar.update(task, description="writing")
        write_store(store, out, fmt=kind, overwrite=force)
        bar.update(task, completed=7)
    tx = store.transactions
    typer.echo(
        f"wrote {len(TABLES)} tables to {out} ({fmt}): "
        + ", ".join(f"{n} {len(store.table(n))}" for n in TABLES)
        + f"; fraud rate {tx['TX_FRAUD'].mean():.2%}"
    )


@data_app.command("validate")
def validate(
    from_: Path = typer.Option(..., "--from", help="Directory with the store's tables."),
) -> None:
    """Check a store directory against the schema and print a summary."""
    from shopguard.store.generate import TABLES
    from shopguard.store.schema import SCHEMAS, find_table_files, load_store

    files = find_table_files(from_)
    store = load_store(from_)
    table = Table(title=f"store at {from_}")
    for head in ("table", "file", "rows", "columns", "note"):
        table.add_column(head, justify="right" if head in ("rows", "columns") else "left")
    for name in TABLES:
        frame = store.table(name)
        path = files.get(name)
        note = ""
        if path is None:
            note = "absent (optional)"
        elif name == "transactions" and len(frame):
            note = f"fraud rate {frame['TX_FRAUD'].mean():.2%}"
        missing = [c.name for c in SCHEMAS[name].columns if c.name not in frame.columns]
        if path is not None and missing:
            note = (note + "; " if note else "") + f"{len(missing)} optional columns absent"
        table.add_row(name, path.name if path else "-", str(len(frame)), str(frame.shape[1]), note)
    console.print(table)
    typer.echo("valid")
