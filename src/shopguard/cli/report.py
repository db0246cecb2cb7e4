"""``shopguard report``: model cards and the customer-facing transparency report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from shopguard.cli import app
from shopguard.cli._common import console, err_console, settings

__all__ = ["report_app"]

report_app = typer.Typer(help="Model cards and the transparency report.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("model-card")
def model_card(
    name: str = typer.Argument(..., help="A model under the models folder (fraud, ...)."),
    out: Path | None = typer.Option(None, "--out", help="Folder (default: <home>/reports/cards)."),
    owner: str = typer.Option("unassigned", "--owner", help="Who answers for the model."),
) -> None:
    """Write <name>.html and <name>.json: intended use, data, metrics, fairness, history."""
    from shopguard.fairness.cards import collect_card, write_card

    cfg = settings()
    target = out or cfg.home / "reports" / "cards"
    html_path, json_path = write_card(collect_card(name, cfg.models_dir, owner=owner), target)
    console.print(str(html_path))
    console.print(str(json_path))


@report_app.command("transparency")
def transparency(
    out: Path | None = typer.Option(None, "--out", help="Folder (default: <home>/reports)."),
    store_name: str = typer.Option("our store", "--store-name"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Also write transparency.pdf."),
    sensitive: str = typer.Option(
        "region,age_band", "--sensitive", help="Customer attributes to report fairness by."
    ),
) -> None:
    """Write the customer-facing transparency page (HTML, and PDF) with fairness charts."""
    from shopguard.fairness.runs import audit_store_model, store_frame
    from shopguard.fairness.transparency import write_transparency_report

    cfg = settings()
    models = [m for m in ("fraud", "recommender", "reviews") if (cfg.models_dir / m).is_dir()]
    audits: dict[str, Any] = {}
    store_dir = cfg.home / "store"
    cols = [c.strip() for c in sensitive.split(",") if c.strip()]
    if "fraud" in models and store_dir.is_dir():
        present = [c for c in cols if c in store_frame(store_dir).customers.columns]
        if present:
            report = audit_store_model(
                "fraud",
                store_dir=store_dir,
                models_dir=cfg.models_dir,
                sensitive=present,
                min_group_size=cfg.fairness_min_group_size,
                say=lambda m: err_console.print(f"[dim]{m}[/dim]"),
            )
            audits = report["audits"]
        else:
            err_console.print("the store has no sensitive attributes: no fairness section")
    for path in write_transparency_report(
        out or cfg.home / "reports", store_name=store_name, models=models, audits=audits, pdf=pdf
    ):
        console.print(str(path))
