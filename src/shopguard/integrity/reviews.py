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
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from threading import Lock
from typing import Any, Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from shopguard.core.errors import DataValidationError, ModelError
from shopguard.integrity._ngram_hash import char_codes, hashed_ngrams, mix64
from shopguard.integrity.dedup import normalise_text
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
#: Near-duplicate text: estimated Jaccard similarity of character 5-shingles, MinHash size,
#: LSH bands x rows (datasketch's optimum for 0.6 and 64), shortest text compared.
_NEAR_THRESHOLD = 0.6
_NUM_PERM = 64
_BANDS, _ROWS = 10, 6
_MIN_WORDS = 8
_MAX_BUCKET = 100
_MINHASH_SEED = 1
_CONTROLLER: ThreadpoolController | None = None
_CONTROLLER_LOCK = Lock()


def _native_threads(n: int | None) -> AbstractContextManager[Any]:
    """Cap the OpenMP threads of the calling thread at ``n`` for a ``with`` block.

    The gradient-boosted stacker predicts with OpenMP, which by default starts a
    team of one thread per core on every call: under concurrent API requests
    those teams oversubscribe the cores and spin. The OpenMP thread count is a
    per-thread setting (``omp_set_num_threads`` sets the calling thread's ICV),
    so capping it here does not touch other requests or models; BLAS pools
    (process-wide) are left alone -- nothing on the scoring path calls BLAS
    (sparse products and element-wise numpy only).
    """
    global _CONTROLLER
    if n is None:
        return nullcontext()
    with _CONTROLLER_LOCK:
        if _CONTROLLER is None:
            # Built once: inspecting the loaded libraries costs milliseconds per call.
            _CONTROLLER = ThreadpoolController()
    limit: AbstractContextManager[Any] = _CONTROLLER.limit(limits=n, user_api="openmp")
    return limit


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


def _minhash(norms: list[str]) -> NDArray[np.uint64]:
    """MinHash signatures (``_NUM_PERM`` columns) of the character 5-shingles of each text.

    One pass per permutation over every shingle of the batch: a multiply-shift hash
    (``(a * h + b) >> 32``, ``a`` odd) of each distinct shingle, minimum per text.
    """
    codes, lens = char_codes(norms)
    shingles = hashed_ngrams(codes, lens, (5,), 31, binary=True)
    h = shingles.indices.astype(np.uint64)
    starts = shingles.indptr[:-1]
    rng = np.random.default_rng(_MINHASH_SEED)
    a = rng.integers(1, 2**63, _NUM_PERM, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, _NUM_PERM, dtype=np.uint64)
    sig = np.empty((len(norms), _NUM_PERM), dtype=np.uint64)
    for j in range(_NUM_PERM):
        sig[:, j] = np.minimum.reduceat((h * a[j] + b[j]) >> np.uint64(32), starts)
    return sig


