"""``shopguard train recommender`` and ``shopguard train reviews``.

Registered on :data:`shopguard.cli.train.train_app` at import time.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from shopguard.cli.train import ACCEPT_RISK_HELP, enforce_gate, train_app

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
    reference: Path | None = typer.Option(
        None,
        "--reference",
        help="Trusted earlier history (same formats) the shilling check learns normal "
        "profiles from; without it, it learns from the data itself.",
    ),
    accept_risk: str | None = typer.Option(None, "--accept-risk", help=ACCEPT_RISK_HELP),
) -> None:
    """Train the product recommender (EASE + recency-weighted transitions).

    The data must pass the integrity gate first (shilling profiles); exit 1 when it
    fails, unless --accept-risk REASON (audited). Writes integrity.json beside the model.
    """
    from shopguard.integrity.gate import audit_recommender_training_data
    from shopguard.store.recommender import load_interactions, train_recommender

    err = Console(stderr=True)
    sequences = load_interactions(interactions)
    trusted = load_interactions(reference) if reference is not None else None
    with err.status("checking the data's integrity"):
        report = audit_recommender_training_data(sequences, reference=trusted, random_state=seed)
    enforce_gate(report, accept_risk=accept_risk, model="recommender", console=err)
    with err.status("training recommender") as status:
        model = train_recommender(
            sequences,
            random_state=seed,
            l2_grid=tuple(l2),
            progress=lambda msg: status.update(f"training recommender: {msg}"),
        )
        model.save(out)
        report.write(out, accepted_risk=accept_risk if not report.passed else None)
    err.print(f"recommender written to {out}")
    typer.echo(json.dumps(model.metrics.get("validation", {})))


def reviews(
    reviews: Path = typer.Option(..., "--reviews", help="Reviews table (CSV or Parquet)."),
    out: Path = typer.Option(..., "--out", help="Directory to write the model into."),
    seed: int = typer.Option(0, "--seed", help="Random seed (held-out split)."),
    accept_risk: str | None = typer.Option(None, "--accept-risk", help=ACCEPT_RISK_HELP),
) -> None:
    """Train the review-helpfulness ranker.

    The data must pass the integrity gate first (duplicate ids, fake reviews); exit 1
    when it fails, unless --accept-risk REASON (audited). Writes integrity.json beside
    the model.
    """
    from shopguard.integrity.gate import audit_review_training_data
    from shopguard.store.reviews import load_reviews, train_review_ranker

    err = Console(stderr=True)
    df = load_reviews(reviews)
    with err.status("checking the data's integrity"):
        report = audit_review_training_data(df)
    enforce_gate(report, accept_risk=accept_risk, model="reviews", console=err)
    with err.status("training review ranker"):
        ranker = train_review_ranker(df, random_state=seed)
        ranker.save(out)
        report.write(out, accepted_risk=accept_risk if not report.passed else None)
    err.print(f"review ranker written to {out}")
    typer.echo(json.dumps(ranker.metrics_))


train_app.command("recommender")(recommender)
train_app.command("reviews")(reviews)
