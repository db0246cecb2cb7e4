"""The store's reference product recommender.

A closed-form linear item model (EASE) blended with a recency-weighted
item-to-item transition model, both tuned on a held-out validation item per
user. Two baselines live beside it for evaluation: popularity and a tuned
cosine item-kNN.

Evaluation protocol (leave-last-out, as in SASRec and its successors): the last
item of each user is the test item, the one before it the validation item,
the rest is training data. Every candidate is scored against the *full* item
set (no sampled negatives); items the user has already interacted with in the
data the model was trained on are removed from the ranking, as is standard.

References
----------
.. [1] H. Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019.
   https://arxiv.org/abs/1905.03375
.. [2] S. Rendle, C. Freudenthaler, L. Schmidt-Thieme, "Factorizing Personalized
   Markov Chains for Next-Basket Recommendation", WWW 2010.
.. [3] W.-C. Kang, J. McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018.
.. [4] B. Sarwar et al., "Item-Based Collaborative Filtering Recommendation
   Algorithms", WWW 2001.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
from numpy.typing import NDArray

from shopguard.core.errors import DataValidationError, ModelError

__all__ = [
    "EvaluationResult",
    "Recommender",
    "RecommenderParams",
    "Split",
    "evaluate_recommenders",
    "hit_rate_at_k",
    "leave_last_out",
    "load_interactions",
    "ndcg_at_k",
    "order_sequences",
    "train_recommender",
]

logger = logging.getLogger(__name__)

ItemId = Hashable
UserId = Hashable
# Ids are str or int (what JSON keeps); the mapping's key type is left open for callers.
Sequences = Mapping[Any, Sequence[Any]]
Progress = Callable[[str], None]

_FORMAT = "shopguard.recommender"
_FORMAT_VERSION = 1
_CSV_COLUMNS = ("customer_id", "product_id", "created_at")
_BATCH = 1024


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def load_interactions(path: str | Path) -> dict[str, list[str]]:
    """Read user -> chronological item sequences from a file.

    Two formats are accepted, chosen by extension:

    * ``.csv``: the store's orders, with (at least) the columns
      ``customer_id, product_id, created_at``; rows are sorted by ``created_at``
      (ISO 8601) per customer, ties keep file order.
    * anything else: one line per user, ``user_id item_id item_id ...`` with
      the items in chronological order (the Amazon 5-core files).

    Ids are returned as strings.

    Raises
    ------
    DataValidationError
        The file is missing, empty or malformed; the error names the file, the
        line (text) or data row (CSV) and, for CSV, the column.
    """
    p = Path(path)
    if not p.is_file():
        raise DataValidationError("interaction file not found", file=p.name)
    is_csv = p.suffix.lower() == ".csv"
    sequences = _load_orders_csv(p) if is_csv else _load_sequence_lines(p)
    if not sequences:
        raise DataValidationError("no interactions in file", file=p.name)
    return sequences


def _load_sequence_lines(p: Path) -> dict[str, list[str]]:
    sequences: dict[str, list[str]] = {}
    try:
        with p.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                tokens = line.split()
                if not tokens:
                    continue
                if len(tokens) < 2:
                    raise DataValidationError(
                        "expected a user id followed by at least one item id",
                        file=p.name,
                        row=lineno,
                    )
                user = tokens[0]
                if user in sequences:
                    raise DataValidationError(
                        "user id appears on more than one line", file=p.name, row=lineno
                    )
                sequences[user] = tokens[1:]
    except UnicodeDecodeError as exc:
        raise DataValidationError("file is not UTF-8 text", file=p.name) from exc
    return sequences


def _parse_time(value: str) -> float:
    from datetime import UTC, datetime

    dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _load_orders_csv(p: Path) -> dict[str, list[str]]:
    rows: dict[str, list[tuple[float, int, str]]] = {}
    try:
        with p.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            for col in _CSV_COLUMNS:
                if col not in header:
                    raise DataValidationError("required column missing", file=p.name, column=col)
            for rowno, rec in enumerate(reader, start=1):
                values = {}
                for col in _CSV_COLUMNS:
                    v = rec.get(col)
                    if v is None or not v.strip():
                        raise DataValidationError("empty value", file=p.name, row=rowno, column=col)
                    values[col] = v.strip()
                try:
                    ts = _parse_time(values["created_at"])
                except ValueError as exc:
                    raise DataValidationError(
                        "not an ISO 8601 timestamp", file=p.name, row=rowno, column="created_at"
                    ) from exc
                rows.setdefault(values["customer_id"], []).append((ts, rowno, values["product_id"]))
    except UnicodeDecodeError as exc:
        raise DataValidationError("file is not UTF-8 text", file=p.name) from exc
    except csv.Error as exc:
        raise DataValidationError("malformed CSV", file=p.name) from exc
    return {u: [item for _, _, item in sorted(events)] for u, events in rows.items()}


def order_sequences(orders: pd.DataFrame) -> dict[str, list[str]]:
    """Each customer's purchased products in time order (ties by order id), from an orders table."""
    ordered = orders.sort_values(["customer_id", "created_at", "order_id"])
    return {str(c): [str(p) for p in g] for c, g in ordered.groupby("customer_id")["product_id"]}


