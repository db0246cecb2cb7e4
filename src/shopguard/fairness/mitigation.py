"""Bias mitigation: group-aware thresholds, exponentiated-gradient reductions, reweighing.

* :class:`GroupThresholdOptimizer` (post-processing) maps each group's scores through that
  group's own empirical distribution, so one threshold on the mapped score selects the same
  share of every group (``demographic_parity``) or declines the same share of every group's
  genuine rows (``false_positive_rate_parity``). The operating point is chosen on the fitting
  data to maximise accuracy (or to keep the overall rate of the original threshold).
* :class:`ExponentiatedGradient` (in-processing) solves the saddle point of the Lagrangian of
  error subject to demographic-parity constraints with a hedge (multiplicative weights) player
  over the constraints and cost-sensitive best responses of any scikit-learn classifier that
  takes ``sample_weight``; the result is a randomised classifier over the iterates.
* :class:`GroupScoreShift` (post-processing) gives each group one log-odds offset that lines
  its genuine rows' upper score tail up with the pooled one, so one fit holds the
  false-positive rates level at every operating point in a band (what the gateway serves).
* :func:`reweighing_weights` (pre-processing) gives each (group, label) cell the weight that
  makes group and label independent in the weighted training data.

References
----------
Hardt, Price, Srebro, "Equality of Opportunity in Supervised Learning", NeurIPS 2016.
Agarwal, Beygelzimer, Dudík, Langford, Wallach, "A Reductions Approach to Fair
Classification", ICML 2018. https://arxiv.org/abs/1803.02453
Kamiran, Calders, "Data preprocessing techniques for classification without
discrimination", Knowledge and Information Systems 33, 2012.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone

from shopguard.core.errors import DataValidationError, ModelError

__all__ = [
    "Constraint",
    "ExponentiatedGradient",
    "GroupScoreShift",
    "GroupThresholdOptimizer",
    "Mitigation",
    "reweighing_weights",
]


class Mitigation(StrEnum):
    THRESHOLD = "threshold"
    REDUCTIONS = "reductions"
    REWEIGHING = "reweighing"


class Constraint(StrEnum):
    DEMOGRAPHIC_PARITY = "demographic_parity"
    FALSE_POSITIVE_RATE_PARITY = "false_positive_rate_parity"


def _groups(sensitive: ArrayLike) -> NDArray[Any]:
    s = pd.Series(np.asarray(sensitive))
    if s.isna().any():
        raise DataValidationError("missing sensitive value")
    return s.astype(str).to_numpy()


@dataclass
class GroupThresholdOptimizer:
    """Group-specific thresholds that (nearly) equalise a rate (post-processing).

    Fitted on held-out scores. For every candidate common rate ``r`` on a grid each group
    independently takes the cut, among those whose rate lies in ``[r, r + tolerance]``, that
    classifies the most of its fitting rows correctly; accuracy is a sum over groups, so the
    search is separable and exact on the grid. The ``r`` of highest total accuracy wins
    (or ``target_rate`` when given).

    Parameters
    ----------
    constraint:
        ``demographic_parity`` equalises selection rates; ``false_positive_rate_parity``
        equalises the share of negatives (genuine rows) selected.
    tolerance:
        Largest gap allowed between the groups' rates on the fitting data (0 = equal).
    target_rate:
        Fix the common rate instead of choosing the most accurate one, e.g. the overall
        rate of the unmitigated threshold (so the decline volume stays the same).
    min_group_size:
        Groups with fewer fitting rows (or negatives, for FPR parity) use the pooled cut.

    Attributes
    ----------
    thresholds_:
        Raw-score threshold per group (a score ``>=`` it is selected); ``pooled_threshold_``
        for groups not seen or too small.
    rate_:
        The common rate chosen.
    """

    constraint: Constraint = Constraint.DEMOGRAPHIC_PARITY
    tolerance: float = 0.0
    target_rate: float | None = None
    min_group_size: int = 30
    grid_size: int = 400
    thresholds_: dict[str, float] = field(default_factory=dict, init=False)
    pooled_threshold_: float = field(default=float("nan"), init=False)
    rate_: float = field(default=float("nan"), init=False)
    reference_: dict[str, NDArray[np.float64]] = field(default_factory=dict, init=False)
    pooled_: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0), init=False)

    def _curves(
        self, s: NDArray[np.float64], y: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Per cut k (select the k highest): rate, correct count, raw threshold."""
        order = np.argsort(-s, kind="stable")
        ss, yy = s[order], y[order]
        cpos = np.concatenate([[0.0], np.cumsum(yy)])
        cneg = np.concatenate([[0.0], np.cumsum(1 - yy)])
        neg = cneg[-1]
        k = np.arange(len(s) + 1)
        # only cut between distinct scores, so the raw threshold reproduces the cut
        valid = np.concatenate([[True], ss[:-1] > ss[1:], [True]]) if len(s) else np.array([True])
        if self.constraint is Constraint.FALSE_POSITIVE_RATE_PARITY:
            rate = cneg / max(neg, 1.0)
        else:
            rate = k / max(len(s), 1)
        correct = cpos + (neg - cneg)
        upper = np.concatenate([[np.inf], ss])
        lower = np.concatenate([ss, [-np.inf]])
        thr = np.where(np.isfinite(lower), (upper + lower) / 2, upper)
        thr = np.where(np.isfinite(thr), thr, np.where(np.isfinite(upper), upper, np.inf))
        thr[0] = np.inf
        thr[-1] = -np.inf
        return rate[valid], correct[valid], thr[valid]

    def fit(self, scores: ArrayLike, y: ArrayLike, sensitive: ArrayLike) -> Self:
        s = np.asarray(scores, dtype=np.float64)
        yv = np.asarray(y).astype(np.int64)
        g = _groups(sensitive)
        if not (len(s) == len(yv) == len(g)) or len(s) == 0:
            raise DataValidationError("scores, labels and groups must be non-empty and aligned")
        fpr = self.constraint is Constraint.FALSE_POSITIVE_RATE_PARITY
        use = yv == 0 if fpr else np.ones(len(yv), dtype=bool)
        self.pooled_ = np.sort(s[use])
        self.reference_ = {}
        curves: dict[str, tuple[NDArray[np.float64], ...]] = {}
        for grp in np.unique(g):
            m = g == grp
            if int(use[m].sum()) >= self.min_group_size:
                self.reference_[str(grp)] = np.sort(s[m & use])
                curves[str(grp)] = self._curves(s[m], yv[m])
        pooled = self._curves(s, yv)
        if not curves:
            curves = {"*": pooled}
        grid = (
            np.array([float(self.target_rate)])
            if self.target_rate is not None
            else np.linspace(0.0, 1.0, self.grid_size + 1)
        )
        best: tuple[float, float, dict[str, float]] | None = None
        for r in grid:
            total = 0.0
            cut: dict[str, float] = {}
            for grp, (rate, correct, thr) in curves.items():
                band = (rate >= r - 1e-12) & (rate <= r + self.tolerance + 1e-12)
                if not band.any():  # no cut inside the band: the nearest one
                    j = int(np.argmin(np.abs(rate - r)))
                else:
                    j = int(np.flatnonzero(band)[np.argmax(correct[band])])
                total += float(correct[j])
                cut[grp] = float(thr[j])
            if best is None or total > best[0]:
                best = (total, float(r), cut)
        assert best is not None  # grid is never empty
        _, self.rate_, cuts = best
        self.thresholds_ = {k: v for k, v in cuts.items() if k != "*"}
        rate, _, thr = pooled
        self.pooled_threshold_ = float(thr[int(np.argmin(np.abs(rate - self.rate_)))])
        return self

    def _check(self) -> None:
        if self.pooled_.size == 0:
            raise ModelError("GroupThresholdOptimizer is not fitted")

    def predict(self, scores: ArrayLike, sensitive: ArrayLike) -> NDArray[np.int64]:
        """1 where the row's score reaches its group's threshold."""
        self._check()
        s = np.asarray(scores, dtype=np.float64)
        g = _groups(sensitive)
        thr = np.array([self.thresholds_.get(str(x), self.pooled_threshold_) for x in g])
        return (s >= thr).astype(np.int64)

    def transform(
        self, scores: ArrayLike, sensitive: ArrayLike, *, method: str = "shift"
    ) -> NDArray[np.float64]:
        """Mitigated scores in [0, 1] (for ranking metrics such as average precision).

        ``shift`` (default) moves each group's scores in log-odds so that its threshold lands
        on the pooled one: one threshold on the result makes exactly the mitigated decisions,
        and each group's ranking is unchanged. ``quantile`` maps each group through its own
        reference distribution instead, so every threshold gives equal rates (at a larger
        cost in ranking quality).
        """
        self._check()
        s = np.asarray(scores, dtype=np.float64)
        g = _groups(sensitive)
        out = np.empty_like(s)
        if method == "shift":
            eps = 1e-9
            logit = np.log(np.clip(s, eps, 1 - eps)) - np.log1p(-np.clip(s, eps, 1 - eps))

            def lg(v: float) -> float:
                v = min(max(v, eps), 1 - eps)
                return float(np.log(v) - np.log1p(-v))

            common = lg(self.pooled_threshold_)
            for grp in np.unique(g):
                m = g == grp
                own = self.thresholds_.get(str(grp), self.pooled_threshold_)
                out[m] = 1.0 / (1.0 + np.exp(-(logit[m] - lg(own) + common)))
            return out
        if method != "quantile":
            raise ValueError("method must be 'shift' or 'quantile'")
        for grp in np.unique(g):
            m = g == grp
            ref = self.reference_.get(str(grp), self.pooled_)
            lo = np.searchsorted(ref, s[m], side="left")
            hi = np.searchsorted(ref, s[m], side="right")
            out[m] = (lo + hi) / (2.0 * len(ref))
        return np.clip(out + 1e-9 * s, 0.0, 1.0)

    def to_json(self) -> dict[str, Any]:
        """The fitted thresholds (for model cards and per-model configuration)."""
        return {
            "constraint": self.constraint.value,
            "tolerance": self.tolerance,
            "rate": self.rate_,
            "thresholds": self.thresholds_,
            "pooled_threshold": self.pooled_threshold_,
        }


