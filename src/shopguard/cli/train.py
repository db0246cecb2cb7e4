"""``shopguard train``: train the store's reference models."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from shopguard.cli import app

if TYPE_CHECKING:
    from shopguard.integrity.gate import IntegrityReport

__all__ = ["ACCEPT_RISK_HELP", "enforce_gate", "train_app"]

train_app = typer.Typer(help="Train the store's reference models.", no_args_is_help=True)
app.add_typer(train_app, name="train")

ACCEPT_RISK_HELP = "Train even if the data fails its integrity checks; the reason is audited."


def enforce_gate(
    report: IntegrityReport, *, accept_risk: str | None, model: str, console: Console
) -> None:
    """Exit 1 when the training data failed its integrity checks, unless the risk is
    accepted with a reason, which is audited first (no audit entry, no training)."""
    from shopguard.integrity.gate import record_override

    if report.passed:
        return
    if accept_risk is None or not accept_risk.strip():
        console.print("training data failed its integrity checks: " + "; ".join(report.failures()))
        console.print("fix the data, or pass --accept-risk REASON (audited)")
        raise typer.Exit(1)
    record_override(report, reason=accept_risk, model=model)
    console.print(f"integrity checks failed; risk accepted and audited: {accept_risk}")


@train_app.command("fraud")
def fraud(
    transactions: Path = typer.Option(..., "--transactions", help="Labelled transactions CSV."),
    out: Path = typer.Option(..., "--out", help="Model directory to write."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    accept_risk: str = typer.Option(
        None,
        "--accept-risk",
        help=ACCEPT_RISK_HELP,
    ),
    watermark: bool = typer.Option(
        False,
        "--watermark",
        help="Embed the key ring's trigger-set watermark (ownership proof, see models verify-ownership).",
    ),
) -> None:
    """Train the fraud scorer; writes the model, metrics.json and integrity.json.

    The data must pass the integrity gate first (duplicates, flipped labels); exit 1
    when it fails, unless --accept-risk REASON (recorded in the audit log).
    """
    from shopguard.integrity.gate import audit_fraud_training_data
    from shopguard.store.fraud import load_transactions, train_fraud

    console = Console(stderr=True)
    with console.status("reading transactions") as status:
        tx = load_transactions(transactions)
        status.update("checking the data's integrity")
        report = audit_fraud_training_data(tx, random_state=seed)
    enforce_gate(report, accept_risk=accept_risk, model="fraud", console=console)
    with console.status("training") as status:
        if watermark:
            from shopguard.cli._common import open_runtime
            from shopguard.modelsec.watermark import WATERMARK_PURPOSE, train_watermarked_fraud

            with open_runtime() as rt:
                key = rt.keyring.active(WATERMARK_PURPOSE)
            model = train_watermarked_fraud(
                tx, key=key.secret, key_id=key.key_id, random_state=seed, progress=status.update
            )
        else:
            model = train_fraud(tx, random_state=seed, progress=status.update)
        status.update("saving the model")
        model.save(out)
        report.write(out, accepted_risk=accept_risk if not report.passed else None)
    valid = model.metrics.get("validation")
    if valid and "roc_auc" in valid:
        console.print(
            f"validation: ROC AUC {valid['roc_auc']:.3f}, AP {valid['average_precision']:.3f}, "
            f"card precision@100 {valid['card_precision_at_100_daily_mean']:.3f}"
        )
    else:
        console.print("validation: not enough days of data for an out-of-time check")
    typer.echo(str(out))