# ---------------------------------------------------------------------------
# Protocol and metrics
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """A leave-last-out split.

    ``train`` holds every user's sequence without its last two items;
    ``valid`` the second-to-last item and ``test`` the last item. A user with
    two items has only a test item, a user with one item only training data.
    """

    train: dict[UserId, list[ItemId]]
    valid: dict[UserId, ItemId]
    test: dict[UserId, ItemId]


def leave_last_out(sequences: Sequences) -> Split:
    """Split each sequence into train / validation (second to last) / test (last)."""
    train: dict[UserId, list[ItemId]] = {}
    valid: dict[UserId, ItemId] = {}
    test: dict[UserId, ItemId] = {}
    for user, seq in sequences.items():
        items = list(seq)
        if len(items) >= 3:
            train[user], valid[user], test[user] = items[:-2], items[-2], items[-1]
        elif len(items) == 2:
            train[user], test[user] = items[:1], items[1]
        else:
            train[user] = items
    return Split(train=train, valid=valid, test=test)


def _check_ranked(ranked: NDArray[Any], targets: NDArray[Any], k: int) -> NDArray[np.bool_]:
    ranked = np.asarray(ranked)
    targets = np.asarray(targets)
    if ranked.ndim != 2 or targets.ndim != 1 or ranked.shape[0] != targets.shape[0]:
        raise ValueError("ranked must be (n_users, >=k) and targets (n_users,)")
    if k < 1:
        raise ValueError("k must be >= 1")
    return np.asarray(ranked[:, :k] == targets[:, None])


def hit_rate_at_k(ranked: NDArray[Any], targets: NDArray[Any], k: int = 10) -> float:
    """Share of users whose single held-out item is in their top ``k``."""
    hits = _check_ranked(ranked, targets, k)
    if hits.shape[0] == 0:
        return 0.0
    return float(hits.any(axis=1).mean())


def ndcg_at_k(ranked: NDArray[Any], targets: NDArray[Any], k: int = 10) -> float:
    """Mean NDCG@k with one relevant item per user: ``1 / log2(rank + 1)``, rank 1-based."""
    hits = _check_ranked(ranked, targets, k)
    if hits.shape[0] == 0:
        return 0.0
    gains = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    return float((hits * gains[None, :]).sum(axis=1).mean())


# ---------------------------------------------------------------------------
# Scorers on integer item indices
# ---------------------------------------------------------------------------


def _history_matrix(histories: Sequence[NDArray[np.int32]], n_items: int) -> sp.csr_matrix:
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = (
        np.concatenate(list(histories)).astype(np.int32) if lengths.sum() else np.zeros(0, np.int32)
    )
    X = sp.csr_matrix(
        (np.ones(len(indices), np.float32), indices, indptr), shape=(len(histories), n_items)
    )
    X.sum_duplicates()
    X.data[:] = 1.0
    return X


