"""``shopguard demo``: the main job, on the embedded default (SQLite, in-process state)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from shopguard.cli import app
from shopguard.cli._common import console, progress, settings
from shopguard.core.errors import DataValidationError


@app.command("demo")
def demo(
    out: Path = typer.Option(
        Path("shopguard-demo"), "--out", help="Where report.html and scorecard.json go."
    ),
    customers: int = typer.Option(10_000, "--customers", min=200, max=200_000, help="Store size."),
    seed: int = typer.Option(7, "--seed", help="Seed of the generated store."),
    requests: int = typer.Option(
        100, "--requests", min=1, max=10_000, help="Requests per endpoint."
    ),
) -> None:
    """Build a store, train and serve its models, check them, and write report.html + scorecard.json."""
    from shopguard.demo import run_demo

    if out.exists() and not out.is_dir():
        raise DataValidationError("output path exists and is not a directory", file=str(out))
    stages = 12
    with progress() as bar:
        task = bar.add_task("starting", total=stages)

        def step(name: str) -> None:
            bar.update(
                task,
                description=name,
                advance=1 if bar.tasks[task].description != "starting" else 0,
            )

        result = run_demo(
            settings(), out, customers=customers, seed=seed, requests=requests, step=step
        )
        bar.update(task, description="done", completed=stages)
    table = Table("status", "check", "figure", "evidence", title="scorecard")
    for r in result.scorecard.results:
        fig = (
            ""
            if r.figure is None
            else f"{r.figure.name}={r.figure.value:.4g} (bar {r.figure.bar:.4g})"
        )
        colour = {"pass": "green", "fail": "red", "error": "yellow"}.get(r.status.value, "dim")
        table.add_row(f"[{colour}]{r.status.value}[/]", r.id, fig, r.evidence)
    console.print(table)
    if result.redteam is not None:
        console.print(f"red team:  {result.redteam.summary()}")
        console.print(f"           {result.redteam_report}")
    console.print(f"report:    {result.report}")
    console.print(f"scorecard: {result.scorecard_path}")
    console.print(f"finished in {result.seconds:.0f} s; state kept in {settings().home}/")
    if not result.scorecard.passed:
        raise typer.Exit(1)
