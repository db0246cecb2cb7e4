"""Group fairness audits of a classifier's decisions, built on fairlearn's ``MetricFrame``.

Per group: selection rate, false-positive and false-negative rates, precision and (when
scores are given) calibration. Summary gaps between the groups that are large enough to
judge: demographic-parity difference, equalised-odds difference, false-positive-rate
difference and the disparate-impact ratio with the four-fifths rule, each with a
percentile-bootstrap confidence interval (rows resampled within each group).

A group below ``min_group_size`` rows is reported as ``too_small`` and left out of every
gap: it is never called fair. A rate whose denominator (positives for the false-negative
rate, negatives for the false-positive rate, predicted positives for precision) is below
``min_rate_support`` is reported as ``None``.

References
----------
Bird et al., "Fairlearn: A toolkit for assessing and improving fairness in AI",
Microsoft Research MSR-TR-2020-32, 2020. https://fairlearn.org
Hardt, Price, Srebro, "Equality of Opportunity in Supervised Learning", NeurIPS 2016.
EEOC Uniform Guidelines on Employee Selection Procedures, 29 CFR 1607.4(D) (four-fifths rule).
Efron, Tibshirani, "An Introduction to the Bootstrap", Chapman & Hall, 1993.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
)
from numpy.typing import ArrayLike, NDArray

from shopguard.core.errors import DataValidationError

__all__ = [
    "AuditResult",
    "FairnessBars",
    "GroupStats",
    "Interval",
    "Verdict",
    "audit_predictions",
    "group_rates",
]

FOUR_FIFTHS = 0.8


class Verdict(StrEnum):
    WITHIN_BARS = "within_bars"
    OUTSIDE_BARS = "outside_bars"
    CANNOT_JUDGE = "cannot_judge"


@dataclass(frozen=True)
class FairnessBars:
    """The largest gaps (and smallest ratio) an audit accepts."""

    demographic_parity_difference: float = 0.1
    equalized_odds_difference: float = 0.1
    false_positive_rate_difference: float = 0.05
    disparate_impact_ratio: float = FOUR_FIFTHS


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class GroupStats:
    group: str
    n: int
    n_positive: int
    n_negative: int
    status: str  # "ok" or "too_small"
    selection_rate: float
    false_positive_rate: float | None
    false_negative_rate: float | None
    precision: float | None
    mean_score: float | None = None
    calibration_gap: float | None = None  # mean score minus observed positive rate
    expected_calibration_error: float | None = None


@dataclass(frozen=True)
class AuditResult:
    """A fairness audit of one sensitive attribute; ``to_json`` gives plain types."""

    attribute: str
    n: int
    min_group_size: int
    groups: tuple[GroupStats, ...]
    judged: tuple[str, ...]
    too_small: tuple[str, ...]
    demographic_parity_difference: Interval | None
    equalized_odds_difference: Interval | None
    false_positive_rate_difference: Interval | None
    disparate_impact_ratio: Interval | None
    four_fifths_rule: bool | None
    bars: FairnessBars
    verdict: Verdict
    notes: tuple[str, ...] = field(default=())

    def group(self, name: str) -> GroupStats:
        for g in self.groups:
            if g.group == name:
                return g
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["verdict"] = self.verdict.value
        return out


def _as_1d(values: ArrayLike, name: str) -> NDArray[Any]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise DataValidationError(f"{name} must be one-dimensional", column=name)
    return arr


def _rate(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.maximum(den, 1), np.nan)


def group_rates(
    y_true: NDArray[np.int64], y_pred: NDArray[np.int64], codes: NDArray[np.int64], k: int
) -> dict[str, NDArray[np.float64]]:
    """Counts and rates per group code (0..k-1), vectorised; the bootstrap's inner loop."""
    n = np.bincount(codes, minlength=k).astype(np.float64)
    pos = np.bincount(codes, weights=y_true, minlength=k).astype(np.float64)
    sel = np.bincount(codes, weights=y_pred, minlength=k).astype(np.float64)
    tp = np.bincount(codes, weights=y_true * y_pred, minlength=k).astype(np.float64)
    fp = sel - tp
    neg = n - pos
    return {
        "n": n,
        "pos": pos,
        "neg": neg,
        "selection_rate": _rate(sel, n),
        "tpr": _rate(tp, pos),
        "fpr": _rate(fp, neg),
    }