def _near_pairs(
    sig: NDArray[np.uint64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Pairs (i < j) of signatures that share an LSH band and reach ``_NEAR_THRESHOLD``."""
    n = len(sig)
    firsts, seconds = [], []
    for band in range(_BANDS):
        key = np.zeros(n, dtype=np.uint64)
        for c in range(band * _ROWS, (band + 1) * _ROWS):
            key = key * np.uint64(0x100000001B3) + sig[:, c]
        key = mix64(key)
        order = np.argsort(key, kind="stable")
        ks = key[order]
        # Each member is compared with up to _MAX_BUCKET earlier members of its bucket.
        for lag in range(1, min(_MAX_BUCKET, n - 1) + 1):
            same = ks[lag:] == ks[:-lag]
            if not same.any():
                break
            firsts.append(order[:-lag][same])
            seconds.append(order[lag:][same])
    if not firsts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    i = np.concatenate(firsts)
    j = np.concatenate(seconds)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    pair = np.unique(lo * n + hi)
    lo, hi = pair // n, pair % n
    sim = (sig[lo] == sig[hi]).mean(axis=1)
    keep = sim >= _NEAR_THRESHOLD
    return lo[keep], hi[keep], sim[keep]


def _copied(df: pd.DataFrame) -> tuple[NDArray[np.float64], list[str | None]]:
    """Per review: similarity to the closest earlier review by another account, and its id.

    Exact copies (same normalised text) score 1; otherwise texts of at least
    ``_MIN_WORDS`` words are compared by MinHash with LSH banding [Broder 1997] and the
    best earlier match at or above ``_NEAR_THRESHOLD`` counts. Identical texts are
    hashed once.
    """
    n = len(df)
    out = np.zeros(n)
    whom: list[str | None] = [None] * n
    if n == 0:
        return out, whom
    ids = df["id"].astype(str).tolist()
    norms = [normalise_text(t) for t in df["text"].astype(str)]
    if "reviewer_id" in df.columns:
        owner = df["reviewer_id"].astype(str).tolist()
    else:
        owner = [f"\x00{i}" for i in range(n)]  # every earlier review counts
    codes, uniq = pd.factorize(pd.Series(norms), sort=False)
    uniques: list[str] = list(uniq)
    rows_of: dict[int, list[int]] = defaultdict(list)
    for r, t in enumerate(codes.tolist()):
        rows_of[t].append(r)

    def earliest_other(rows: list[int], r: int) -> int | None:
        for q in rows:
            if q >= r:
                return None
            if owner[q] != owner[r]:
                return q
        return None

    for rows in rows_of.values():
        for r in rows[1:]:
            q = earliest_other(rows, r)
            if q is not None:
                out[r], whom[r] = 1.0, ids[q]
    long_texts = np.flatnonzero(
        np.fromiter((len(u.split()) >= _MIN_WORDS for u in uniques), dtype=bool, count=len(uniques))
    )
    if len(long_texts) < 2:
        return out, whom
    lo, hi, sim = _near_pairs(_minhash([uniques[k] for k in long_texts.tolist()]))
    neighbours: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for a, b, s in zip(long_texts[lo].tolist(), long_texts[hi].tolist(), sim.tolist(), strict=True):
        neighbours[a].append((s, b))
        neighbours[b].append((s, a))
    for t, near in neighbours.items():
        near.sort(reverse=True)
        for r in rows_of[t]:
            if out[r] > 0:
                continue  # an exact copy already
            for s, u in near:
                q = earliest_other(rows_of[u], r)
                if q is not None:
                    out[r], whom[r] = s, ids[q]
                    break
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
    burst = np.rint(np.expm1(sig["burst"].to_numpy())).astype(np.int64)
    copied = sig["copied_text"].to_numpy()
    out: list[list[str]] = [[] for _ in range(len(df))]
    # Only rows with a contribution above 0.5 get reasons (most rows of a stream: none).
    strong = contrib > 0.5
    for i in np.flatnonzero(strong.any(axis=1)).tolist():
        why: list[tuple[float, str]] = []
        for j in np.flatnonzero(strong[i]).tolist():
            c, name = float(contrib[i, j]), names[j]
            if name == "text":
                why.append((c, f"text looks machine-generated (p={text_p[i]:.2f})"))
            elif name == "burst":
                why.append((c, f"burst: {burst[i]} other reviews of the product within 24h"))
            elif name == "unverified":
                why.append((c, "no verified purchase"))
            elif name == "new_account":
                why.append((c, "account younger than 7 days"))
            elif name == "rating_deviation":
                why.append((c, "rating far from the product's consensus"))
            elif name == "copied_text":
                sim = copied[i]
                what = "exact" if sim >= 0.999 else f"near ({sim:.2f})"
                why.append((c, f"{what} duplicate of review {whom[i]} by another account"))
            elif name == "clique":
                why.append((c, "reviewer co-reviews 3+ products with another account"))
        out[i] = [t for _, t in sorted(why, reverse=True)]
    return out


class ReviewScorer:
    """One calibrated fake-review probability per review, with reasons.

    Parameters
    ----------
    text_model:
        The fitted text model (default: the one shipped with shopguard).
    threshold:
        Reviews at or above are ``flagged``.
    native_threads:
        OpenMP threads one scoring call may use (default 1: one thread per request,
        so concurrent requests do not oversubscribe the cores); None keeps the
        library default (one per core).
    """

    def __init__(
        self,
        *,
        text_model: FakeReviewTextModel | None = None,
        threshold: float = 0.5,
        native_threads: int | None = 1,
    ) -> None:
        self.text_model = text_model
        self.threshold = threshold
        self.native_threads = native_threads

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
        with _native_threads(self.native_threads):
            return self._score_frame(df, text_p)

    def _score_frame(self, df: pd.DataFrame, text_p: NDArray[np.float64] | None) -> pd.DataFrame:
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
