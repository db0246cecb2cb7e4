"""``shopguard score``: score data with the store's reference models."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from shopguard.cli import app
from shopguard.core.errors import DataValidationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["score_app"]

score_app = typer.Typer(help="Score data with the store's reference models.", no_args_is_help=True)
app.add_typer(score_app, name="score")


def _write_csv_atomic(frame: pd.DataFrame, out: Path) -> None:
    """Write ``out`` through a temporary file in the same directory, then rename."""
    parent = out.parent
    if not parent.is_dir():
        raise DataValidationError("output directory does not exist", file=str(out))
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            frame.to_csv(fh, index=False)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@score_app.command("fraud")
def fraud(
    model: Path = typer.Option(..., "--model", help="Model directory from `train fraud`."),
    transactions: Path = typer.Option(
        ..., "--transactions", help="Transactions CSV; every row is scored and is history."
    ),
    out: Path = typer.Option(..., "--out", help="Scores CSV to write (TRANSACTION_ID,score)."),
) -> None:
    """Score transactions for fraud risk (probability in [0, 1], higher is riskier)."""
    import pandas as pd

    from shopguard.store.fraud import FraudModel, load_transactions

    console = Console(stderr=True)
    with console.status("loading the model") as status:
        fm = FraudModel.load(model)
        status.update("reading transactions")
        tx = load_transactions(transactions)
        status.update(f"scoring {len(tx)} transactions")
        scores = fm.score(tx)
        status.update("writing scores")
        _write_csv_atomic(
            pd.DataFrame({"TRANSACTION_ID": tx["TRANSACTION_ID"], "score": scores}), out
        )
    console.print(f"scored {len(tx)} transactions")
    typer.echo(str(out))