def _recency_matrix(
    histories: Sequence[NDArray[np.int32]], n_items: int, n_last: int, decay: float
) -> sp.csr_matrix:
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int32]] = []
    vals: list[NDArray[np.float32]] = []
    for u, h in enumerate(histories):
        last = h[-n_last:][::-1]
        rows.append(np.full(len(last), u, dtype=np.int64))
        cols.append(last)
        vals.append((decay ** np.arange(len(last))).astype(np.float32))
    if not rows:
        return sp.csr_matrix((len(histories), n_items), dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(histories), n_items),
        dtype=np.float32,
    )


def _popularity_counts(histories: Sequence[NDArray[np.int32]], n_items: int) -> NDArray[np.float32]:
    if not histories:
        return np.zeros(n_items, np.float32)
    return np.bincount(np.concatenate(list(histories)), minlength=n_items).astype(np.float32)


def _fit_ease(X: sp.csr_matrix, l2: float, neighbours: int | None) -> sp.csr_matrix:
    """EASE weights ``B = I - P diagMat(1 / diag(P))`` with ``P = (X'X + l2 I)^-1``, diag 0.

    The dense inverse uses a float32 Cholesky factorisation, done in place. Each
    row is then pruned to its ``neighbours`` largest weights (by magnitude) so the
    stored artifact stays small; ``None`` keeps all.
    """
    n = X.shape[1]
    G = np.asarray((X.T @ X).toarray(), dtype=np.float32)
    G[np.diag_indices(n)] += np.float32(l2)
    # G is symmetric, so its transpose is the same matrix in Fortran order: no copy.
    c, info = scipy.linalg.lapack.spotrf(G.T, lower=0, overwrite_a=1)
    if info != 0:
        raise ModelError("EASE Gram matrix is not positive definite; raise l2")
    P, info = scipy.linalg.lapack.spotri(c, lower=0, overwrite_c=1)
    if info != 0:
        raise ModelError("EASE inverse failed; raise l2")
    del G, c
    # spotri fills the upper triangle only: mirror it block by block, in place.
    step = 2048
    for i0 in range(0, n, step):
        i1 = min(n, i0 + step)
        P[i0:i1, :i0] = P[:i0, i0:i1].T
        blk = P[i0:i1, i0:i1]
        P[i0:i1, i0:i1] = np.triu(blk) + np.triu(blk, 1).T
    d = np.diag(P).copy()
    P /= -d[None, :]
    P[np.diag_indices(n)] = 0.0
    k = n if neighbours is None else min(neighbours, n - 1)
    if k >= n - 1:
        return sp.csr_matrix(P)
    rows = []
    for i0 in range(0, n, step):
        blk = P[i0 : i0 + step]
        idx = np.argpartition(-np.abs(blk), k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(blk, idx, axis=1)
        r = np.repeat(np.arange(i0, i0 + blk.shape[0]), k)
        rows.append((r, idx.ravel(), vals.ravel()))
    del P
    r = np.concatenate([t[0] for t in rows])
    c2 = np.concatenate([t[1] for t in rows])
    v = np.concatenate([t[2] for t in rows])
    B = sp.csr_matrix((v.astype(np.float32), (r, c2)), shape=(n, n))
    B.eliminate_zeros()
    return B


def _fit_transitions(
    histories: Sequence[NDArray[np.int32]], n_items: int, window: int, decay: float
) -> sp.csr_matrix:
    """Row-normalised item -> next-item counts; an item ``d`` steps back weighs ``decay**(d-1)``."""
    rows: list[NDArray[np.int32]] = []
    cols: list[NDArray[np.int32]] = []
    vals: list[NDArray[np.float32]] = []
    for h in histories:
        for d in range(1, min(window, len(h) - 1) + 1):
            rows.append(h[:-d])
            cols.append(h[d:])
            vals.append(np.full(len(h) - d, decay ** (d - 1), dtype=np.float32))
    if not rows:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    T = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_items, n_items),
        dtype=np.float32,
    )
    T.setdiag(0)
    T.eliminate_zeros()
    out_weight = np.asarray(T.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags((1.0 / (out_weight + 1.0)).astype(np.float32)) @ T)


def _max_normalise(S: NDArray[np.float32]) -> NDArray[np.float32]:
    m = np.abs(S).max(axis=1, keepdims=True)
    m[m == 0] = 1.0
    return np.asarray(S / m, dtype=np.float32)


