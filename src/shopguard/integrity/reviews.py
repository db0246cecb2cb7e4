"""Fake-review scoring: the text model plus behaviour, in one calibrated score with reasons.

Behaviour signals (each used when its columns are present):

* **burst** -- reviews of the same product within 24 hours of this one;
* **unverified** -- no verified purchase behind the review;
* **new account** -- the account is under a week old;
* **rating deviation** -- distance from the product's median rating (of the
  other reviews), which push (5-star) and nuke (1-star) campaigns create;
* **copied text** -- exact or near duplicate (MinHash) of another account's review;
* **co-review clique** -- the reviewer shares three or more reviewed products
  with another reviewer (collusion groups review the same targets).

The text model's log-odds enter as an offset (coefficient 1: its probability
is already calibrated), and each behaviour signal multiplies the odds by a
learned, non-negative factor -- a logistic regression with the text logit as
offset turns them into one probability; it is fitted on a labelled simulation of review
campaigns over real genuine / generated texts (see ``bench/integrity_reviews.py``)
and stored as JSON. Each flagged review lists the signals that pushed its score up.

References
----------
.. [1] Mukherjee, Liu, Glance, "Spotting fake reviewer groups in consumer reviews", WWW 2012.
.. [2] Rayana, Akoglu, "Collective opinion spam detection: bridging review networks
   and metadata", KDD 2015.
.. [3] Xie, Wang, Lin, Yu, "Review spam detection via temporal pattern discovery", KDD 2012.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import minimize

from shopguard.core.errors import DataValidationError, ModelError
from shopguard.integrity.dedup import NearDuplicateIndex
from shopguard.integrity.text_model import DEFAULT_MODEL_PATH, FakeReviewTextModel

__all__ = [
    "BEHAVIOUR_SIGNALS",
    "REQUIRED_REVIEW_COLUMNS",
    "ReviewScorer",
    "behaviour_signals",
]

REQUIRED_REVIEW_COLUMNS = ("id", "text", "rating")
#: Behaviour signal columns, in the combiner's order (after the text logit).
BEHAVIOUR_SIGNALS: tuple[str, ...] = (
    "burst",
    "unverified",
    "new_account",
    "rating_deviation",
    "copied_text",
    "clique",
)
_COMBINER_FILE = "combiner.json"
#: Optional input columns the behaviour signals read.
_BEHAVIOUR_COLUMNS = (
    "product_id",
    "reviewer_id",
    "created_at",
    "verified_purchase",
    "account_age_days",
)
_BURST_WINDOW = pd.Timedelta(hours=24)
_MAX_CLIQUE_PRODUCT_REVIEWERS = 200


def _bool_column(values: pd.Series) -> NDArray[np.float64]:
    text = values.astype(str).str.strip().str.lower()
    return np.asarray(text.isin(("1", "true", "yes", "y", "t", "1.0")), dtype=np.float64)


def _burst(df: pd.DataFrame) -> NDArray[np.float64]:
    out = np.zeros(len(df))
    if "product_id" not in df.columns or "created_at" not in df.columns:
        return out
    times = pd.to_datetime(df["created_at"], errors="coerce", utc=True, format="mixed")
    frame = pd.DataFrame(
        {"p": df["product_id"].astype(str), "t": times, "i": np.arange(len(df))}
    ).dropna()
    for _, g in frame.groupby("p", sort=False):
        if len(g) < 2:
            continue
        t = g["t"].to_numpy(dtype="datetime64[ns]")
        order = np.argsort(t, kind="stable")
        ts = t[order]
        lo = np.searchsorted(ts, ts - _BURST_WINDOW.to_timedelta64(), side="left")
        hi = np.searchsorted(ts, ts + _BURST_WINDOW.to_timedelta64(), side="right")
        out[g["i"].to_numpy()[order]] = hi - lo - 1
    return np.log1p(out)


def _rating_deviation(df: pd.DataFrame) -> NDArray[np.float64]:
    if "product_id" not in df.columns:
        return np.zeros(len(df))
    rating = pd.to_numeric(df["rating"], errors="coerce").to_numpy(dtype=float)
    out = np.zeros(len(df))
    for _, idx in df.groupby(df["product_id"].astype(str), sort=False).indices.items():
        if len(idx) < 4:
            continue
        r = rating[idx]
        # Leave-one-out would cost a sort per row; the median of a product with
        # several reviews barely moves without one of them.
        med = float(np.nanmedian(r))
        out[idx] = np.abs(r - med) / 4.0
    return out


def _copied(df: pd.DataFrame) -> tuple[NDArray[np.float64], list[str | None]]:
    index = NearDuplicateIndex()
    out = np.zeros(len(df))
    whom: list[str | None] = [None] * len(df)
    groups = df["reviewer_id"].astype(str).tolist() if "reviewer_id" in df.columns else None
    for i, (key, text) in enumerate(zip(df["id"].astype(str), df["text"].astype(str), strict=True)):
        m = index.query_add(f"{i}\x00{key}", text, group=None if groups is None else groups[i])
        if m is not None:
            out[i] = m.similarity
            whom[i] = m.other.split("\x00", 1)[1]
    return out, whom


def _clique(df: pd.DataFrame) -> NDArray[np.float64]:
    if "reviewer_id" not in df.columns or "product_id" not in df.columns:
        return np.zeros(len(df))
    reviewers = df["reviewer_id"].astype(str)
    by_product = reviewers.groupby(df["product_id"].astype(str)).agg(lambda s: sorted(set(s)))
    shared: dict[tuple[str, str], int] = defaultdict(int)
    for people in by_product:
        if 2 <= len(people) <= _MAX_CLIQUE_PRODUCT_REVIEWERS:
            for a, b in combinations(people, 2):
                shared[(a, b)] += 1
    best: dict[str, int] = defaultdict(int)
    for (a, b), n in shared.items():
        if n > best[a]:
            best[a] = n
        if n > best[b]:
            best[b] = n
    counts = reviewers.map(lambda r: best.get(r, 0)).to_numpy(dtype=float)
    return np.asarray(np.log1p(np.maximum(counts - 2.0, 0.0)), dtype=np.float64)


def behaviour_signals(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str | None]]:
    """The behaviour signal columns of ``df`` (0 where a signal's columns are absent).

    Returns the signals and, per row, the id of the review it copies (or None).
    """
    n = len(df)
    unverified = (
        1.0 - _bool_column(df["verified_purchase"])
        if "verified_purchase" in df.columns
        else np.zeros(n)
    )
    if "account_age_days" in df.columns:
        age = pd.to_numeric(df["account_age_days"], errors="coerce").to_numpy(dtype=float)
        new_account = np.where(np.isnan(age), 0.0, (age < 7).astype(float))
    else:
        new_account = np.zeros(n)
    copied, whom = _copied(df)
    signals = pd.DataFrame(
        {
            "burst": _burst(df),
            "unverified": unverified,
            "new_account": new_account,
            "rating_deviation": _rating_deviation(df),
            "copied_text": copied,
            "clique": _clique(df),
        },
        index=df.index,
    )
    return signals, whom


def fit_monotone_logistic(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    *,
    offset: NDArray[np.float64] | None = None,
    l2: float = 1e-3,
) -> tuple[NDArray[np.float64], float]:
    """Logistic regression with non-negative coefficients (L-BFGS-B) and an optional offset.

    Monotone by construction: no signal can lower a review's score, so an
    attacker cannot buy a lower score by adding a suspicious trait.
    """
    n, d = x.shape
    off = np.zeros(n) if offset is None else offset

    def loss(w: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        z = x @ w[:d] + w[d] + off
        p = 1.0 / (1.0 + np.exp(-z))
        eps = 1e-12
        nll = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
        g = p - y
        grad = np.concatenate([x.T @ g / n + 2 * l2 * w[:d], [g.mean()]])
        return float(nll + l2 * np.sum(w[:d] ** 2)), grad

    res = minimize(
        loss,
        np.zeros(d + 1),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * d + [(None, None)],
    )
    return np.asarray(res.x[:d], dtype=np.float64), float(res.x[d])


def _logit(p: NDArray[np.float64]) -> NDArray[np.float64]:
    q = np.clip(p, 1e-4, 1 - 1e-4)
    return np.asarray(np.log(q / (1 - q)), dtype=np.float64)


@dataclass(frozen=True)
class _Reason:
    column: str
    text: str


def _reasons(
    df: pd.DataFrame,
    text_p: NDArray[np.float64],
    sig: pd.DataFrame,
    whom: Sequence[str | None],
    contrib: NDArray[np.float64],
) -> list[list[str]]:
    names = ("text", *BEHAVIOUR_SIGNALS)
    out: list[list[str]] = []
    for i in range(len(df)):
        why: list[tuple[float, str]] = []
        for j, name in enumerate(names):
            c = contrib[i, j]
            if c <= 0.5:
                continue
            if name == "text":
                why.append((c, f"text looks machine-generated (p={text_p[i]:.2f})"))
            elif name == "burst":
                n = round(np.expm1(sig["burst"].iloc[i]))
                why.append((c, f"burst: {n} other reviews of the product within 24h"))
            elif name == "unverified":
                why.append((c, "no verified purchase"))
            elif name == "new_account":
                why.append((c, "account younger than 7 days"))
            elif name == "rating_deviation":
                why.append((c, "rating far from the product's consensus"))
            elif name == "copied_text":
                sim = sig["copied_text"].iloc[i]
                what = "exact" if sim >= 0.999 else f"near ({sim:.2f})"
                why.append((c, f"{what} duplicate of review {whom[i]} by another account"))
            elif name == "clique":
                why.append((c, "reviewer co-reviews 3+ products with another account"))
        out.append([t for _, t in sorted(why, reverse=True)])
    return out


class ReviewScorer:
    """One calibrated fake-review probability per review, with reasons.

    Parameters
    ----------
    text_model:
        The fitted text model (default: the one shipped with shopguard).
    threshold:
        Reviews at or above are ``flagged``.
    """

    def __init__(
        self, *, text_model: FakeReviewTextModel | None = None, threshold: float = 0.5
    ) -> None:
        self.text_model = text_model
        self.threshold = threshold

    @classmethod
    def load_default(cls, path: Path = DEFAULT_MODEL_PATH) -> ReviewScorer:
        """The shipped text model and combiner."""
        scorer = cls(text_model=FakeReviewTextModel.load(path))
        scorer.load_combiner(path / _COMBINER_FILE)
        return scorer

    def _text_model(self) -> FakeReviewTextModel:
        if self.text_model is None:
            self.text_model = FakeReviewTextModel.load()
        return self.text_model

    def design(
        self, df: pd.DataFrame, text_p: NDArray[np.float64] | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], pd.DataFrame, list[str | None]]:
        """(combiner inputs, text probability, behaviour signals, copied-from ids)."""
        missing = [c for c in REQUIRED_REVIEW_COLUMNS if c not in df.columns]
        if missing:
            raise DataValidationError("required column missing", column=missing[0])
        if text_p is None:
            text_p = self._text_model().risk_score(df["text"].fillna("").astype(str).tolist())
        sig, whom = behaviour_signals(df)
        x = np.column_stack([_logit(text_p), sig[list(BEHAVIOUR_SIGNALS)].to_numpy()])
        return x, text_p, sig, whom

    def fit(self, df: pd.DataFrame, y: Sequence[int], *, text_p: NDArray[np.float64]) -> Self:
        """Fit the combiner on labelled reviews (1 = fake) given out-of-sample text probabilities."""
        x, *_ = self.design(df, text_p)
        w, self.intercept_ = fit_monotone_logistic(
            x[:, 1:], np.asarray(y, dtype=np.float64), offset=x[:, 0]
        )
        self.coef_ = np.concatenate([[1.0], w])
        return self

    def save_combiner(self, path: Path) -> None:
        if not hasattr(self, "coef_"):
            raise ModelError("review scorer is not fitted")
        path.write_text(
            json.dumps(
                {
                    "format": "shopguard.review_combiner",
                    "version": 1,
                    "inputs": ["text_logit", *BEHAVIOUR_SIGNALS],
                    "coef": [round(float(c), 6) for c in self.coef_],
                    "intercept": round(self.intercept_, 6),
                    "threshold": self.threshold,
                },
                indent=2,
            )
            + "\n",
            "utf-8",
        )

    def load_combiner(self, path: Path) -> Self:
        try:
            meta = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            raise ModelError("cannot read the review combiner") from None
        if meta.get("format") != "shopguard.review_combiner" or len(meta.get("coef", ())) != (
            1 + len(BEHAVIOUR_SIGNALS)
        ):
            raise ModelError("not a shopguard review combiner")
        self.coef_ = np.asarray(meta["coef"], dtype=np.float64)
        self.intercept_ = float(meta["intercept"])
        self.threshold = float(meta.get("threshold", self.threshold))
        return self

    def risk_score(self, df: pd.DataFrame) -> NDArray[np.float64]:
        return np.asarray(self.score_frame(df)["score"], dtype=np.float64)

    def score_frame(
        self, df: pd.DataFrame, *, text_p: NDArray[np.float64] | None = None
    ) -> pd.DataFrame:
        """``id, score, flagged, reasons`` per row of ``df`` (``reasons`` a list of strings)."""
        if not hasattr(self, "coef_"):
            raise ModelError("review scorer is not fitted")
        x, text_p, sig, whom = self.design(df.reset_index(drop=True), text_p)
        contrib = x * self.coef_
        if not any(c in df.columns for c in _BEHAVIOUR_COLUMNS):
            # Text only: no behaviour to weigh, and the combiner's intercept encodes the base
            # rate of a store's review stream; the text model's own (balanced) calibration is
            # the honest score here.
            score = np.asarray(text_p, dtype=np.float64)
            contrib = np.zeros_like(contrib)
            contrib[:, 0] = np.where(score >= self.threshold, 1.0, 0.0)
        else:
            z = contrib.sum(axis=1) + self.intercept_
            score = 1.0 / (1.0 + np.exp(-z))
        reasons = _reasons(df, text_p, sig, whom, contrib)
        return pd.DataFrame(
            {
                "id": df["id"].astype(str).to_numpy(),
                "score": np.round(score, 6),
                "flagged": score >= self.threshold,
                "reasons": reasons,
            }
        )
