from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopguard.core.errors import DataValidationError, ModelError
from shopguard.store.reviews import (
    ReviewRanker,
    load_reviews,
    ndcg_at_k_per_group,
    train_review_ranker,
)

_DETAILS = (
    "the strap held 12 kg on a 3 day hike",
    "battery lasted 9 hours at full brightness",
    "the zipper survived 40 washes",
    "fits a 15 inch laptop with room for a charger",
    "assembly took 20 minutes with the included tool",
)


def synthetic_reviews(n_products: int = 40, per_product: int = 12, seed: int = 0) -> pd.DataFrame:
    """Helpful reviews are longer, carry specific details with numbers and are verified."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2024-01-01", tz="UTC")
    for p in range(n_products):
        for r in range(per_product):
            quality = rng.random()
            n_detail = int(rng.binomial(3, quality))
            verified = rng.random() < 0.4 + 0.5 * quality
            rating = int(np.clip(round(4 + rng.normal(0, 1)), 1, 5))
            body = ["Got this last month."] + [
                _DETAILS[int(i)].capitalize() + "." for i in rng.permutation(5)[:n_detail]
            ]
            if quality < 0.3:
                body = [str(rng.choice(["Great!", "Meh.", "Love it!!", "Bad."]))]
            lam = np.exp(-1.0 + 1.1 * n_detail + 0.7 * verified)
            rows.append(
                {
                    "review_id": f"R{p:03d}{r:03d}",
                    "product_id": f"P{p:05d}",
                    "customer_id": f"C{int(rng.integers(10**6)):06d}",
                    "rating": rating,
                    "title": "Solid" if n_detail else "ok",
                    "text": " ".join(body),
                    "created_at": start + pd.Timedelta(minutes=int(rng.integers(10**5))),
                    "verified_purchase": bool(verified),
                    "helpful_votes": int(rng.poisson(lam)),
                }
            )
    return pd.DataFrame(rows)


def test_ndcg_per_group_when_hand_computed_then_exact() -> None:
    groups = np.array(["a", "a", "a", "b", "b"])
    rel = np.array([0.0, 1.0, 2.0, 0.0, 0.0])  # group b has no relevance: skipped
    scores = np.array([3.0, 2.0, 1.0, 1.0, 0.0])
    ideal = 2.0 + 1.0 / np.log2(3)
    got = 0.0 + 1.0 / np.log2(3) + 2.0 / np.log2(4)
    assert ndcg_at_k_per_group(groups, rel, scores, 5) == pytest.approx(got / ideal)
    assert ndcg_at_k_per_group(groups, rel, -scores, 5) == pytest.approx(1.0)


def test_ranker_when_held_out_synthetic_then_beats_random_and_recency() -> None:
    ranker = train_review_ranker(synthetic_reviews(seed=0), random_state=0)
    m = ranker.metrics_
    assert m["ndcg@5"] > m["ndcg@5_random"] + 0.05
    assert m["ndcg@5"] > m["ndcg@5_recency"] + 0.05
    # and on a fresh store it has never seen
    fresh = synthetic_reviews(n_products=30, seed=1)
    rel = np.log1p(fresh["helpful_votes"].to_numpy(dtype=float))
    rng = np.random.default_rng(1)
    ours = ndcg_at_k_per_group(fresh["product_id"], rel, ranker.score(fresh), 5)
    rand = np.mean(
        [ndcg_at_k_per_group(fresh["product_id"], rel, rng.random(len(fresh)), 5) for _ in range(5)]
    )
    assert ours > rand + 0.05


def test_score_and_rank_when_scored_then_probabilities_in_unit_interval_sorted() -> None:
    df = synthetic_reviews(n_products=10, seed=2)
    ranker = train_review_ranker(df, random_state=0)
    s = ranker.score(df)
    assert s.shape == (len(df),) and ((s >= 0) & (s <= 1)).all()
    ranked = ranker.rank(df)
    assert list(ranked.columns) == [*df.columns, "helpfulness"]
    assert ranked["helpfulness"].is_monotonic_decreasing
    assert set(ranked["review_id"]) == set(df["review_id"])


def test_save_load_when_round_trip_then_identical_scores(tmp_path: Path) -> None:
    df = synthetic_reviews(n_products=10, seed=3)
    ranker = train_review_ranker(df, random_state=0)
    ranker.save(tmp_path / "r")
    loaded = ReviewRanker.load(tmp_path / "r")
    np.testing.assert_array_equal(loaded.score(df), ranker.score(df))
    assert loaded.metrics_ == ranker.metrics_


def test_load_when_artifact_missing_then_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        ReviewRanker.load(tmp_path)


def test_train_when_column_missing_then_error_names_column() -> None:
    df = synthetic_reviews(n_products=5).drop(columns=["helpful_votes"])
    with pytest.raises(DataValidationError) as exc:
        train_review_ranker(df)
    assert exc.value.column == "helpful_votes"


def test_load_reviews_when_rating_not_a_number_then_error_names_row(tmp_path: Path) -> None:
    df = synthetic_reviews(n_products=5)
    df["rating"] = df["rating"].astype(object)
    df.loc[3, "rating"] = "five"
    df.to_csv(tmp_path / "reviews.csv", index=False)
    with pytest.raises(DataValidationError) as exc:
        load_reviews(tmp_path / "reviews.csv")
    assert (exc.value.file, exc.value.row, exc.value.column) == ("reviews.csv", 4, "rating")