@dataclass
class ExponentiatedGradient:
    """Demographic-parity reductions (Agarwal et al. 2018) around any weighted classifier.

    Parameters
    ----------
    estimator:
        Unfitted scikit-learn classifier accepting ``sample_weight``.
    eps:
        Allowed selection-rate gap of each group from the overall rate.
    max_iter, eta:
        Iterations of the hedge player and its learning rate.
    bound:
        ``B``: the largest total Lagrange multiplier.
    random_state:
        Seeds the randomised predictions.
    """

    estimator: Any
    eps: float = 0.01
    max_iter: int = 50
    eta: float = 2.0
    bound: float | None = None
    random_state: int = 0
    predictors_: list[Any] = field(default_factory=list, init=False)
    weights_: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0), init=False)
    constant_: list[int | None] = field(default_factory=list, init=False)

    def fit(self, X: Any, y: ArrayLike, *, sensitive: ArrayLike) -> Self:
        yv = np.asarray(y).astype(np.int64)
        g = _groups(sensitive)
        n = len(yv)
        names = np.unique(g)
        onehot = (g[:, None] == names[None, :]).astype(np.float64)
        n_g = onehot.sum(axis=0)
        # d gamma_a / d h_i: the row's effect on group a's selection rate minus the overall rate.
        grad = onehot / n_g[None, :] - 1.0 / n
        bound = self.bound if self.bound is not None else 1.0 / self.eps
        k = 2 * len(names)
        theta = np.zeros(k)
        self.predictors_, self.constant_ = [], []
        gammas: list[NDArray[np.float64]] = []
        errors: list[float] = []
        for _ in range(self.max_iter):
            w = np.exp(theta)
            lam = bound * w / (1.0 + w.sum())
            lam_net = lam[: len(names)] - lam[len(names) :]
            cost = (1.0 - 2.0 * yv) / n + grad @ lam_net
            label = (cost < 0).astype(np.int64)
            weight = np.abs(cost)
            if weight.sum() <= 0 or len(np.unique(label)) < 2:
                h_pred = np.full(n, int(label[0]) if n else 0)
                self.predictors_.append(None)
                self.constant_.append(int(h_pred[0]))
            else:
                est = clone(self.estimator).fit(X, label, sample_weight=weight * n)
                h_pred = np.asarray(est.predict(X)).astype(np.int64)
                self.predictors_.append(est)
                self.constant_.append(None)
            rates = (onehot * h_pred[:, None]).sum(axis=0) / n_g - h_pred.mean()
            gamma = np.concatenate([rates, -rates])
            gammas.append(gamma)
            errors.append(float(np.mean(h_pred != yv)))
            # The step is scaled by 1/B as in the paper's analysis (eta = eta0 / B).
            theta = theta + self.eta / bound * (gamma - self.eps)
        # Weights over the iterates: the feasible mixture of least error is found by a small
        # search over suffix averages (the hedge iterates settle as the multipliers converge).
        G = np.array(gammas)
        E = np.array(errors)
        best: tuple[float, int] | None = None
        for start in range(len(E)):
            viol = float(np.max(G[start:].mean(axis=0)))
            err = float(E[start:].mean())
            key = err + bound * max(viol - self.eps, 0.0)
            if best is None or key < best[0]:
                best = (key, start)
        start = best[1] if best else 0
        wts = np.zeros(len(E))
        wts[start:] = 1.0 / (len(E) - start)
        self.weights_ = wts
        return self

    def _predictions(self, X: Any, n: int) -> NDArray[np.float64]:
        cols = []
        for est, const in zip(self.predictors_, self.constant_, strict=True):
            cols.append(
                np.full(n, float(const or 0)) if est is None else np.asarray(est.predict(X), float)
            )
        return np.column_stack(cols)

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Probability that the randomised classifier answers 1, per row (column 1)."""
        if self.weights_.size == 0:
            raise ModelError("ExponentiatedGradient is not fitted")
        n = len(X)
        active = self.weights_ > 0
        preds = self._predictions(X, n) if active.all() else self._active(X, n, active)
        p1 = preds @ self.weights_[active] if not active.all() else preds @ self.weights_
        return np.column_stack([1.0 - p1, p1])

    def _active(self, X: Any, n: int, active: NDArray[np.bool_]) -> NDArray[np.float64]:
        cols = []
        for i in np.flatnonzero(active):
            est, const = self.predictors_[i], self.constant_[i]
            cols.append(
                np.full(n, float(const or 0)) if est is None else np.asarray(est.predict(X), float)
            )
        return np.column_stack(cols)

    def predict(self, X: Any, *, random_state: int | None = None) -> NDArray[np.int64]:
        """Randomised decisions drawn from :meth:`predict_proba` (seeded)."""
        p1 = self.predict_proba(X)[:, 1]
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        return (rng.random(len(p1)) < p1).astype(np.int64)


def _logit(p: NDArray[np.float64]) -> NDArray[np.float64]:
    q = np.clip(p, _EPS, 1 - _EPS)
    return np.asarray(np.log(q) - np.log1p(-q), dtype=np.float64)


_EPS = 1e-9


@dataclass
class GroupScoreShift:
    """Group-aware thresholds for a whole band of operating points (post-processing).

    Each group gets one log-odds offset that lines the upper tail of its *genuine* rows'
    scores up with the pooled genuine rows' tail: the offset is the median, over the
    quantile levels of ``band``, of ``logit(pooled quantile) - logit(group quantile)``.
    Adding it to the group's log-odds makes the false-positive rate (nearly) equal across
    groups at *every* threshold whose pooled false-positive rate lies in ``1 - band``, so
    one fit serves several operating points (the gateway's review and decline bars, or
    flag rates of 1-3 %). Equivalently, group ``g`` is declined at a threshold ``t`` when
    its raw score reaches ``sigmoid(logit(t) - offset_g)``: a per-group threshold.

    Using many quantile levels instead of one cut per operating point makes the fit far
    less noisy on the small genuine-decline counts a validation window holds.

    Parameters
    ----------
    band:
        Quantile levels of the genuine scores matched (``(0.95, 0.995)``: the top 5 % to
        top 0.5 % of genuine rows, i.e. false-positive rates of 0.5-5 %).
    levels:
        Number of quantile levels in the band.
    min_group_size:
        Groups with fewer genuine fitting rows keep their scores (offset 0), reported in
        ``too_small_``.

    Attributes
    ----------
    offsets_:
        Log-odds offset per group.

    References
    ----------
    Hardt, Price, Srebro, "Equality of Opportunity in Supervised Learning", NeurIPS 2016
    (group-specific thresholds for error-rate parity).
    """

    band: tuple[float, float] = (0.95, 0.995)
    levels: int = 41
    min_group_size: int = 100
    offsets_: dict[str, float] = field(default_factory=dict, init=False)
    too_small_: tuple[str, ...] = field(default=(), init=False)
    fitted_: bool = field(default=False, init=False)

    def fit(self, scores: ArrayLike, y: ArrayLike, sensitive: ArrayLike) -> Self:
        lo, hi = self.band
        if not 0.0 < lo < hi < 1.0:
            raise ValueError("band must satisfy 0 < low < high < 1")
        s = np.asarray(scores, dtype=np.float64)
        yv = np.asarray(y).astype(np.int64)
        g = _groups(sensitive)
        if not (len(s) == len(yv) == len(g)) or len(s) == 0:
            raise DataValidationError("scores, labels and groups must be non-empty and aligned")
        neg = yv == 0
        if int(neg.sum()) < self.min_group_size:
            raise DataValidationError("too few genuine (label 0) rows to fit group offsets")
        qs = np.linspace(lo, hi, self.levels)
        pooled = _logit(np.quantile(s[neg], qs))
        offsets: dict[str, float] = {}
        small: list[str] = []
        for grp in np.unique(g):
            m = neg & (g == grp)
            if int(m.sum()) < self.min_group_size:
                small.append(str(grp))
                continue
            offsets[str(grp)] = float(np.median(pooled - _logit(np.quantile(s[m], qs))))
        self.offsets_ = offsets
        self.too_small_ = tuple(small)
        self.fitted_ = True
        return self

    def _check(self) -> None:
        if not self.fitted_:
            raise ModelError("GroupScoreShift is not fitted")

    def offset(self, group: str) -> float:
        """The group's log-odds offset (0 for groups not fitted)."""
        self._check()
        return self.offsets_.get(group, 0.0)

    def transform(self, scores: ArrayLike, sensitive: ArrayLike) -> NDArray[np.float64]:
        """Mitigated scores in (0, 1): one threshold on them gives FPR parity in the band."""
        self._check()
        s = np.asarray(scores, dtype=np.float64)
        g = _groups(sensitive)
        shift = np.array([self.offsets_.get(str(x), 0.0) for x in g], dtype=np.float64)
        return np.asarray(1.0 / (1.0 + np.exp(-(_logit(s) + shift))), dtype=np.float64)

    def thresholds(self, threshold: float) -> dict[str, float]:
        """Raw-score threshold per group equivalent to ``threshold`` on mitigated scores."""
        self._check()
        t = float(_logit(np.array([threshold]))[0])
        return {k: float(1.0 / (1.0 + np.exp(-(t - v)))) for k, v in self.offsets_.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "group_score_shift",
            "constraint": Constraint.FALSE_POSITIVE_RATE_PARITY.value,
            "band": list(self.band),
            "levels": self.levels,
            "min_group_size": self.min_group_size,
            "offsets": self.offsets_,
            "too_small": list(self.too_small_),
        }

    @classmethod
    def from_json(cls, data: Any) -> GroupScoreShift:
        """Rebuild a fitted shift; anything malformed is a :class:`ModelError`."""
        try:
            if data["kind"] != "group_score_shift":
                raise ValueError("kind")
            band = (float(data["band"][0]), float(data["band"][1]))
            offsets = {str(k): float(v) for k, v in dict(data["offsets"]).items()}
            out = cls(
                band=band, levels=int(data["levels"]), min_group_size=int(data["min_group_size"])
            )
            small = tuple(str(x) for x in data.get("too_small", []))
        except (KeyError, TypeError, ValueError, IndexError):
            raise ModelError("malformed group score shift") from None
        if not all(np.isfinite(v) for v in offsets.values()):
            raise ModelError("malformed group score shift")
        out.offsets_, out.too_small_, out.fitted_ = offsets, small, True
        return out


def reweighing_weights(y: ArrayLike, sensitive: ArrayLike) -> NDArray[np.float64]:
    """Kamiran-Calders weights ``P(group) P(label) / P(group, label)`` per row (mean 1)."""
    yv = pd.Series(np.asarray(y)).astype(str).to_numpy()
    g = _groups(sensitive)
    frame = pd.DataFrame({"g": g, "y": yv})
    n = len(frame)
    if n == 0:
        raise DataValidationError("nothing to reweigh (no rows)")
    p_g = frame["g"].map(frame["g"].value_counts() / n)
    p_y = frame["y"].map(frame["y"].value_counts() / n)
    p_gy = frame.groupby(["g", "y"])["g"].transform("size") / n
    return np.asarray(p_g * p_y / p_gy, dtype=np.float64)
