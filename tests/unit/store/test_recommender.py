from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from shopguard.core.errors import DataValidationError
from shopguard.store.recommender import (
    Recommender,
    RecommenderParams,
    evaluate_recommenders,
    hit_rate_at_k,
    leave_last_out,
    load_interactions,
    ndcg_at_k,
    train_recommender,
)

DATA = Path(__file__).resolve().parents[3] / "../shared/data/recsys_amazon_5core"
FAST = RecommenderParams(l2=50.0, ease_neighbours=64)


def _chain_sequences(n_users: int = 300, n_items: int = 40, seed: int = 0) -> dict[str, list[str]]:
    """Users walk a ring of products (i -> i+1 mostly), so the next item is predictable."""
    rng = np.random.default_rng(seed)
    out = {}
    for u in range(n_users):
        start = int(rng.integers(n_items))
        length = int(rng.integers(4, 9))
        seq = [(start + step + int(rng.random() < 0.1)) % n_items for step in range(length)]
        out[f"C{u:06d}"] = [f"P{i:05d}" for i in seq]
    return out


def test_metrics_when_hand_computed_case_then_exact_values() -> None:
    ranked = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    targets = np.array([2, 4, 0])
    assert hit_rate_at_k(ranked, targets, 3) == pytest.approx(2 / 3)
    assert hit_rate_at_k(ranked, targets, 1) == pytest.approx(1 / 3)
    assert ndcg_at_k(ranked, targets, 3) == pytest.approx((1 / np.log2(3) + 1.0) / 3)
    assert ndcg_at_k(ranked, targets, 1) == pytest.approx(1 / 3)


def test_metrics_when_shapes_disagree_then_value_error() -> None:
    with pytest.raises(ValueError):
        hit_rate_at_k(np.zeros((2, 3)), np.zeros(3), 3)


def test_leave_last_out_when_split_then_last_is_test_and_previous_is_valid() -> None:
    split = leave_last_out({"a": [1, 2, 3, 4, 5], "b": [7, 8], "c": [9]})
    assert split.train == {"a": [1, 2, 3], "b": [7], "c": [9]}
    assert split.valid == {"a": 4}
    assert split.test == {"a": 5, "b": 8}


def test_load_interactions_when_text_file_then_ordered_string_ids(tmp_path: Path) -> None:
    f = tmp_path / "seq.txt"
    f.write_text("1 5 3 9\n2 3 5\n\n", encoding="utf-8")
    assert load_interactions(f) == {"1": ["5", "3", "9"], "2": ["3", "5"]}


def test_load_interactions_when_line_has_no_items_then_error_names_file_and_row(
    tmp_path: Path,
) -> None:
    f = tmp_path / "bad.txt"
    f.write_text("1 5 3\n2 3 5\n3\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as exc:
        load_interactions(f)
    assert exc.value.file == "bad.txt"
    assert exc.value.row == 3
    assert "bad.txt" in str(exc.value) and "row 3" in str(exc.value)


def test_load_interactions_when_orders_csv_then_sorted_by_time(tmp_path: Path) -> None:
    f = tmp_path / "orders.csv"
    f.write_text(
        "order_id,customer_id,product_id,created_at\n"
        "1,C1,P3,2024-03-02T10:00:00\n"
        "2,C1,P1,2024-01-01T00:00:00Z\n"
        "3,C2,P2,2024-02-01\n"
        "4,C1,P2,2024-02-15T12:00:00+00:00\n",
        encoding="utf-8",
    )
    assert load_interactions(f) == {"C1": ["P1", "P2", "P3"], "C2": ["P2"]}


@pytest.mark.parametrize(
    ("body", "row", "column"),
    [
        ("customer_id,product_id\nC1,P1\n", None, "created_at"),
        ("customer_id,product_id,created_at\nC1,P1,2024-01-01\nC1,,2024-01-02\n", 2, "product_id"),
        ("customer_id,product_id,created_at\nC1,P1,yesterday\n", 1, "created_at"),
    ],
)
def test_load_interactions_when_csv_malformed_then_error_names_row_and_column(
    tmp_path: Path, body: str, row: int | None, column: str
) -> None:
    f = tmp_path / "orders.csv"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(DataValidationError) as exc:
        load_interactions(f)
    assert (exc.value.file, exc.value.row, exc.value.column) == ("orders.csv", row, column)


def test_recommend_when_user_is_cold_then_popular_items() -> None:
    model = train_recommender(_chain_sequences(), params=FAST)
    assert model.recommend("C999999", k=5) == model.popular(5)
    assert len(model.popular(5)) == 5


def test_recommend_when_known_user_then_next_item_of_chain_and_no_seen_items() -> None:
    seqs = _chain_sequences()
    model = train_recommender(seqs, params=FAST)
    hits = 0
    for user, seq in list(seqs.items())[:50]:
        recs = model.recommend(user, k=3)
        assert not set(recs) & set(seq)
        nxt = f"P{(int(seq[-1][1:]) + 1) % 40:05d}"
        hits += nxt in recs
    assert hits >= 40


def test_save_load_when_round_trip_then_identical_recommendations(tmp_path: Path) -> None:
    seqs = _chain_sequences()
    model = train_recommender(seqs, random_state=0, max_tune_users=100)
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "metrics.json").is_file()
    loaded = Recommender.load(tmp_path / "m")
    assert loaded.params == model.params
    assert loaded.metrics == model.metrics
    for user in [*list(seqs)[:30], "unknown"]:
        assert loaded.recommend(user, k=10) == model.recommend(user, k=10)


def test_load_when_artifact_is_not_a_recommender_then_model_error(tmp_path: Path) -> None:
    from shopguard.core.errors import ModelError

    (tmp_path / "recommender.json").write_text('{"format": "other"}', encoding="utf-8")
    with pytest.raises(ModelError):
        Recommender.load(tmp_path)


def test_evaluate_when_chain_data_then_ours_beats_popularity_and_returns_all_models() -> None:
    res = evaluate_recommenders(_chain_sequences(), max_tune_users=200)
    assert set(res.metrics) == {"shopguard", "popularity", "item_knn", "ease"}
    assert res.metrics["shopguard"]["hr@10"] > res.metrics["popularity"]["hr@10"] + 0.3


@pytest.mark.slow
def test_recommender_when_real_toys_slice_then_beats_popularity() -> None:
    seqs = load_interactions(DATA / "Toys_and_Games.txt")
    first = dict(list(seqs.items())[:3000])
    # Keep items seen at least 5 times in the slice, so the test stays a few seconds.
    counts = Counter(i for s in first.values() for i in s)
    first = {
        u: kept for u, s in first.items() if len(kept := [i for i in s if counts[i] >= 5]) >= 3
    }
    assert len(first) > 1500
    split = leave_last_out(first)
    train = {u: s[:-1] for u, s in first.items()}
    model = train_recommender(train, params=RecommenderParams(l2=100.0))
    users = list(split.test)
    ours = [split.test[u] in model.recommend(u, k=10) for u in users]
    ranked_pop = model.popular(100)
    popular = [split.test[u] in [i for i in ranked_pop if i not in train[u]][:10] for u in users]
    assert np.mean(ours) > 2 * np.mean(popular)
    assert np.mean(ours) > 0.08
