from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from shopguard.integrity.reviews import ReviewScorer
from shopguard.integrity.stream import score_reviews_csv, score_reviews_dask

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


@pytest.fixture(scope="module")
def reviews() -> pd.DataFrame:
    data = pd.read_csv(SHARED / "fake_reviews_salminen" / "reviews.csv").head(24)
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(len(data))],
            "text": data["text"],
            "rating": [1 + i % 5 for i in range(len(data))],
            "product_id": [f"P{i % 4}" for i in range(len(data))],
        }
    )


def test_stream_when_chunked_then_same_rows_as_one_pass(
    reviews: pd.DataFrame, tmp_path: Path
) -> None:
    src = tmp_path / "in.csv"
    reviews.to_csv(src, index=False)
    scorer = ReviewScorer.load_default()
    stats = score_reviews_csv(src, tmp_path / "out.csv", scorer=scorer, chunk_size=100)
    with (tmp_path / "out.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert stats["reviews"] == 24 and [r["id"] for r in rows] == list(reviews["id"])
    direct = scorer.score_frame(reviews)
    assert [float(r["score"]) for r in rows] == pytest.approx(direct["score"].tolist(), abs=1e-6)


def test_dask_when_local_cluster_then_partitions_scored_like_direct(reviews: pd.DataFrame) -> None:
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        frame = dd.from_pandas(reviews[["id", "text", "rating"]], npartitions=3)
        out = client.compute(score_reviews_dask(frame)).result()
    direct = ReviewScorer.load_default().score_frame(reviews[["id", "text", "rating"]])
    assert list(out["id"]) == list(direct["id"])
    assert out["score"].tolist() == pytest.approx(direct["score"].tolist(), abs=1e-6)