def _fit_item_knn(X: sp.csr_matrix, neighbours: int) -> sp.csr_matrix:
    """Cosine item-item similarity, each row pruned to its ``neighbours`` most similar items."""
    C = sp.csr_matrix(X.T @ X, dtype=np.float32)
    norms = np.sqrt(C.diagonal()).astype(np.float32)
    norms[norms == 0] = 1.0
    inv = sp.diags(1.0 / norms)
    S = sp.csr_matrix(inv @ C @ inv)
    S.setdiag(0)
    S.eliminate_zeros()
    indptr, indices, data = S.indptr, S.indices, S.data
    keep = np.zeros(len(data), dtype=bool)
    for i in range(S.shape[0]):
        a, b = indptr[i], indptr[i + 1]
        if b - a <= neighbours:
            keep[a:b] = True
        else:
            top = np.argpartition(-data[a:b], neighbours - 1)[:neighbours]
            keep[a + top] = True
    r = np.repeat(np.arange(S.shape[0]), np.diff(indptr))
    return sp.csr_matrix((data[keep], (r[keep], indices[keep])), shape=S.shape, dtype=np.float32)


def _top_k(scores: NDArray[np.float32], k: int) -> NDArray[np.int64]:
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def _mask_seen(scores: NDArray[np.float32], X: sp.csr_matrix) -> None:
    rows, cols = X.nonzero()
    scores[rows, cols] = -np.inf


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RecommenderParams:
    """Hyper-parameters of :class:`Recommender`.

    Parameters
    ----------
    l2:
        EASE L2 regularisation.
    ease_neighbours:
        Weights kept per item row of the EASE matrix (``None`` keeps all).
    transition_window, transition_decay:
        An item ``d <= window`` steps before another adds ``decay**(d-1)`` to
        their transition count.
    recent_items, recency_decay:
        A user's last ``recent_items`` items vote for their successors, the
        ``r``-th most recent with weight ``recency_decay**r``.
    transition_weight:
        Blend: ``maxnorm(EASE) + transition_weight * maxnorm(transitions)`` per user.
    """

    l2: float = 100.0
    ease_neighbours: int | None = 256
    transition_window: int = 5
    transition_decay: float = 0.6
    recent_items: int = 5
    recency_decay: float = 0.3
    transition_weight: float = 1.0


