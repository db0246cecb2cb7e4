"""``shopguard evaluate``: offline evaluation of the store's reference models.

Thin: parse -> library call -> render. Progress goes to stderr so ``--json``
output on stdout stays machine-readable.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shopguard.cli import app

__all__ = ["evaluate_app", "recommender"]

evaluate_app = typer.Typer(
    name="evaluate",
    help="Evaluate the store's reference models offline.",
    no_args_is_help=True,
)
app.add_typer(evaluate_app, name="evaluate")

_REPORTED = ("shopguard", "popularity", "item_knn")


@evaluate_app.command("recommender")
def recommender(
    interactions: Path = typer.Option(
        ...,
        "--interactions",
        help="User sequences ('user item item ...' per line) or an orders CSV "
        "(customer_id, product_id, created_at).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON on stdout."),
    l2: list[float] = typer.Option(
        [100.0], "--l2", help="EASE L2 value(s) to tune over on validation (repeatable)."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed (tuning sample)."),
) -> None:
    """Leave-last-out HR@10 / NDCG@10 of ours vs popularity vs tuned item-kNN (full ranking)."""
    from shopguard.store.recommender import evaluate_recommenders, load_interactions

    err = Console(stderr=True)
    sequences = load_interactions(interactions)
    with err.status("evaluating recommenders") as status:
        result = evaluate_recommenders(
            sequences,
            k=10,
            random_state=seed,
            l2_grid=tuple(l2),
            progress=lambda msg: status.update(f"evaluating recommenders: {msg}"),
        )
    figures = {name: result.metrics[name] for name in _REPORTED}
    if as_json:
        typer.echo(json.dumps(figures))
        return
    table = Table(title=f"leave-last-out, full ranking: {interactions.name}")
    table.add_column("model")
    table.add_column("HR@10", justify="right")
    table.add_column("NDCG@10", justify="right")
    table.add_column("train s", justify="right")
    for name in (*_REPORTED, "ease"):
        m = result.metrics[name]
        secs = result.train_seconds.get(name)
        table.add_row(
            name,
            f"{m['hr@10']:.4f}",
            f"{m['ndcg@10']:.4f}",
            "" if secs is None else f"{secs:.1f}",
        )
    Console().print(table)
