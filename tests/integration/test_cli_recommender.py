"""`shopguard train recommender|reviews` and `shopguard evaluate recommender` through main(argv)."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import typer

import shopguard.cli as cli
from shopguard.store.recommender import Recommender
from shopguard.store.reviews import ReviewRanker
from tests.unit.store.test_reviews import synthetic_reviews


@pytest.fixture(autouse=True)
def only_recommender_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    # Register just the command groups under test; sibling modules may not exist yet.
    try:
        import shopguard.cli.train
    except ModuleNotFoundError:  # pragma: no cover - only before cli/train.py lands
        stub = types.ModuleType("shopguard.cli.train")
        stub.train_app = typer.Typer(no_args_is_help=True)  # type: ignore[attr-defined]
        cli.app.add_typer(stub.train_app, name="train")  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "shopguard.cli.train", stub)
    import shopguard.cli._train_recommender
    import shopguard.cli.evaluate  # noqa: F401

    monkeypatch.setattr(cli, "_register", lambda: None)


def _write_sequences(path: Path, n_users: int = 200, n_items: int = 30, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    lines = []
    for u in range(1, n_users + 1):
        start = int(rng.integers(1, n_items + 1))
        seq = [(start + step - 1) % n_items + 1 for step in range(int(rng.integers(4, 8)))]
        lines.append(" ".join(map(str, [u, *seq])))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_evaluate_recommender_when_json_then_exact_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = _write_sequences(tmp_path / "seq.txt")
    assert cli.main(["evaluate", "recommender", "--interactions", str(f), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"shopguard", "popularity", "item_knn"}
    for figures in out.values():
        assert set(figures) == {"hr@10", "ndcg@10"}
        assert 0.0 <= figures["ndcg@10"] <= figures["hr@10"] <= 1.0
    assert out["shopguard"]["hr@10"] > out["popularity"]["hr@10"]


def test_evaluate_recommender_when_line_malformed_then_exit_2_naming_file_and_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "broken.txt"
    f.write_text("1 2 3 4\n2 5 6 7\n3\n", encoding="utf-8")
    assert cli.main(["evaluate", "recommender", "--interactions", str(f), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1
    assert "broken.txt" in err and "row 3" in err


def test_train_recommender_when_orders_csv_then_model_and_metrics_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    rows = ["order_id,customer_id,product_id,created_at"]
    t0 = np.datetime64("2024-01-01T00:00:00")
    for c in range(150):
        start = int(rng.integers(20))
        for step in range(5):
            at = t0 + np.timedelta64(int(c * 1000 + (4 - step) * 10), "m")
            # written newest first: the loader must sort by created_at
            rows.append(f"O{c}{step},C{c:06d},P{(start + 4 - step) % 20:05d},{at}")
    f = tmp_path / "orders.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "model"
    code = cli.main(["train", "recommender", "--interactions", str(f), "--out", str(out)])
    assert code == 0
    assert {"hr@10", "ndcg@10"} <= set(json.loads(capsys.readouterr().out))
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["n_users"] == 150
    model = Recommender.load(out)
    recs = model.recommend("C000000", k=3)
    assert all(isinstance(r, str) and r.startswith("P") for r in recs)
    assert model.recommend("C999999", k=3) == model.popular(3)


def test_train_reviews_when_csv_then_ranker_written(tmp_path: Path) -> None:
    f = tmp_path / "reviews.csv"
    synthetic_reviews(n_products=20, seed=4).to_csv(f, index=False)
    out = tmp_path / "reviews-model"
    assert (
        cli.main(["train", "reviews", "--reviews", str(f), "--out", str(out), "--seed", "1"]) == 0
    )
    ranker = ReviewRanker.load(out)
    assert "ndcg@5" in json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert ranker.score(synthetic_reviews(n_products=2, seed=5)).shape == (24,)


def test_train_reviews_when_column_missing_then_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "reviews.csv"
    synthetic_reviews(n_products=5).drop(columns=["text"]).to_csv(f, index=False)
    assert cli.main(["train", "reviews", "--reviews", str(f), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "reviews.csv" in err and "'text'" in err