@dataclass(eq=False)
class Recommender:
    """A fitted recommender. Build it with :func:`train_recommender` or :meth:`load`."""

    params: RecommenderParams
    item_ids: list[ItemId]
    user_ids: list[UserId]
    histories: list[NDArray[np.int32]]
    popularity: NDArray[np.float32]
    ease: sp.csr_matrix
    transitions: sp.csr_matrix
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._user_index = {str(u): i for i, u in enumerate(self.user_ids)}
        self._item_index = {str(it): i for i, it in enumerate(self.item_ids)}
        self._popular_order = np.argsort(-self.popularity, kind="stable")

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    # scoring ---------------------------------------------------------------
    def _component_scores(
        self, histories: Sequence[NDArray[np.int32]]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        X = _history_matrix(histories, self.n_items)
        E = np.asarray((X @ self.ease).toarray(), dtype=np.float32)
        R = _recency_matrix(
            histories, self.n_items, self.params.recent_items, self.params.recency_decay
        )
        T = np.asarray((R @ self.transitions).toarray(), dtype=np.float32)
        return E, T

    def _scores(self, histories: Sequence[NDArray[np.int32]]) -> NDArray[np.float32]:
        E, T = self._component_scores(histories)
        S = _max_normalise(E) + np.float32(self.params.transition_weight) * _max_normalise(T)
        # A tiny popularity prior breaks ties (and ranks items for empty histories).
        pop = self.popularity / max(float(self.popularity.max()), 1.0)
        return np.asarray(S + np.float32(1e-6) * pop[None, :], dtype=np.float32)

    def recommend_for_items(
        self, items: Sequence[ItemId], k: int = 10, *, exclude_seen: bool = True
    ) -> list[ItemId]:
        """Top ``k`` items for an ad-hoc, chronological item history (e.g. a session).

        Unknown items are ignored; with none known this is :meth:`popular`.
        """
        idx = [self._item_index[str(i)] for i in items if str(i) in self._item_index]
        if not idx:
            return self.popular(k)
        h = np.asarray(idx, dtype=np.int32)
        S = self._scores([h])
        if exclude_seen:
            S[0, h] = -np.inf
        top = _top_k(S, k)[0]
        return [self.item_ids[int(i)] for i in top if np.isfinite(S[0, i])]

    def recommend(self, user: UserId, k: int = 10, exclude_seen: bool = True) -> list[ItemId]:
        """Top ``k`` items for a known user; an unknown (cold) user gets :meth:`popular`."""
        if k < 1:
            raise ValueError("k must be >= 1")
        u = self._user_index.get(str(user))
        if u is None or len(self.histories[u]) == 0:
            return self.popular(k)
        h = self.histories[u]
        S = self._scores([h])
        if exclude_seen:
            S[0, h] = -np.inf
        top = _top_k(S, k)[0]
        return [self.item_ids[int(i)] for i in top if np.isfinite(S[0, i])]

    def popular(self, k: int = 10) -> list[ItemId]:
        """The ``k`` most interacted-with items of the training data."""
        return [self.item_ids[int(i)] for i in self._popular_order[:k]]

    # persistence -----------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write ``recommender.json``, ``recommender.npz`` and ``metrics.json`` to ``directory``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for ids, what in ((self.item_ids, "item"), (self.user_ids, "user")):
            if not all(isinstance(i, str | int) and not isinstance(i, bool) for i in ids):
                raise ModelError(f"{what} ids must be str or int to be saved")
        meta = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "params": asdict(self.params),
            "item_ids": self.item_ids,
            "user_ids": self.user_ids,
        }
        (d / "recommender.json").write_text(json.dumps(meta), encoding="utf-8")
        lengths = np.fromiter((len(h) for h in self.histories), np.int64, len(self.histories))
        flat = (
            np.concatenate(self.histories).astype(np.int32)
            if lengths.sum()
            else np.zeros(0, np.int32)
        )
        arrays: dict[str, NDArray[Any]] = {
            "popularity": self.popularity,
            "hist_indptr": np.concatenate([[0], np.cumsum(lengths)]),
            "hist_indices": flat,
        }
        for name, m in (("ease", self.ease), ("transitions", self.transitions)):
            arrays[f"{name}_data"] = m.data.astype(np.float32)
            arrays[f"{name}_indices"] = m.indices.astype(np.int32)
            arrays[f"{name}_indptr"] = m.indptr.astype(np.int64)
        np.savez_compressed(d / "recommender.npz", **arrays)  # type: ignore[arg-type]
        (d / "metrics.json").write_text(json.dumps(self.metrics, indent=2), encoding="utf-8")
        return d

    @classmethod
    def load(cls, directory: str | Path) -> Recommender:
        """Load a model written by :meth:`save` (JSON + ``npz`` without pickle)."""
        d = Path(directory)
        try:
            meta = json.loads((d / "recommender.json").read_text(encoding="utf-8"))
            if meta.get("format") != _FORMAT or meta.get("version") != _FORMAT_VERSION:
                raise ModelError("not a shopguard recommender artifact (format/version)")
            params = RecommenderParams(**meta["params"])
            item_ids = list(meta["item_ids"])
            user_ids = list(meta["user_ids"])
            n = len(item_ids)
            with np.load(d / "recommender.npz", allow_pickle=False) as z:
                mats = {
                    name: sp.csr_matrix(
                        (z[f"{name}_data"], z[f"{name}_indices"], z[f"{name}_indptr"]),
                        shape=(n, n),
                    )
                    for name in ("ease", "transitions")
                }
                indptr = z["hist_indptr"]
                flat = z["hist_indices"].astype(np.int32)
                popularity = z["popularity"].astype(np.float32)
            metrics_path = d / "metrics.json"
            metrics = (
                json.loads(metrics_path.read_text(encoding="utf-8"))
                if metrics_path.is_file()
                else {}
            )
        except ModelError:
            raise
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ModelError("recommender artifact is missing or corrupt") from exc
        if len(indptr) != len(user_ids) + 1 or popularity.shape != (n,):
            raise ModelError("recommender artifact is inconsistent")
        histories = [flat[indptr[i] : indptr[i + 1]] for i in range(len(user_ids))]
        return cls(
            params=params,
            item_ids=item_ids,
            user_ids=user_ids,
            histories=histories,
            popularity=popularity,
            ease=mats["ease"],
            transitions=mats["transitions"],
            metrics=metrics,
        )


