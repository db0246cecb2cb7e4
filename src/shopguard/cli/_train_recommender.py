"""``shopguard train recommender`` and ``shopguard train reviews``.

Registered on :data:`shopguard.cli.train.train_app` at import time.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from shopguard.cli.train import train_app
from shopguard.store.recommender import load_interactions, train_recommender
from shopguard.store.reviews import load_reviews, train_review_ranker

__all__ = ["recommender", "reviews"]


def recommender(
    interactions: Path = typer.Option(
        ...,
        "--interactions",
        help="User sequences ('user item item ...' per line) or an orders CSV "
        "(customer_id, product_id, created_at).",
    ),
    out: Path = typer.Option(..., "--out", help="Directory to write the model into."),
    l2: list[float] = typer.Option(
        [100.0], "--l2", help="EASE L2 value(s) to tune over on validation (repeatable)."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed (tuning sample)."),
) -> None:
    """Train the product recommender (EASE + recency-weighted transitions)."""
    err = Console(stderr=True)
    sequences = load_interactions(interactions)
    with err.status("training recommender") as status:
        model = train_recommender(
            sequences,
            random_state=seed,
            l2_grid=tuple(l2),
            progress=lambda msg: status.update(f"training recommender: {msg}"),
        )
        model.save(out)
    err.print(f"recommender written to {out}")
    typer.echo(json.dumps(model.metrics.get("validation", {})))


def reviews(
    reviews: Path = typer.Option(..., "--reviews", help="Reviews table (CSV or Parquet)."),
    out: Path = typer.Option(..., "--out", help="Directory to write the model into."),
    seed: int = typer.Option(0, "--seed", help="Random seed (held-out split)."),
) -> None:
    """Train the review-helpfulness ranker."""
    err = Console(stderr=True)
    df = load_reviews(reviews)
    with err.status("training review ranker"):
        ranker = train_review_ranker(df, random_state=seed)
        ranker.save(out)
    err.print(f"review ranker written to {out}")
    typer.echo(json.dumps(ranker.metrics_))


train_app.command("recommender")(recommender)
train_app.command("reviews")(reviews)
