"""``shopguard adversarial``: robustness tables of the store's models under attack."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shopguard.cli import app
from shopguard.cli._common import progress

__all__ = ["adversarial_app", "evaluate"]

adversarial_app = typer.Typer(
    name="adversarial",
    help="Attack the store's models and report their robustness.",
    no_args_is_help=True,
)
app.add_typer(adversarial_app, name="adversarial")


@adversarial_app.command("evaluate")
def evaluate(
    model: str = typer.Option(
        ..., "--model", help="An image model (standard, robust, robust02) or 'fraud'."
    ),
    attack: list[str] = typer.Option(
        ["pgd"],
        "--attack",
        help="fgsm, pgd, pgd50, apgd, square (images); evasion (fraud). Repeatable.",
    ),
    eps: list[float] = typer.Option([0.1], "--eps", help="L-inf radius (repeatable)."),
    n: int = typer.Option(1000, "--n", min=1, max=1000, help="Images of the fixed evaluation set."),
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Directory of the official Fashion-MNIST IDX files (default: Debian "
        "dataset-fashion-mnist) or of the shared 10k subset.",
    ),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON on stdout."),
) -> None:
    """Clean and attacked accuracy of MODEL on the fixed evaluation set, with a progress bar."""
    from shopguard.core.errors import DataValidationError

    if model == "fraud":
        _fraud(attack, as_json)
        return
    from shopguard.adversarial.attacks import Attack
    from shopguard.adversarial.robustness import evaluate_robustness
    from shopguard.store.images import load_classifier
    from shopguard.store.images.images_train import load_eval_set

    try:
        attacks = [Attack(a) for a in attack]
    except ValueError:
        raise DataValidationError(
            f"--attack must be among {', '.join(a.value for a in Attack)} for an image model"
        ) from None
    clf = load_classifier(model)
    X, y, described = load_eval_set(data)
    X, y = X[:n], y[:n]
    with progress() as bar:
        task = bar.add_task(f"attacking {model}", total=1 + len(attacks) * len(eps))
        seen: list[str] = []

        def step(label: str) -> None:
            if seen:
                bar.advance(task)
            seen.append(label)
            bar.update(task, description=f"{model}: {label}")

        rows = evaluate_robustness(
            clf, X, y, attacks=attacks, eps_values=eps, random_state=seed, progress=step
        )
        bar.advance(task)
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in rows]))
        return
    table = Table(title=f"{model}: accuracy on {len(y)} images ({described})")
    for col in ("attack", "eps", "steps", "accuracy", "seconds"):
        table.add_column(col, justify="right" if col != "attack" else "left")
    for r in rows:
        table.add_row(r.attack, f"{r.eps:g}", str(r.steps), f"{r.accuracy:.3f}", f"{r.seconds:.1f}")
    Console().print(table)


def _fraud(attack: list[str], as_json: bool) -> None:
    """Evasion search against the store's fraud model on its last 30 days (earlier rows: history)."""
    import pandas as pd

    from shopguard.adversarial.fraud_evasion import VARIANTS, evasion_search
    from shopguard.cli._common import settings
    from shopguard.core.errors import DataValidationError, ModelError
    from shopguard.store.fraud import FraudModel
    from shopguard.store.schema import load_store
    from shopguard.store.service import STORE_DIR

    if attack != ["evasion"]:
        raise DataValidationError("--attack must be 'evasion' for the fraud model")
    s = settings()
    if not (s.home / STORE_DIR).is_dir() or not (s.models_dir / "fraud").is_dir():
        raise ModelError("no store or fraud model; run 'shopguard demo' or 'shopguard train fraud'")
    tx = load_store(s.home / STORE_DIR).transactions
    model = FraudModel.load(s.models_dir / "fraud")
    t = pd.to_datetime(tx["TX_DATETIME"])
    cut = t.max().floor("D") - pd.Timedelta(days=29)
    test, history = tx[t >= cut].reset_index(drop=True), tx[t < cut].reset_index(drop=True)
    with progress() as bar:
        task = bar.add_task("evasion search", total=len(VARIANTS))
        report = evasion_search(
            model,
            test,
            history,
            name="fraud",
            progress=lambda done, _total: bar.update(task, completed=done),
        )
    if as_json:
        typer.echo(json.dumps(report.to_json()))
        return
    table = Table(title="fraud model: evasion by fraudster-controlled fields (last 30 days)")
    for col in ("frauds", "caught", "evaded", "evasion rate", "AP"):
        table.add_column(col, justify="right")
    table.add_row(
        str(report.n_frauds),
        str(report.caught_before),
        str(report.evaded),
        f"{report.evasion_rate:.3f}",
        f"{report.average_precision:.3f}",
    )
    Console().print(table)