def _gaps(
    rates: dict[str, NDArray[np.float64]], tpr_ok: NDArray[np.bool_], fpr_ok: NDArray[np.bool_]
) -> tuple[float, float, float, float]:
    sr = rates["selection_rate"]
    dp = float(np.nanmax(sr) - np.nanmin(sr))
    smax = float(np.nanmax(sr))
    di = float(np.nanmin(sr) / smax) if smax > 0 else 1.0
    fpr = rates["fpr"][fpr_ok]
    tpr = rates["tpr"][tpr_ok]
    fpr_d = float(np.max(fpr) - np.min(fpr)) if fpr.size >= 2 else float("nan")
    tpr_d = float(np.max(tpr) - np.min(tpr)) if tpr.size >= 2 else float("nan")
    eo = float(np.nanmax([fpr_d, tpr_d])) if not (np.isnan(fpr_d) and np.isnan(tpr_d)) else np.nan
    return dp, eo, fpr_d, di


def _precision(y_true: NDArray[Any], y_pred: NDArray[Any]) -> float:
    predicted = int(np.sum(y_pred))
    return float(np.sum(y_true * y_pred) / predicted) if predicted else float("nan")


def _ece(y: NDArray[np.int64], s: NDArray[np.float64], bins: int = 10) -> float:
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() * abs(float(s[m].mean()) - float(y[m].mean()))
    return total / len(y)


def _none(x: float) -> float | None:
    return None if x is None or np.isnan(x) else float(x)


