"""The store's reference fraud scorer: point-in-time features + gradient-boosted trees."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import expit
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, roc_auc_score

from shopguard import __version__
from shopguard.core.errors import DataValidationError, ModelError
from shopguard.store.fraud._features import (
    EXTRA_NUMERIC_COLUMNS,
    base_feature_names,
    build_features,
    feature_matrix,
)
from shopguard.store.fraud._io import LABEL_COLUMN, validate_transactions

__all__ = [
    "ARTIFACT_FILE",
    "FORMAT",
    "METADATA_FILE",
    "METRICS_FILE",
    "TRUSTED_TYPES",
    "FraudModel",
    "card_precision_at_k",
    "feature_frame",
    "handbook_test_mask",
    "train_fraud",
]

logger = logging.getLogger(__name__)

FORMAT = "shopguard.store.fraud/1"
ARTIFACT_FILE = "model.skops"
METADATA_FILE = "model.json"
METRICS_FILE = "metrics.json"
#: The only non-default type skops may instantiate when loading a fraud artifact.
TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)

_DAY = pd.Timedelta(days=1)
Progress = Callable[[str], None]


def _default_params() -> dict[str, Any]:
    # Chosen on bench/fraud.py (handbook protocol); see bench/results/fraud.md.
    # Shallow trees with feature subsampling: with ~600 frauds per training week, deeper or
    # faster-learning settings overfit (measured: AP 0.67-0.70 vs 0.71-0.74).
    return {
        "learning_rate": 0.03,
        "max_iter": 400,
        "max_depth": 3,
        "min_samples_leaf": 50,
        "max_features": 0.5,
        "early_stopping": False,
    }


class _CompiledTrees:
    """The fitted trees as flat arrays, walked with numpy for small batches.

    scikit-learn's per-call overhead (validation, OpenMP start-up) dominates a one-row
    ``predict_proba``; walking all trees at once level by level costs tens of microseconds.
    The raw score is accumulated in scikit-learn's order (baseline, then tree by tree), so
    results are identical to ``predict_proba``.
    """

    def __init__(self, est: HistGradientBoostingClassifier) -> None:
        predictors = [it[0] for it in est._predictors]
        n_trees = len(predictors)
        width = max(len(p.nodes) for p in predictors)
        self.feature = np.zeros((n_trees, width), dtype=np.int64)
        self.threshold = np.zeros((n_trees, width), dtype=np.float64)
        self.missing_left = np.zeros((n_trees, width), dtype=bool)
        self.left = np.zeros((n_trees, width), dtype=np.int64)
        self.right = np.zeros((n_trees, width), dtype=np.int64)
        self.leaf = np.ones((n_trees, width), dtype=bool)
        self.value = np.zeros((n_trees, width), dtype=np.float64)
        depth = 0
        for i, p in enumerate(predictors):
            nodes = p.nodes
            if nodes["is_categorical"].any():  # pragma: no cover - no categorical inputs
                raise ModelError("categorical splits are not supported")
            k = len(nodes)
            self.feature[i, :k] = nodes["feature_idx"]
            self.threshold[i, :k] = nodes["num_threshold"]
            self.missing_left[i, :k] = nodes["missing_go_to_left"].astype(bool)
            self.left[i, :k] = nodes["left"]
            self.right[i, :k] = nodes["right"]
            self.leaf[i, :k] = nodes["is_leaf"].astype(bool)
            self.value[i, :k] = nodes["value"]
            depth = max(depth, int(nodes["depth"].max()))
        self.depth = depth
        self.baseline = float(np.asarray(est._baseline_prediction).ravel()[0])
        self.trees = np.arange(n_trees)

    def predict_proba1(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        n = X.shape[0]
        node = np.zeros((n, self.trees.shape[0]), dtype=np.int64)
        t = self.trees
        for _ in range(self.depth):
            x = np.take_along_axis(X, self.feature[t, node], axis=1)
            go_left = np.where(
                np.isnan(x), self.missing_left[t, node], x <= self.threshold[t, node]
            )
            nxt = np.where(go_left, self.left[t, node], self.right[t, node])
            node = np.where(self.leaf[t, node], node, nxt)
        vals = np.concatenate([np.full((n, 1), self.baseline), self.value[t, node]], axis=1)
        raw = np.cumsum(vals, axis=1)[:, -1]
        return np.asarray(expit(raw), dtype=np.float64)


_SMALL_BATCH = 64


@dataclass
class FraudModel:
    """A fitted fraud scorer; build it with :func:`train_fraud` or :meth:`load`.

    Attributes
    ----------
    estimator_:
        The fitted :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
    feature_names_:
        Model input columns, engineered features then the extra columns.
    extra_columns_:
        Whitelisted optional columns that were present at training time; scoring needs them.
    delay_days:
        Days before a fraud label is known (terminal risk only uses older labels).
    metrics:
        Validation metrics written beside the artifact as ``metrics.json``.
    """

    estimator_: HistGradientBoostingClassifier
    feature_names_: list[str]
    extra_columns_: list[str]
    delay_days: int = 7
    metrics: dict[str, Any] = field(default_factory=dict)

    def features(
        self, transactions: pd.DataFrame, history: pd.DataFrame | None = None
    ) -> NDArray[np.float64]:
        """Model inputs for ``transactions`` (rows in their order, columns ``feature_names_``).

        ``history`` rows only serve as the past of the customers and terminals.
        """
        tx = validate_transactions(transactions, source="<transactions>")
        missing = [c for c in self.extra_columns_ if c not in tx.columns]
        if missing:
            raise DataValidationError(
                "column the model was trained with is missing",
                file="<transactions>",
                column=missing[0],
            )
        n = len(tx)
        if history is not None and len(history):
            hist = validate_transactions(history, source="<history>")
            hist = hist[~hist["TRANSACTION_ID"].isin(tx["TRANSACTION_ID"])]
            frame = pd.concat([hist, tx], ignore_index=True, sort=False)
        else:
            frame = tx
        return feature_matrix(
            frame, delay_days=self.delay_days, extra_columns=self.extra_columns_, last=n
        )

    def score(
        self, transactions: pd.DataFrame, history: pd.DataFrame | None = None
    ) -> NDArray[np.float64]:
        """Fraud probability in [0, 1] of each row of ``transactions`` (higher = riskier).

        Parameters
        ----------
        transactions:
            Rows to score (FDH columns). They also serve as each other's history.
        history:
            Earlier transactions of the same customers / terminals, used only to build the
            features (``TX_FRAUD`` there feeds terminal risk once ``delay_days`` old). Rows
            also present in ``transactions`` (same ``TRANSACTION_ID``) are taken from there.
        """
        if len(transactions) == 0:
            return np.zeros(0, dtype=np.float64)
        X = self.features(transactions, history)
        if X.shape[0] <= _SMALL_BATCH:
            proba = self._compiled().predict_proba1(X)
        else:
            proba = self.estimator_.predict_proba(X)[:, 1]
        return np.asarray(np.clip(proba, 0.0, 1.0), dtype=np.float64)

    def _compiled(self) -> _CompiledTrees:
        compiled = self.__dict__.get("_compiled_trees")
        if compiled is None:
            compiled = _CompiledTrees(self.estimator_)
            self.__dict__["_compiled_trees"] = compiled
        return compiled

    # -- persistence ---------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write ``model.skops``, ``model.json`` and ``metrics.json`` into ``directory``.

        The directory is written beside its final place and renamed in, so a failure never
        leaves a half-written model. An existing fraud model directory is replaced; any other
        non-empty directory is refused.
        """
        target = Path(directory)
        if target.exists() and not target.is_dir():
            raise ModelError(f"{target}: exists and is not a directory")
        if target.is_dir() and any(target.iterdir()) and not (target / METADATA_FILE).is_file():
            raise ModelError(f"{target}: directory is not empty and holds no fraud model")
        target.parent.mkdir(parents=True, exist_ok=True)
        import skops.io as sio  # deferred: importing skops loads all of scikit-learn

        blob = sio.dumps(self.estimator_)
        meta = {
            "format": FORMAT,
            "artifact": ARTIFACT_FILE,
            "artifact_sha256": hashlib.sha256(blob).hexdigest(),
            "feature_names": self.feature_names_,
            "extra_columns": self.extra_columns_,
            "delay_days": self.delay_days,
            "shopguard_version": __version__,
        }
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            (tmp / ARTIFACT_FILE).write_bytes(blob)
            (tmp / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")
            (tmp / METRICS_FILE).write_text(json.dumps(self.metrics, indent=2) + "\n")
            if target.exists():
                old = target.parent / f"{tmp.name}.old"
                target.rename(old)
                tmp.rename(target)
                shutil.rmtree(old)
            else:
                tmp.rename(target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
        return target

    @classmethod
    def load(cls, directory: str | Path) -> FraudModel:
        """Load a model written by :meth:`save`.

        Raises
        ------
        ModelError
            Missing files, a digest mismatch (tampered artifact), a foreign format, or an
            artifact holding types outside :data:`TRUSTED_TYPES`.
        """
        d = Path(directory)
        try:
            meta = json.loads((d / METADATA_FILE).read_text())
            blob = (d / ARTIFACT_FILE).read_bytes()
        except FileNotFoundError:
            raise ModelError(f"{d}: not a fraud model directory (missing files)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            raise ModelError(f"{d}: unreadable model metadata") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ModelError(f"{d}: not a shopguard fraud model (format)")
        if hashlib.sha256(blob).hexdigest() != meta.get("artifact_sha256"):
            raise ModelError(f"{d}: artifact digest mismatch (tampered or corrupt)")
        try:
            import skops.io as sio  # deferred: importing skops loads all of scikit-learn

            untrusted = sio.get_untrusted_types(data=blob)
        except Exception:
            raise ModelError(f"{d}: corrupt model artifact") from None
        unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
        if unexpected:
            raise ModelError(f"{d}: artifact holds untrusted types: {', '.join(unexpected)}")
        try:
            est = sio.loads(blob, trusted=list(TRUSTED_TYPES))
        except Exception:
            raise ModelError(f"{d}: corrupt model artifact") from None
        if not isinstance(est, HistGradientBoostingClassifier):
            raise ModelError(f"{d}: artifact is not a gradient-boosting classifier")
        extras = meta.get("extra_columns")
        if not isinstance(extras, list) or not set(extras) <= set(EXTRA_NUMERIC_COLUMNS):
            raise ModelError(f"{d}: unknown extra columns in metadata")
        names = base_feature_names() + extras
        if meta.get("feature_names") != names or getattr(est, "n_features_in_", -1) != len(names):
            raise ModelError(f"{d}: model features do not match this shopguard version")
        delay = meta.get("delay_days")
        if not isinstance(delay, int) or delay < 0:
            raise ModelError(f"{d}: bad delay_days in metadata")
        metrics: dict[str, Any] = {}
        if (d / METRICS_FILE).is_file():
            try:
                metrics = json.loads((d / METRICS_FILE).read_text())
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                raise ModelError(f"{d}: unreadable metrics.json") from None
        return cls(
            estimator_=est,
            feature_names_=names,
            extra_columns_=list(extras),
            delay_days=delay,
            metrics=metrics,
        )


# -- evaluation helpers (the handbook's protocol) ---------------------------------------------


def handbook_test_mask(
    transactions: pd.DataFrame,
    *,
    train_start: pd.Timestamp,
    train_days: int = 7,
    delay_days: int = 7,
    test_days: int = 7,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Train and test row masks of the handbook's ``get_train_test_set``.

    Train: ``[train_start, train_start + train_days)``. Test: the ``test_days`` days after
    the delay period, minus the cards already known to be compromised: frauds of the training
    period and, for test day ``i``, frauds up to day ``train_days + i - 1`` (labels arrive
    ``delay_days`` late).
    """
    t = transactions["TX_DATETIME"]
    day = ((t - train_start) // _DAY).to_numpy()
    fraud = transactions[LABEL_COLUMN].to_numpy() == 1
    cust = transactions["CUSTOMER_ID"].to_numpy()
    train = (day >= 0) & (day < train_days)
    test = np.zeros(len(transactions), dtype=bool)
    known = set(cust[train & fraud].tolist())
    for i in range(test_days):
        seen_day = train_days + i - 1
        known |= set(cust[(day == seen_day) & fraud].tolist())
        today = day == train_days + delay_days + i
        test |= today & ~np.isin(cust, list(known))
    return train, test


def card_precision_at_k(
    transactions: pd.DataFrame,
    scores: NDArray[np.float64],
    *,
    k: int = 100,
) -> list[float]:
    """Daily card precision@k, as the handbook's ``card_precision_top_k`` defines it.

    Per day (in order): drop the cards detected (fraudulent and in the top k) on earlier days,
    take each card's maximum score and label that day, rank cards by score and return the
    fraction of compromised cards among the top ``k``.
    """
    frame = pd.DataFrame(
        {
            "day": transactions["TX_DATETIME"].dt.floor("D").to_numpy(),
            "card": transactions["CUSTOMER_ID"].to_numpy(),
            "score": scores,
            "fraud": transactions[LABEL_COLUMN].to_numpy(),
        }
    )
    detected: set[Any] = set()
    out: list[float] = []
    for _, day in frame.groupby("day", sort=True):
        day = day[~day["card"].isin(list(detected))]
        cards = day.groupby("card")[["score", "fraud"]].max()
        top = cards.sort_values("score", ascending=False, kind="mergesort").head(k)
        hits = top.index[top["fraud"] == 1]
        out.append(len(hits) / k)
        detected |= set(hits.tolist())
    return out


def _metrics(
    frame: pd.DataFrame, mask: NDArray[np.bool_], scores: NDArray[np.float64]
) -> dict[str, Any]:
    y = frame.loc[mask, LABEL_COLUMN].to_numpy()
    if len(np.unique(y)) < 2:
        return {"n_rows": int(mask.sum()), "n_frauds": int(y.sum()), "note": "one class only"}
    cp = card_precision_at_k(frame.loc[mask], scores)
    return {
        "n_rows": int(mask.sum()),
        "n_frauds": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, scores)),
        "average_precision": float(average_precision_score(y, scores)),
        "card_precision_at_100_daily_mean": float(np.mean(cp)),
    }


# -- training ------------------------------------------------------------------------------


def train_fraud(
    transactions: pd.DataFrame,
    *,
    history: pd.DataFrame | None = None,
    random_state: int = 0,
    delay_days: int = 7,
    validation_days: int = 7,
    params: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> FraudModel:
    """Train the reference fraud scorer on labelled transactions.

    Parameters
    ----------
    transactions:
        FDH-layout rows with ``TX_FRAUD`` (0/1); every row is a training example. Whitelisted
        extra numeric columns (:data:`EXTRA_NUMERIC_COLUMNS`) present here become features.
    history:
        Earlier rows used only to build features (e.g. the 30 days before the training set).
    random_state:
        Seed of the estimator.
    delay_days:
        Days before a fraud label is known; terminal risk only uses labels this old.
    validation_days:
        When > 0 and the data is long enough, the last ``validation_days`` days are held out
        (with a ``delay_days`` gap and the handbook's removal of known compromised cards),
        scored by a model fitted on the earlier days, and reported in ``metrics``; the returned
        model is then refitted on all rows. 0 skips validation.
    params:
        Overrides of the :class:`~sklearn.ensemble.HistGradientBoostingClassifier` settings.
    progress:
        Called with a short step description before each long step.
    """
    say = progress or (lambda _msg: None)
    tx = validate_transactions(transactions, source="<transactions>")
    if LABEL_COLUMN not in tx.columns:
        raise DataValidationError(
            "training needs labels", file="<transactions>", column=LABEL_COLUMN
        )
    unlabeled = np.asarray(tx[LABEL_COLUMN].isna(), dtype=bool)
    if unlabeled.any():
        raise DataValidationError(
            "missing label",
            file="<transactions>",
            row=int(np.flatnonzero(unlabeled)[0]) + 1,
            column=LABEL_COLUMN,
        )
    y_all = tx[LABEL_COLUMN].to_numpy(dtype=np.int64)
    if len(np.unique(y_all)) < 2:
        raise DataValidationError(
            "training needs both fraudulent and genuine rows",
            file="<transactions>",
            column=LABEL_COLUMN,
        )
    extras = [c for c in EXTRA_NUMERIC_COLUMNS if c in tx.columns]
    hp = {**_default_params(), **dict(params or {})}

    say("building features")
    frame = tx
    if history is not None and len(history):
        hist = validate_transactions(history, source="<history>")
        hist = hist[~hist["TRANSACTION_ID"].isin(tx["TRANSACTION_ID"])]
        frame = pd.concat([hist, tx], ignore_index=True, sort=False)
    feats = build_features(frame, delay_days=delay_days, extra_columns=extras)
    offset = len(frame) - len(tx)
    X_all = feats.to_numpy(dtype=np.float64)[offset:]
    names = base_feature_names() + extras

    metrics: dict[str, Any] = {
        "model": "HistGradientBoostingClassifier",
        "params": hp,
        "random_state": random_state,
        "delay_days": delay_days,
        "n_rows": len(tx),
        "n_frauds": int(y_all.sum()),
        "features": names,
    }
    t = tx["TX_DATETIME"]
    first_day, last_day = t.min().floor("D"), t.max().floor("D")
    n_days = int((last_day - first_day) // _DAY) + 1
    if validation_days > 0 and n_days >= validation_days + delay_days + 7:
        say("fitting the validation model")
        train_days = n_days - validation_days - delay_days
        fit_mask, valid_mask = handbook_test_mask(
            tx,
            train_start=first_day,
            train_days=train_days,
            delay_days=delay_days,
            test_days=validation_days,
        )
        if len(np.unique(y_all[fit_mask])) == 2:
            est = _fit(hp, random_state, X_all[fit_mask], y_all[fit_mask])
            say("validating")
            scores = est.predict_proba(X_all[valid_mask])[:, 1]
            metrics["validation"] = {
                "protocol": (
                    f"train on the first {train_days} days, delay {delay_days} days, "
                    f"validate on the last {validation_days} days without known compromised cards"
                ),
                **_metrics(tx, valid_mask, scores),
            }
        else:
            metrics["validation"] = None
    else:
        metrics["validation"] = None
    say("fitting the final model")
    est = _fit(hp, random_state, X_all, y_all)
    logger.info("fraud model trained on %d rows, %d features", len(tx), len(names))
    return FraudModel(
        estimator_=est,
        feature_names_=names,
        extra_columns_=extras,
        delay_days=delay_days,
        metrics=metrics,
    )


def _fit(
    params: Mapping[str, Any], random_state: int, X: NDArray[np.float64], y: NDArray[np.int64]
) -> HistGradientBoostingClassifier:
    # A feature that is missing on every training row (e.g. no terminal fraud known yet in a
    # small table) breaks the histogram binning; as a constant it is simply never split on.
    empty = np.isnan(X).all(axis=0)
    if empty.any():
        X = X.copy()
        X[:, empty] = 0.0
    est = HistGradientBoostingClassifier(random_state=random_state, **params)
    return est.fit(X, y)


def feature_frame(
    transactions: pd.DataFrame,
    *,
    delay_days: int = 7,
    extra_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Validated features of a whole table (every row history for the others); for benchmarks."""
    tx = validate_transactions(transactions, source="<transactions>")
    return build_features(tx, delay_days=delay_days, extra_columns=extra_columns)
