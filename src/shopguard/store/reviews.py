"""The store's reference review-helpfulness ranker.

A logistic regression on TF-IDF features of the title and text plus a few
dense signals (length, specificity, rating deviation from the product's mean,
verified purchase) predicts whether a review is among the most helpful ones
(top quarter of ``log1p(helpful_votes)``). Reviews of a product are then shown
by that probability. Review age is deliberately *not* a feature: votes pile up
on old reviews, and the ranker should judge content, not exposure.

References
----------
.. [1] S.-M. Kim, P. Pantel, T. Chklovski, M. Pennacchiotti, "Automatically
   Assessing Review Helpfulness", EMNLP 2006.
.. [2] K. Järvelin, J. Kekäläinen, "Cumulated gain-based evaluation of IR
   techniques", ACM TOIS 2002 (NDCG).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from shopguard.core.errors import DataValidationError, ModelError

__all__ = [
    "REQUIRED_COLUMNS",
    "ReviewRanker",
    "load_reviews",
    "ndcg_at_k_per_group",
    "train_review_ranker",
]

REQUIRED_COLUMNS = (
    "product_id",
    "rating",
    "title",
    "text",
    "verified_purchase",
)
_TRAIN_COLUMNS = (*REQUIRED_COLUMNS, "helpful_votes")
_NUMERIC = (
    "log_chars",
    "log_words",
    "log_title_chars",
    "digits",
    "exclaims",
    "caps_ratio",
    "rating",
    "rating_dev",
    "abs_rating_dev",
    "verified",
)
_FORMAT = "shopguard.review_ranker"
_FORMAT_VERSION = 1
# Every type the saved pipeline may contain; anything else in a file is refused.
_TRUSTED_TYPES = [
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.str",
    "builtins.int",
    "builtins.float",
    "builtins.bool",
    "builtins.slice",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.utils._bunch.Bunch",
    "collections.OrderedDict",
]
_DIGITS = re.compile(r"\d")


def load_reviews(path: str | Path) -> pd.DataFrame:
    """Read a reviews table (``.csv`` or ``.parquet``) and check its training columns.

    Raises
    ------
    DataValidationError
        The file is missing or unreadable, a column is missing, or a value of
        ``rating`` / ``helpful_votes`` is not a number (naming file, row, column).
    """
    p = Path(path)
    if not p.is_file():
        raise DataValidationError("reviews file not found", file=p.name)
    try:
        df = pd.read_parquet(p) if p.suffix.lower() == ".parquet" else pd.read_csv(p)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataValidationError("unreadable reviews table", file=p.name) from exc
    _validate(df, _TRAIN_COLUMNS, file=p.name)
    return df


def _validate(df: pd.DataFrame, columns: tuple[str, ...], *, file: str | None = None) -> None:
    for col in columns:
        if col not in df.columns:
            raise DataValidationError("required column missing", file=file, column=col)
    for col in ("rating", "helpful_votes"):
        if col not in columns:
            continue
        values = pd.to_numeric(df[col], errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy() | (values.to_numpy() < 0))
        if len(bad):
            raise DataValidationError(
                "not a non-negative number", file=file, row=int(bad[0]) + 1, column=col
            )


def _as_bool(values: pd.Series) -> NDArray[np.float64]:
    if values.dtype == bool:
        return values.to_numpy(dtype=np.float64)
    text = values.astype(str).str.strip().str.lower()
    flags = text.isin(("1", "true", "yes", "y", "t")).to_numpy(dtype=np.float64)
    return np.asarray(flags, dtype=np.float64)


def _features(df: pd.DataFrame) -> pd.DataFrame:
    title = df["title"].fillna("").astype(str)
    text = df["text"].fillna("").astype(str)
    rating = pd.to_numeric(df["rating"]).astype(float)
    product_mean = rating.groupby(df["product_id"].astype(str)).transform("mean")
    n_chars = text.str.len().astype(float)
    letters = text.str.count(r"[A-Za-z]").astype(float)
    caps = text.str.count(r"[A-Z]").astype(float)
    feats = pd.DataFrame(
        {
            "doc": title + " . " + text,
            "log_chars": np.log1p(n_chars),
            "log_words": np.log1p(text.str.count(r"\S+").astype(float)),
            "log_title_chars": np.log1p(title.str.len().astype(float)),
            "digits": np.log1p(text.str.count(_DIGITS.pattern).astype(float)),
            "exclaims": np.log1p(text.str.count("!").astype(float)),
            "caps_ratio": caps / letters.clip(lower=1.0),
            "rating": rating,
            "rating_dev": rating - product_mean,
            "abs_rating_dev": (rating - product_mean).abs(),
            "verified": _as_bool(df["verified_purchase"]),
        },
        index=df.index,
    )
    return feats


def _timestamps(values: pd.Series) -> NDArray[np.float64]:
    if pd.api.types.is_numeric_dtype(values):
        return np.asarray(values.to_numpy(dtype=float), dtype=np.float64)
    try:
        created = pd.to_datetime(values, utc=True, format="mixed")
    except (ValueError, TypeError) as exc:
        raise DataValidationError("not a timestamp", column="created_at") from exc
    seconds = (created - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    return np.asarray(seconds.to_numpy(dtype=float), dtype=np.float64)


def _label(votes: pd.Series) -> NDArray[np.int64]:
    v = np.log1p(pd.to_numeric(votes).to_numpy(dtype=float))
    threshold = float(np.quantile(v, 0.75))
    y: NDArray[np.int64] = np.asarray(v > threshold, dtype=np.int64)
    if y.min() == y.max():
        raise DataValidationError(
            "helpful_votes does not vary enough to learn from", column="helpful_votes"
        )
    return y


def _dcg(gains: NDArray[np.float64], k: int) -> float:
    g = gains[:k]
    return float((g / np.log2(np.arange(2, len(g) + 2))).sum())


def ndcg_at_k_per_group(
    groups: NDArray[Any], relevance: NDArray[Any], scores: NDArray[Any], k: int = 5
) -> float:
    """Mean NDCG@k over groups (products) whose relevance is not all zero.

    Within a group items are ordered by ``scores`` (descending, ties by input
    order) and the gain of an item is its ``relevance``.
    """
    codes, _ = pd.factorize(np.asarray(groups))
    relevance = np.asarray(relevance, dtype=float)
    scores = np.asarray(scores, dtype=float)
    order = np.argsort(codes, kind="stable")  # contiguous groups, input order kept inside
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    values = []
    for idx in np.split(order, bounds):
        rel = relevance[idx]
        if len(rel) == 0 or rel.max() <= 0:
            continue
        ranked = rel[np.argsort(-scores[idx], kind="stable")]
        values.append(_dcg(ranked, k) / _dcg(np.sort(rel)[::-1], k))
    return float(np.mean(values)) if values else 0.0


def _pipeline(random_state: int) -> Pipeline:
    features = ColumnTransformer(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    ngram_range=(1, 2), min_df=2, max_features=30000, sublinear_tf=True
                ),
                "doc",
            ),
            ("dense", StandardScaler(), list(_NUMERIC)),
        ]
    )
    return Pipeline(
        [
            ("features", features),
            ("model", LogisticRegression(C=1.0, max_iter=2000, random_state=random_state)),
        ]
    )


@dataclass(eq=False)
class ReviewRanker:
    """A fitted helpfulness ranker. Build it with :func:`train_review_ranker` or :meth:`load`."""

    pipeline_: Pipeline
    metrics_: dict[str, Any] = field(default_factory=dict)

    def score(self, df: pd.DataFrame) -> NDArray[np.float64]:
        """Probability in [0, 1] that each review is among the most helpful."""
        _validate(df, REQUIRED_COLUMNS)
        if len(df) == 0:
            return np.zeros(0, dtype=np.float64)
        proba = self.pipeline_.predict_proba(_features(df))[:, 1]
        return np.asarray(proba, dtype=np.float64)

    def rank(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` sorted by helpfulness (most helpful first), with a ``helpfulness`` column."""
        out = df.copy()
        out["helpfulness"] = self.score(df)
        return out.sort_values("helpfulness", ascending=False, kind="stable")

    def save(self, directory: str | Path) -> Path:
        """Write ``review_ranker.skops``, ``review_ranker.json`` and ``metrics.json``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        import skops.io as sio  # deferred: importing skops loads all of scikit-learn

        sio.dump(self.pipeline_, d / "review_ranker.skops")
        meta = {"format": _FORMAT, "version": _FORMAT_VERSION}
        (d / "review_ranker.json").write_text(json.dumps(meta), encoding="utf-8")
        (d / "metrics.json").write_text(json.dumps(self.metrics_, indent=2), encoding="utf-8")
        return d

    @classmethod
    def load(cls, directory: str | Path) -> ReviewRanker:
        """Load a ranker; refuses any type outside the explicit trusted list."""
        d = Path(directory)
        path = d / "review_ranker.skops"
        try:
            meta = json.loads((d / "review_ranker.json").read_text(encoding="utf-8"))
            if meta.get("format") != _FORMAT or meta.get("version") != _FORMAT_VERSION:
                raise ModelError("not a shopguard review-ranker artifact (format/version)")
            import skops.io as sio  # deferred: importing skops loads all of scikit-learn

            untrusted = set(sio.get_untrusted_types(file=path)) - set(_TRUSTED_TYPES)
            if untrusted:
                raise ModelError("review-ranker artifact contains untrusted types")
            pipeline = sio.load(path, trusted=_TRUSTED_TYPES)
            metrics_path = d / "metrics.json"
            metrics = (
                json.loads(metrics_path.read_text(encoding="utf-8"))
                if metrics_path.is_file()
                else {}
            )
        except ModelError:
            raise
        except Exception as exc:  # skops raises a zoo of types on corrupt input
            raise ModelError("review-ranker artifact is missing or corrupt") from exc
        if not isinstance(pipeline, Pipeline):
            raise ModelError("review-ranker artifact is the wrong kind")
        return cls(pipeline_=pipeline, metrics_=metrics)


def train_review_ranker(
    reviews_df: pd.DataFrame, *, random_state: int = 0, test_size: float = 0.25
) -> ReviewRanker:
    """Fit the helpfulness ranker and measure it on held-out products.

    Products are split ``1 - test_size`` / ``test_size`` (by ``random_state``);
    ``metrics_`` holds NDCG@5 per product (gain ``log1p(helpful_votes)``) of the
    model's order, newest-first order (when ``created_at`` exists) and a random
    order on the held-out products. The returned ranker is then refitted on all
    reviews.
    """
    _validate(reviews_df, _TRAIN_COLUMNS)
    df = reviews_df.reset_index(drop=True)
    if df["product_id"].nunique() < 4:
        raise DataValidationError("need reviews of at least 4 products", column="product_id")
    feats = _features(df)
    y = _label(df["helpful_votes"])
    groups = df["product_id"].astype(str).to_numpy()
    split = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=random_state)
    tr, te = next(split.split(feats, y, groups))
    if y[tr].min() == y[tr].max():
        raise DataValidationError("training split has a single class", column="helpful_votes")
    held = _pipeline(random_state).fit(feats.iloc[tr], y[tr])
    # Features of held-out reviews are computed among their own product's reviews only.
    te_scores = held.predict_proba(_features(df.iloc[te]))[:, 1]
    relevance = np.log1p(pd.to_numeric(df["helpful_votes"]).to_numpy(dtype=float))[te]
    rng = np.random.default_rng(random_state)
    metrics: dict[str, Any] = {
        "protocol": f"held-out products ({test_size:.0%}), NDCG@5 with gain log1p(helpful_votes)",
        "n_reviews": len(df),
        "n_test_reviews": len(te),
        "ndcg@5": round(ndcg_at_k_per_group(groups[te], relevance, te_scores, 5), 6),
        "ndcg@5_random": round(
            ndcg_at_k_per_group(groups[te], relevance, rng.random(len(te)), 5), 6
        ),
    }
    if "created_at" in df.columns:
        recency = _timestamps(df["created_at"].iloc[te])
        metrics["ndcg@5_recency"] = round(ndcg_at_k_per_group(groups[te], relevance, recency, 5), 6)
    final = _pipeline(random_state).fit(feats, y)
    return ReviewRanker(pipeline_=final, metrics_=metrics)