# ---------------------------------------------------------------------------
# Training, tuning, evaluation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Encoded:
    item_ids: list[ItemId]
    user_ids: list[UserId]
    histories: list[NDArray[np.int32]]


def _encode(sequences: Sequences, item_ids: list[ItemId] | None = None) -> _Encoded:
    if item_ids is None:
        seen: dict[ItemId, int] = {}
        for seq in sequences.values():
            for it in seq:
                if it not in seen:
                    seen[it] = len(seen)
        item_ids = list(seen)
    index = {it: i for i, it in enumerate(item_ids)}
    users = list(sequences)
    histories = [np.fromiter((index[it] for it in sequences[u]), np.int32) for u in users]
    return _Encoded(item_ids=item_ids, user_ids=users, histories=histories)


def _rank_all(
    score_fn: Callable[[Sequence[NDArray[np.int32]]], NDArray[np.float32]],
    histories: Sequence[NDArray[np.int32]],
    n_items: int,
    k: int,
) -> NDArray[np.int64]:
    out = np.empty((len(histories), min(k, n_items)), dtype=np.int64)
    for b0 in range(0, len(histories), _BATCH):
        hb = histories[b0 : b0 + _BATCH]
        S = score_fn(hb)
        _mask_seen(S, _history_matrix(hb, n_items))
        out[b0 : b0 + len(hb)] = _top_k(S, k)
    return out


Scorer = Callable[[Sequence[NDArray[np.int32]]], NDArray[np.float32]]


def _similarity_scorer(S: sp.csr_matrix, n_items: int) -> Scorer:
    def score(histories: Sequence[NDArray[np.int32]]) -> NDArray[np.float32]:
        return np.asarray((_history_matrix(histories, n_items) @ S).toarray(), dtype=np.float32)

    return score


def _popularity_scorer(pop: NDArray[np.float32]) -> Scorer:
    def score(histories: Sequence[NDArray[np.int32]]) -> NDArray[np.float32]:
        return np.tile(pop, (len(histories), 1))

    return score


def _metrics(ranked: NDArray[np.int64], targets: NDArray[np.int64], k: int) -> dict[str, float]:
    return {
        f"hr@{k}": round(hit_rate_at_k(ranked, targets, k), 6),
        f"ndcg@{k}": round(ndcg_at_k(ranked, targets, k), 6),
    }


def _holdout(
    enc: _Encoded,
) -> tuple[list[NDArray[np.int32]], list[int], NDArray[np.int64]]:
    """Train histories without each user's last item; users with >= 2 items give a target."""
    train = [h[:-1] if len(h) >= 2 else h for h in enc.histories]
    users = [i for i, h in enumerate(enc.histories) if len(h) >= 2]
    targets = np.asarray([enc.histories[i][-1] for i in users], dtype=np.int64)
    return train, users, targets


def _fit_components(
    histories: Sequence[NDArray[np.int32]], n_items: int, params: RecommenderParams
) -> tuple[NDArray[np.float32], sp.csr_matrix, sp.csr_matrix]:
    X = _history_matrix(histories, n_items)
    pop = _popularity_counts(histories, n_items)
    B = _fit_ease(X, params.l2, params.ease_neighbours)
    T = _fit_transitions(histories, n_items, params.transition_window, params.transition_decay)
    return pop, B, T


_TRANSITION_GRID = ((1, 1.0), (5, 0.6))
_RECENCY_GRID = ((3, 0.5), (5, 0.3))
_WEIGHT_GRID = (0.0, 0.3, 1.0, 3.0)
_KNN_GRID = (50, 100, 200, 500, 1000, 2000)


