"""Point-in-time features for card transactions (Fraud Detection Handbook layout).

Every feature of a transaction at time ``t`` uses only what is known at ``t``:

* customer windows count the customer's transactions in ``(t - w, t]`` (the transaction
  itself included, later rows never), as the handbook's ``rolling("<w>d")`` does;
* the customer's "prior" statistics use only earlier transactions, so the current amount can
  be compared with the customer's own habits (scenario 3 multiplies amounts by 5);
* terminal risk uses fraud labels of ``(t - delay - w, t - delay]`` only: a label becomes
  known ``delay`` days after its transaction (the handbook's delay period).

The computation is vectorised numpy over one sort by ``(entity, time, input order)``, so the
same code builds 585k rows in about a second and one row against its history in well under
a millisecond.

References
----------
Le Borgne, Siblini, Lebichot, Bontempi, "Reproducible Machine Learning for Credit Card Fraud
Detection - Practical Handbook", ULB / Worldline, 2022, chapter 3.4 (baseline feature
transformation). https://fraud-detection-handbook.github.io/fraud-detection-handbook/
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = [
    "CUSTOMER_WINDOWS_DAYS",
    "EXTRA_NUMERIC_COLUMNS",
    "TERMINAL_WINDOWS_DAYS",
    "base_feature_names",
    "build_features",
    "feature_matrix",
]

CUSTOMER_WINDOWS_DAYS: tuple[int, ...] = (1, 7, 30)
TERMINAL_WINDOWS_DAYS: tuple[int, ...] = (1, 7, 30)
#: Optional numeric columns of the synthetic store, used when present at training time.
#: Anything else (``TX_FRAUD_SCENARIO``, ``fraud_pattern``, ...) is never an input.
EXTRA_NUMERIC_COLUMNS: tuple[str, ...] = (
    "device_is_new",
    "ship_bill_mismatch",
    "card_present",
    "ip_country_mismatch",
    "account_age_days",
)

_DAY = 86_400
_PRIOR_DAYS = 30
# "Old" baseline: the customer's transactions of (t - 30 d, t - 14 d], before any compromise
# that is still running (the handbook's compromised cards stay compromised for 14 days).
_OLD_FROM_DAYS, _OLD_TO_DAYS = 30, 14
# Separates entities in the combined (entity, time) sort key; > any time span in seconds.
_ENTITY_STRIDE = np.int64(1) << np.int64(36)

FloatArray = NDArray[np.float64]


def base_feature_names() -> list[str]:
    """Names of the engineered features, in model column order (extras follow)."""
    names = ["TX_AMOUNT", "TX_DURING_WEEKEND", "TX_DURING_NIGHT", "TX_HOUR"]
    for w in CUSTOMER_WINDOWS_DAYS:
        names += [f"CUSTOMER_ID_NB_TX_{w}DAY_WINDOW", f"CUSTOMER_ID_AVG_AMOUNT_{w}DAY_WINDOW"]
    names += [
        "CUSTOMER_PRIOR_NB_TX",
        "CUSTOMER_AMOUNT_RATIO_PRIOR_MEAN",
        "CUSTOMER_AMOUNT_ZSCORE_PRIOR",
        "CUSTOMER_AMOUNT_RATIO_PRIOR_MAX",
        "CUSTOMER_AMOUNT_RATIO_1DAY_VS_PRIOR",
        "CUSTOMER_NB_SPIKES_7DAY_WINDOW",
        "CUSTOMER_SECONDS_SINCE_PREV_TX",
        "CUSTOMER_AMOUNT_RATIO_OLD_MEAN",
        "CUSTOMER_OLD_NB_TX",
        "CUSTOMER_NB_PRIOR_SPIKES_14DAY_WINDOW",
        "CUSTOMER_AMOUNT_RATIO_CLEAN_MEAN",
    ]
    for w in TERMINAL_WINDOWS_DAYS:
        names += [f"TERMINAL_ID_NB_TX_{w}DAY_WINDOW", f"TERMINAL_ID_RISK_{w}DAY_WINDOW"]
    names += [
        "TERMINAL_ID_NB_TX_1DAY_RECENT",
        "TERMINAL_ID_DAYS_SINCE_FIRST_KNOWN_FRAUD",
        "TERMINAL_ID_DAYS_SINCE_LAST_KNOWN_FRAUD",
        "TERMINAL_ID_RISK_SINCE_FIRST_KNOWN_FRAUD",
        "TERMINAL_ID_DAYS_SINCE_FRAUD_RUN_START",
    ]
    return names


class _Groups:
    """Rows sorted by (entity, time, input order) with window look-ups."""

    def __init__(self, entity: NDArray[np.int64], seconds: NDArray[np.int64]) -> None:
        n = entity.shape[0]
        self.order = np.lexsort((np.arange(n), seconds, entity))
        self.key = entity[self.order] * _ENTITY_STRIDE + seconds[self.order]
        self.pos = np.arange(n, dtype=np.int64)  # position of each sorted row
        # First position of each row's entity (start of its whole history).
        ent_sorted = entity[self.order]
        starts = np.r_[True, ent_sorted[1:] != ent_sorted[:-1]]
        self.group_start = np.maximum.accumulate(np.where(starts, self.pos, 0))

    def lo(self, seconds_back: int) -> NDArray[np.int64]:
        """First sorted position inside ``(t - seconds_back, ...]`` of each sorted row's entity."""
        return np.searchsorted(self.key, self.key - seconds_back, side="right").astype(np.int64)

    def lo_hi_delayed(self, delay: int, window: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Sorted range ``[lo, hi)`` of ``(t - delay - window, t - delay]`` (same entity)."""
        hi = np.searchsorted(self.key, self.key - delay, side="right").astype(np.int64)
        lo = np.searchsorted(self.key, self.key - delay - window, side="right").astype(np.int64)
        return lo, hi


def _prefix(values: FloatArray) -> FloatArray:
    return np.concatenate(([0.0], np.cumsum(values)))


def _safe_div(num: FloatArray, den: FloatArray, fill: float = 0.0) -> FloatArray:
    out = np.full(num.shape, fill, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _running_max_prior(amounts: FloatArray, lo: NDArray[np.int64]) -> FloatArray:
    """Max amount over earlier rows ``[lo, pos)`` of the same entity, 0 when none.

    A sparse table answers each range-maximum query in O(1); built in O(n log n).
    """
    n = amounts.shape[0]
    pos = np.arange(n, dtype=np.int64)
    out = np.zeros(n, dtype=np.float64)
    has = pos > lo
    if not has.any():
        return out
    left = lo[has]
    right = pos[has]  # exclusive
    length = right - left
    max_len = int(length.max())
    levels = [amounts]
    span = 1
    while span * 2 <= max_len:
        prev = levels[-1]
        levels.append(np.maximum(prev[:-span], prev[span:]))
        span *= 2
    k = np.floor(np.log2(length)).astype(np.int64)
    result = np.empty(left.shape[0], dtype=np.float64)
    for level in np.unique(k):
        sel = k == level
        table = levels[int(level)]
        a = table[left[sel]]
        b = table[right[sel] - (1 << int(level))]
        result[sel] = np.maximum(a, b)
    out[has] = result
    return out


def _feature_columns(
    frame: pd.DataFrame, *, delay_days: int, extra_columns: Sequence[str]
) -> dict[str, FloatArray]:
    n = len(frame)
    epoch = frame["TX_DATETIME"].to_numpy(dtype="datetime64[s]").astype(np.int64)
    seconds = epoch - epoch.min() if n else epoch
    amount = frame["TX_AMOUNT"].to_numpy(dtype=np.float64)
    if "TX_FRAUD" in frame.columns:
        label = frame["TX_FRAUD"].to_numpy(dtype=np.float64)
    else:
        label = np.full(n, np.nan)
    feats: dict[str, FloatArray] = {"TX_AMOUNT": amount.copy()}

    # Calendar features straight from epoch seconds (1970-01-01 was a Thursday: weekday 3).
    weekday = (epoch // _DAY + 3) % 7
    second_of_day = epoch % _DAY
    feats["TX_DURING_WEEKEND"] = (weekday >= 5).astype(np.float64)
    feats["TX_DURING_NIGHT"] = (second_of_day < 7 * 3600).astype(np.float64)
    feats["TX_HOUR"] = second_of_day.astype(np.float64) / 3600.0

    feats.update(_customer_features(frame["CUSTOMER_ID"], seconds, amount))
    feats.update(_terminal_features(frame["TERMINAL_ID"], seconds, label, delay_days * _DAY))
    for col in extra_columns:
        feats[col] = frame[col].to_numpy(dtype=np.float64)
    return feats


def build_features(
    frame: pd.DataFrame,
    *,
    delay_days: int = 7,
    extra_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Features for every row of ``frame``, in ``frame``'s row order.

    Parameters
    ----------
    frame:
        Validated transactions (see :func:`validate_transactions`): ``TX_DATETIME``,
        ``CUSTOMER_ID``, ``TERMINAL_ID``, ``TX_AMOUNT``; ``TX_FRAUD`` when labels are known
        (``NaN`` = unknown). Every row is both scored and history for the others.
    delay_days:
        Days before a fraud label is known; terminal risk only uses older labels.
    extra_columns:
        Whitelisted numeric columns copied as features (must be present in ``frame``).

    Returns
    -------
    pandas.DataFrame
        One float64 column per feature, index of ``frame``.
    """
    feats = _feature_columns(frame, delay_days=delay_days, extra_columns=extra_columns)
    names = base_feature_names() + list(extra_columns)
    return pd.DataFrame({k: feats[k] for k in names}, index=frame.index)


def feature_matrix(
    frame: pd.DataFrame,
    *,
    delay_days: int = 7,
    extra_columns: Sequence[str] = (),
    last: int | None = None,
) -> FloatArray:
    """:func:`build_features` as a float64 matrix, optionally only its ``last`` rows (fast)."""
    feats = _feature_columns(frame, delay_days=delay_days, extra_columns=extra_columns)
    names = base_feature_names() + list(extra_columns)
    start = 0 if last is None else len(frame) - last
    return np.column_stack([feats[k][start:] for k in names]).astype(np.float64, copy=False)


def _codes(ids: pd.Series) -> NDArray[np.int64]:
    codes, _ = pd.factorize(ids, sort=False)
    return codes.astype(np.int64)


def _customer_features(
    ids: pd.Series, seconds: NDArray[np.int64], amount: FloatArray
) -> dict[str, FloatArray]:
    g = _Groups(_codes(ids), seconds)
    n = amount.shape[0]
    amt = amount[g.order]
    cs = _prefix(amt)
    cs2 = _prefix(amt * amt)
    hi = g.pos + 1  # the row itself included, later rows with the same time excluded
    out: dict[str, FloatArray] = {}
    for w in CUSTOMER_WINDOWS_DAYS:
        lo = g.lo(w * _DAY)
        cnt = (hi - lo).astype(np.float64)
        out[f"CUSTOMER_ID_NB_TX_{w}DAY_WINDOW"] = cnt
        out[f"CUSTOMER_ID_AVG_AMOUNT_{w}DAY_WINDOW"] = (cs[hi] - cs[lo]) / cnt
        if w == 1:
            lo1, cnt1 = lo, cnt

    # Prior = earlier transactions of the last 30 days, the current one excluded.
    lo_p = g.lo(_PRIOR_DAYS * _DAY)
    pcnt = (g.pos - lo_p).astype(np.float64)
    psum = cs[g.pos] - cs[lo_p]
    psum2 = cs2[g.pos] - cs2[lo_p]
    pmean = _safe_div(psum, pcnt, np.nan)
    pvar = np.maximum(_safe_div(psum2, pcnt, np.nan) - pmean * pmean, 0.0)
    pstd = np.sqrt(pvar)
    pmax = _running_max_prior(amt, lo_p)
    out["CUSTOMER_PRIOR_NB_TX"] = pcnt
    out["CUSTOMER_AMOUNT_RATIO_PRIOR_MEAN"] = _safe_div(amt, pmean, np.nan)
    out["CUSTOMER_AMOUNT_ZSCORE_PRIOR"] = _safe_div(
        amt - np.nan_to_num(pmean), np.where(pcnt >= 2, pstd + 1.0, 0.0), np.nan
    )
    out["CUSTOMER_AMOUNT_RATIO_PRIOR_MAX"] = _safe_div(amt, pmax, np.nan)
    day_mean = (cs[g.pos + 1] - cs[lo1]) / cnt1
    out["CUSTOMER_AMOUNT_RATIO_1DAY_VS_PRIOR"] = _safe_div(day_mean, pmean, np.nan)

    # Spending spikes: transactions of the last 7 days (current included) above 3x the
    # customer's prior 30-day mean *at that transaction's own time* (never a later mean).
    spike = (amt > 3.0 * np.nan_to_num(pmean, nan=np.inf)).astype(np.float64)
    cs_sp = _prefix(spike)
    lo7 = g.lo(7 * _DAY)
    out["CUSTOMER_NB_SPIKES_7DAY_WINDOW"] = cs_sp[g.pos + 1] - cs_sp[lo7]
    lo14 = g.lo(14 * _DAY)
    out["CUSTOMER_NB_PRIOR_SPIKES_14DAY_WINDOW"] = cs_sp[g.pos] - cs_sp[lo14]
    # Mean of the prior 30 days without the spikes: a baseline a running compromise
    # (amounts x5) does not inflate.
    calm = 1.0 - spike
    cs_calm_n = _prefix(calm)
    cs_calm_amt = _prefix(calm * amt)
    cmean = _safe_div(
        cs_calm_amt[g.pos] - cs_calm_amt[lo_p], cs_calm_n[g.pos] - cs_calm_n[lo_p], np.nan
    )
    out["CUSTOMER_AMOUNT_RATIO_CLEAN_MEAN"] = _safe_div(amt, cmean, np.nan)

    prev_same = g.pos > g.group_start
    since = np.full(n, np.nan)
    idx = g.pos[prev_same]
    since[prev_same] = (g.key[idx] - g.key[idx - 1]).astype(np.float64)
    out["CUSTOMER_SECONDS_SINCE_PREV_TX"] = since

    lo_old = g.lo(_OLD_FROM_DAYS * _DAY)
    hi_old = np.minimum(g.lo(_OLD_TO_DAYS * _DAY), g.pos)
    ocnt = np.maximum(hi_old - lo_old, 0).astype(np.float64)
    omean = _safe_div(cs[np.maximum(hi_old, lo_old)] - cs[lo_old], ocnt, np.nan)
    out["CUSTOMER_AMOUNT_RATIO_OLD_MEAN"] = _safe_div(amt, omean, np.nan)
    out["CUSTOMER_OLD_NB_TX"] = ocnt
    return {k: _unsort(v, g.order) for k, v in out.items()}


def _terminal_features(
    ids: pd.Series, seconds: NDArray[np.int64], label: FloatArray, delay: int
) -> dict[str, FloatArray]:
    g = _Groups(_codes(ids), seconds)
    lab = label[g.order]
    known = ~np.isnan(lab)
    cs_known = _prefix(known.astype(np.float64))
    cs_fraud = _prefix(np.where(known, lab, 0.0))
    out: dict[str, FloatArray] = {}
    for w in TERMINAL_WINDOWS_DAYS:
        lo, hi = g.lo_hi_delayed(delay, w * _DAY)
        # hi <= pos always (delay > 0 keeps the row itself out); clip for delay == 0.
        hi = np.minimum(hi, g.pos)
        lo = np.minimum(lo, hi)
        nb = cs_known[hi] - cs_known[lo]
        out[f"TERMINAL_ID_NB_TX_{w}DAY_WINDOW"] = nb
        out[f"TERMINAL_ID_RISK_{w}DAY_WINDOW"] = _safe_div(cs_fraud[hi] - cs_fraud[lo], nb, 0.0)
    lo1 = g.lo(_DAY)
    out["TERMINAL_ID_NB_TX_1DAY_RECENT"] = (g.pos + 1 - lo1).astype(np.float64)

    # First / last known fraud in the longest window (a compromise has a start and an end).
    is_fraud = known & (lab == 1)
    lo, hi = g.lo_hi_delayed(delay, max(TERMINAL_WINDOWS_DAYS) * _DAY)
    hi = np.minimum(hi, g.pos)
    lo = np.minimum(lo, hi)
    n = lab.shape[0]
    idx = np.arange(n, dtype=np.int64)
    # last fraud position strictly before hi; first fraud position at or after lo.
    last_at = np.maximum.accumulate(np.where(is_fraud, idx, -1))
    nxt = np.where(is_fraud, idx, n)
    first_from = np.minimum.accumulate(nxt[::-1])[::-1]
    last = np.where(hi > 0, last_at[np.maximum(hi - 1, 0)], -1)
    first = np.where(lo < n, first_from[np.minimum(lo, n - 1)], n)
    has = (last >= lo) & (last >= 0) & (first < hi)
    now = g.key
    days_first = np.full(n, np.nan)
    days_last = np.full(n, np.nan)
    days_first[has] = (now[has] - g.key[first[has]]) / _DAY
    days_last[has] = (now[has] - g.key[last[has]]) / _DAY
    out["TERMINAL_ID_DAYS_SINCE_FIRST_KNOWN_FRAUD"] = days_first
    out["TERMINAL_ID_DAYS_SINCE_LAST_KNOWN_FRAUD"] = days_last
    # Share of fraud among the known rows since the first known fraud (1.0 while a
    # compromise runs, even when genuine rows before it dilute the fixed windows).
    first_c = np.minimum(first, hi)
    nb_since = cs_known[hi] - cs_known[first_c]
    out["TERMINAL_ID_RISK_SINCE_FIRST_KNOWN_FRAUD"] = _safe_div(
        cs_fraud[hi] - cs_fraud[first_c], nb_since, 0.0
    )
    # Current run of known frauds: starts after the last known genuine row before hi.
    is_genuine = known & (lab == 0)
    last_gen_at = np.maximum.accumulate(np.where(is_genuine, idx, -1))
    last_gen = np.where(hi > 0, last_gen_at[np.maximum(hi - 1, 0)], -1)
    run_from = np.maximum(np.maximum(last_gen + 1, lo), 0)
    run_first = np.where(run_from < n, first_from[np.minimum(run_from, n - 1)], n)
    in_run = has & (last > last_gen) & (run_first < hi)
    days_run = np.full(n, np.nan)
    days_run[in_run] = (now[in_run] - g.key[run_first[in_run]]) / _DAY
    out["TERMINAL_ID_DAYS_SINCE_FRAUD_RUN_START"] = days_run
    return {k: _unsort(v, g.order) for k, v in out.items()}


def _unsort(values: FloatArray, order: NDArray[np.int64]) -> FloatArray:
    out = np.empty_like(values)
    out[order] = values
    return out
