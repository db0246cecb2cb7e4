"""``shopguard train``: train the store's reference models."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from shopguard.cli import app

__all__ = ["train_app"]

train_app = typer.Typer(help="Train the store's reference models.", no_args_is_help=True)
app.add_typer(train_app, name="train")


@train_app.command("fraud")
def fraud(
    transactions: Path = typer.Option(..., "--transactions", help="Labelled transactions CSV."),
    out: Path = typer.Option(..., "--out", help="Model directory to write."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Train the fraud scorer; writes the model and metrics.json (validation metrics)."""
    from shopguard.store.fraud import load_transactions, train_fraud

    console = Console(stderr=True)
    with console.status("reading transactions") as status:
        tx = load_transactions(transactions)
        model = train_fraud(tx, random_state=seed, progress=status.update)
        status.update("saving the model")
        model.save(out)
    valid = model.metrics.get("validation")
    if valid and "roc_auc" in valid:
        console.print(
            f"validation: ROC AUC {valid['roc_auc']:.3f}, AP {valid['average_precision']:.3f}, "
            f"card precision@100 {valid['card_precision_at_100_daily_mean']:.3f}"
        )
    else:
        console.print("validation: not enough days of data for an out-of-time check")
    typer.echo(str(out))