def _tune(
    enc: _Encoded,
    *,
    l2_grid: Sequence[float],
    ease_neighbours: int | None,
    max_tune_users: int,
    random_state: int,
    k: int,
    progress: Progress | None,
) -> tuple[RecommenderParams, dict[str, float]]:
    """Pick the parameters that maximise validation NDCG@k on the user's last item."""
    n = len(enc.item_ids)
    train, users, targets = _holdout(enc)
    rng = np.random.default_rng(random_state)
    if len(users) > max_tune_users:
        pick = np.sort(rng.choice(len(users), max_tune_users, replace=False))
        users = [users[i] for i in pick]
        targets = targets[pick]
    hist = [train[u] for u in users]
    X = _history_matrix(train, n)
    Xv = _history_matrix(hist, n)
    best: tuple[float, RecommenderParams, dict[str, float]] | None = None
    trans = {(w, d): _fit_transitions(train, n, w, d) for w, d in _TRANSITION_GRID}
    for l2 in l2_grid:
        if progress:
            progress(f"EASE l2={l2:g}")
        B = _fit_ease(X, l2, ease_neighbours)
        E = _max_normalise(np.asarray((Xv @ B).toarray(), dtype=np.float32))
        for (w, d), T in trans.items():
            for n_last, r_decay in _RECENCY_GRID:
                R = _recency_matrix(hist, n, n_last, r_decay)
                M = _max_normalise(np.asarray((R @ T).toarray(), dtype=np.float32))
                for weight in _WEIGHT_GRID:
                    if weight == 0.0 and ((w, d), n_last) != (
                        _TRANSITION_GRID[0],
                        _RECENCY_GRID[0][0],
                    ):
                        continue  # EASE alone: the transition settings do not matter
                    S = E + np.float32(weight) * M
                    _mask_seen(S, Xv)
                    m = _metrics(_top_k(S, k), targets, k)
                    if best is None or m[f"ndcg@{k}"] > best[0]:
                        params = RecommenderParams(
                            l2=float(l2),
                            ease_neighbours=ease_neighbours,
                            transition_window=w,
                            transition_decay=d,
                            recent_items=n_last,
                            recency_decay=r_decay,
                            transition_weight=weight,
                        )
                        best = (m[f"ndcg@{k}"], params, m)
        del B, E
    assert best is not None
    return best[1], best[2]


def train_recommender(
    sequences: Sequences,
    *,
    random_state: int = 0,
    params: RecommenderParams | None = None,
    l2_grid: Sequence[float] = (100.0,),
    ease_neighbours: int | None = 256,
    max_tune_users: int = 8000,
    progress: Progress | None = None,
    _item_ids: list[ItemId] | None = None,
) -> Recommender:
    """Fit the recommender on chronological user -> item sequences.

    Without ``params`` the blend is tuned first: each user's last item is held
    out as validation, the grid (``l2_grid`` x transition settings x blend
    weight) is scored on up to ``max_tune_users`` users drawn with
    ``random_state``, and the best setting by NDCG@10 is refitted on the full
    sequences. ``metrics.json`` then records the validation figures.
    """
    if not sequences:
        raise DataValidationError("no interactions to train on")
    enc = _encode(sequences, _item_ids)
    n = len(enc.item_ids)
    metrics: dict[str, Any] = {"n_users": len(enc.user_ids), "n_items": n}
    t0 = time.perf_counter()
    if params is None:
        params, val = _tune(
            enc,
            l2_grid=l2_grid,
            ease_neighbours=ease_neighbours,
            max_tune_users=max_tune_users,
            random_state=random_state,
            k=10,
            progress=progress,
        )
        metrics["validation"] = {"protocol": "last item per user, full item ranking", **val}
    if progress:
        progress("fitting final model")
    pop, B, T = _fit_components(enc.histories, n, params)
    metrics["train_seconds"] = round(time.perf_counter() - t0, 2)
    metrics["params"] = asdict(params)
    return Recommender(
        params=params,
        item_ids=enc.item_ids,
        user_ids=enc.user_ids,
        histories=enc.histories,
        popularity=pop,
        ease=B,
        transitions=T,
        metrics=metrics,
    )