def audit_predictions(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    sensitive: ArrayLike,
    *,
    y_score: ArrayLike | None = None,
    attribute: str = "group",
    min_group_size: int = 30,
    min_rate_support: int = 10,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    bars: FairnessBars | None = None,
    random_state: int = 0,
) -> AuditResult:
    """Audit binary decisions ``y_pred`` against labels ``y_true`` across ``sensitive`` groups.

    Parameters
    ----------
    y_true, y_pred:
        0/1 labels and decisions (1 = the positive decision: approved, flagged...).
    sensitive:
        Group of each row (any hashable values; missing values are refused).
    y_score:
        Optional scores in [0, 1] for the calibration columns.
    min_group_size:
        Groups with fewer rows are reported ``too_small`` and excluded from the gaps.
    min_rate_support:
        A rate whose denominator is smaller is ``None`` and excluded from its gap.
    n_bootstrap:
        Bootstrap resamples for the confidence intervals (0: intervals collapse on the value).

    Raises
    ------
    DataValidationError
        Lengths differ, labels or decisions are not 0/1, a group value is missing.
    """
    yt = _as_1d(y_true, "y_true")
    yp = _as_1d(y_pred, "y_pred")
    groups_raw = pd.Series(_as_1d(sensitive, attribute))
    if not (len(yt) == len(yp) == len(groups_raw)):
        raise DataValidationError("labels, decisions and groups differ in length")
    if len(yt) == 0:
        raise DataValidationError("nothing to audit (no rows)")
    if groups_raw.isna().any():
        raise DataValidationError("missing sensitive value", column=attribute)
    for name, arr in (("y_true", yt), ("y_pred", yp)):
        if pd.isna(arr).any():
            raise DataValidationError("missing label" if name == "y_true" else "missing decision")
        if not np.isin(arr, (0, 1)).all():
            raise DataValidationError(f"{name} must hold 0/1 values", column=name)
    yt = yt.astype(np.int64)
    yp = yp.astype(np.int64)
    scores = None
    if y_score is not None:
        scores = _as_1d(y_score, "y_score").astype(np.float64)
        if len(scores) != len(yt) or np.isnan(scores).any():
            raise DataValidationError("scores must match the rows and hold no missing values")
    groups = groups_raw.astype(str).to_numpy()
    bars = bars or FairnessBars()

    frame = MetricFrame(
        metrics={
            "count": count,
            "selection_rate": selection_rate,
            "false_positive_rate": false_positive_rate,
            "false_negative_rate": false_negative_rate,
            "precision": _precision,
        },
        y_true=yt,
        y_pred=yp,
        sensitive_features=pd.Series(groups, name=attribute),
    )
    by_group = frame.by_group
    names = [str(g) for g in by_group.index]
    code_of = {g: i for i, g in enumerate(names)}
    codes = np.array([code_of[g] for g in groups], dtype=np.int64)
    k = len(names)
    base = group_rates(yt, yp, codes, k)

    stats: list[GroupStats] = []
    for i, g in enumerate(names):
        n = int(base["n"][i])
        pos, neg = int(base["pos"][i]), int(base["neg"][i])
        row = by_group.loc[g]
        m = codes == i
        predicted = int(yp[m].sum())
        mean_score = calib = ece = None
        if scores is not None:
            mean_score = float(scores[m].mean())
            calib = mean_score - float(yt[m].mean())
            ece = _ece(yt[m], scores[m])
        stats.append(
            GroupStats(
                group=g,
                n=n,
                n_positive=pos,
                n_negative=neg,
                status="ok" if n >= min_group_size else "too_small",
                selection_rate=float(row["selection_rate"]),
                false_positive_rate=_none(row["false_positive_rate"])
                if neg >= min_rate_support
                else None,
                false_negative_rate=_none(row["false_negative_rate"])
                if pos >= min_rate_support
                else None,
                precision=_none(row["precision"]) if predicted >= min_rate_support else None,
                mean_score=mean_score,
                calibration_gap=calib,
                expected_calibration_error=ece,
            )
        )
    judged_mask = base["n"] >= min_group_size
    judged = tuple(g for g, ok in zip(names, judged_mask, strict=True) if ok)
    too_small = tuple(g for g, ok in zip(names, judged_mask, strict=True) if not ok)
    notes: list[str] = []
    if too_small:
        notes.append(
            f"{len(too_small)} group(s) below {min_group_size} rows are too small to judge: "
            + ", ".join(too_small)
        )
    if len(judged) < 2:
        notes.append("fewer than two groups are large enough to compare; no verdict")
        return AuditResult(
            attribute=attribute,
            n=len(yt),
            min_group_size=min_group_size,
            groups=tuple(stats),
            judged=judged,
            too_small=too_small,
            demographic_parity_difference=None,
            equalized_odds_difference=None,
            false_positive_rate_difference=None,
            disparate_impact_ratio=None,
            four_fifths_rule=None,
            bars=bars,
            verdict=Verdict.CANNOT_JUDGE,
            notes=tuple(notes),
        )

    keep = judged_mask[codes]
    sub_codes = np.cumsum(judged_mask)[codes[keep]] - 1
    yt_k, yp_k = yt[keep], yp[keep]
    kk = len(judged)
    r0 = group_rates(yt_k, yp_k, sub_codes, kk)
    tpr_ok = r0["pos"] >= min_rate_support
    fpr_ok = r0["neg"] >= min_rate_support
    if tpr_ok.sum() < 2:
        notes.append(f"fewer than two groups have {min_rate_support} positives: TPR gap not judged")
    if fpr_ok.sum() < 2:
        notes.append(f"fewer than two groups have {min_rate_support} negatives: FPR gap not judged")
    point = _gaps(r0, tpr_ok, fpr_ok)

    rng = np.random.default_rng(random_state)
    members = [np.flatnonzero(sub_codes == j) for j in range(kk)]
    boot = np.empty((n_bootstrap, 4))
    for b in range(n_bootstrap):
        idx = np.concatenate([m[rng.integers(0, len(m), len(m))] for m in members])
        boot[b] = _gaps(group_rates(yt_k[idx], yp_k[idx], sub_codes[idx], kk), tpr_ok, fpr_ok)
    alpha = (1 - confidence) / 2

    def interval(j: int) -> Interval | None:
        v = point[j]
        if np.isnan(v):
            return None
        if n_bootstrap == 0:
            return Interval(v, v, v)
        col = boot[:, j][~np.isnan(boot[:, j])]
        lo, hi = np.quantile(col, [alpha, 1 - alpha]) if col.size else (v, v)
        return Interval(float(v), float(lo), float(hi))

    dp, eo, fpr_d, di = (interval(j) for j in range(4))
    within = [
        dp is None or dp.value <= bars.demographic_parity_difference,
        eo is None or eo.value <= bars.equalized_odds_difference,
        fpr_d is None or fpr_d.value <= bars.false_positive_rate_difference,
        di is None or di.value >= bars.disparate_impact_ratio,
    ]
    return AuditResult(
        attribute=attribute,
        n=len(yt),
        min_group_size=min_group_size,
        groups=tuple(stats),
        judged=judged,
        too_small=too_small,
        demographic_parity_difference=dp,
        equalized_odds_difference=eo,
        false_positive_rate_difference=fpr_d,
        disparate_impact_ratio=di,
        four_fifths_rule=None if di is None else di.value >= FOUR_FIFTHS,
        bars=bars,
        verdict=Verdict.WITHIN_BARS if all(within) else Verdict.OUTSIDE_BARS,
        notes=tuple(notes),
    )


def sensitive_columns(frame: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """Check that every requested sensitive column exists; name the first that does not."""
    for name in names:
        if name not in frame.columns:
            raise DataValidationError("unknown sensitive column", column=name)
    return list(names)