@dataclass(frozen=True)
class EvaluationResult:
    """Leave-last-out test figures per model (``hr@k``, ``ndcg@k``) and training seconds."""

    metrics: dict[str, dict[str, float]]
    train_seconds: dict[str, float]
    params: dict[str, Any]


def _tune_knn(
    enc: _Encoded, *, max_tune_users: int, random_state: int, k: int
) -> tuple[int, dict[str, float]]:
    n = len(enc.item_ids)
    train, users, targets = _holdout(enc)
    rng = np.random.default_rng(random_state)
    if len(users) > max_tune_users:
        pick = np.sort(rng.choice(len(users), max_tune_users, replace=False))
        users = [users[i] for i in pick]
        targets = targets[pick]
    hist = [train[u] for u in users]
    X = _history_matrix(train, n)
    best: tuple[float, int, dict[str, float]] | None = None
    for nb in _KNN_GRID:
        S = _fit_item_knn(X, nb)
        ranked = _rank_all(
            _similarity_scorer(S, n),
            hist,
            n,
            k,
        )
        m = _metrics(ranked, targets, k)
        if best is None or m[f"ndcg@{k}"] > best[0]:
            best = (m[f"ndcg@{k}"], nb, m)
    assert best is not None
    return best[1], best[2]


def evaluate_recommenders(
    sequences: Sequences,
    *,
    k: int = 10,
    random_state: int = 0,
    l2_grid: Sequence[float] = (100.0,),
    ease_neighbours: int | None = 256,
    max_tune_users: int = 8000,
    progress: Progress | None = None,
) -> EvaluationResult:
    """Leave-last-out evaluation of ours, EASE alone, popularity and tuned item-kNN.

    Every model is tuned with the second-to-last item per user as validation
    (trained on the items before it), then refitted on everything but the last
    item and tested on the last item. All items are ranked; the user's training
    items are excluded from the ranking. Users with fewer than two items are
    not tested.
    """
    full = _encode(sequences)
    n = len(full.item_ids)
    train_hist, test_users, targets = _holdout(full)
    train_seqs = {
        full.user_ids[i]: [full.item_ids[j] for j in train_hist[i]]
        for i in range(len(full.user_ids))
    }
    test_hist = [train_hist[u] for u in test_users]
    results: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}

    def _log(msg: str) -> None:
        if progress:
            progress(msg)

    _log("popularity")
    t0 = time.perf_counter()
    pop = _popularity_counts(train_hist, n)
    seconds["popularity"] = round(time.perf_counter() - t0, 2)
    results["popularity"] = _metrics(
        _rank_all(_popularity_scorer(pop), test_hist, n, k), targets, k
    )

    _log("item-kNN: tuning neighbours")
    t0 = time.perf_counter()
    train_enc = _encode(train_seqs, full.item_ids)
    nb, _ = _tune_knn(train_enc, max_tune_users=max_tune_users, random_state=random_state, k=k)
    S_knn = _fit_item_knn(_history_matrix(train_hist, n), nb)
    seconds["item_knn"] = round(time.perf_counter() - t0, 2)
    results["item_knn"] = _metrics(
        _rank_all(
            _similarity_scorer(S_knn, n),
            test_hist,
            n,
            k,
        ),
        targets,
        k,
    )
    del S_knn

    _log("shopguard: tuning and fitting")
    t0 = time.perf_counter()
    model = train_recommender(
        train_seqs,
        random_state=random_state,
        l2_grid=l2_grid,
        ease_neighbours=ease_neighbours,
        max_tune_users=max_tune_users,
        progress=progress,
        _item_ids=full.item_ids,
    )
    seconds["shopguard"] = round(time.perf_counter() - t0, 2)
    _log("shopguard: testing")
    results["shopguard"] = _metrics(_rank_all(model._scores, test_hist, n, k), targets, k)
    ease_only = replace(model, params=replace(model.params, transition_weight=0.0))
    results["ease"] = _metrics(_rank_all(ease_only._scores, test_hist, n, k), targets, k)
    return EvaluationResult(
        metrics=results,
        train_seconds=seconds,
        params={"shopguard": asdict(model.params), "item_knn": {"neighbours": nb}},
    )
