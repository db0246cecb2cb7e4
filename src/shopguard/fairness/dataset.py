"""Dataset audits: who is in the data, and which features stand in for a sensitive attribute.

* :func:`representation` compares each group's share of a dataset (e.g. training rows)
  with its share of a reference population (e.g. the customer base), with the ratio and a
  Wilson interval on the dataset share.
* :func:`proxy_scan` scores every other column by how well it alone predicts the sensitive
  attribute: numeric columns are cut into deciles, rare categories pooled, and the
  predictor "most common group of this value" is fitted on 2/3 of the rows and tested on the
  rest (balanced accuracy; chance is 1/k). Normalised mutual information is reported beside
  it. A column above ``threshold`` is flagged as a proxy (e.g. a postcode for a region).

References
----------
Feldman, Friedler, Moeller, Scheidegger, Venkatasubramanian, "Certifying and removing
disparate impact", KDD 2015 (predictability of the protected attribute).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score, normalized_mutual_info_score

from shopguard.core.errors import DataValidationError

__all__ = ["ProxyFinding", "RepresentationRow", "proxy_scan", "representation"]


@dataclass(frozen=True)
class RepresentationRow:
    group: str
    n: int
    share: float
    share_low: float
    share_high: float
    reference_share: float
    ratio: float  # share / reference share; < 0.8 under-represented
    status: str  # "ok", "under", "over", "too_small"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return float(max(mid - half, 0.0)), float(min(mid + half, 1.0))


def representation(
    data: pd.Series,
    reference: pd.Series,
    *,
    min_group_size: int = 30,
    tolerance: float = 0.8,
) -> list[RepresentationRow]:
    """Each group's share in ``data`` against its share in ``reference``.

    A group is ``under`` when its share is below ``tolerance`` x the reference share and
    the Wilson interval excludes the reference share; ``over`` when above 1/``tolerance``
    likewise; ``too_small`` when it has fewer than ``min_group_size`` rows in ``data``.
    """
    if data.isna().any() or reference.isna().any():
        raise DataValidationError("missing sensitive value")
    d = data.astype(str).value_counts()
    r = reference.astype(str).value_counts(normalize=True)
    n = int(d.sum())
    rows = []
    for g in sorted(set(d.index) | set(r.index)):
        k = int(d.get(g, 0))
        ref = float(r.get(g, 0.0))
        share = k / n if n else 0.0
        lo, hi = _wilson(k, n)
        ratio = share / ref if ref > 0 else float("inf")
        if k < min_group_size:
            status = "too_small"
        elif ratio < tolerance and hi < ref:
            status = "under"
        elif ratio > 1 / tolerance and lo > ref:
            status = "over"
        else:
            status = "ok"
        rows.append(RepresentationRow(g, k, share, lo, hi, ref, ratio, status))
    return rows


@dataclass(frozen=True)
class ProxyFinding:
    feature: str
    balanced_accuracy: float
    chance: float
    lift: float  # (balanced accuracy - chance) / (1 - chance): 0 = no information, 1 = perfect
    normalized_mutual_info: float
    is_proxy: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _discretise(col: pd.Series, *, min_count: int) -> pd.Series:
    if pd.api.types.is_numeric_dtype(col) and col.nunique() > 20:
        ranks = col.rank(method="first", pct=True)
        return (ranks * 10).clip(upper=9.999).fillna(-1).astype(int).astype(str)
    text = col.astype(str).fillna("<missing>")
    if text.nunique() > 0.5 * len(text):
        # Near-unique text (postcodes, phone numbers): its shape still carries the format
        # of a country or area, e.g. "AA9 9AA" vs "99999".
        text = text.str.replace(r"[A-Za-z]", "A", regex=True).str.replace(r"\d", "9", regex=True)
    counts = text.map(text.value_counts())
    return text.where(counts >= min_count, "<rare>")


def proxy_scan(
    frame: pd.DataFrame,
    sensitive: str,
    *,
    features: Sequence[str] | None = None,
    threshold: float = 0.3,
    min_count: int = 5,
    random_state: int = 0,
) -> list[ProxyFinding]:
    """Rank columns by how well each alone predicts ``sensitive`` (highest lift first)."""
    if sensitive not in frame.columns:
        raise DataValidationError("unknown sensitive column", column=sensitive)
    target = frame[sensitive]
    if target.isna().any():
        raise DataValidationError("missing sensitive value", column=sensitive)
    target = target.astype(str)
    k = target.nunique()
    if k < 2:
        raise DataValidationError("the sensitive column has a single value", column=sensitive)
    cols = [c for c in (features or frame.columns) if c != sensitive]
    for c in cols:
        if c not in frame.columns:
            raise DataValidationError("unknown feature column", column=c)
    rng = np.random.default_rng(random_state)
    test = rng.random(len(frame)) < 1 / 3
    chance = 1.0 / k
    majority = target[~test].value_counts().index[0]
    out = []
    for c in cols:
        x = _discretise(frame[c], min_count=min_count)
        table = pd.crosstab(x[~test], target[~test])
        best = table.idxmax(axis=1)
        pred = x[test].map(best).fillna(majority)
        bacc = float(balanced_accuracy_score(target[test], pred)) if test.any() else chance
        lift = max(0.0, (bacc - chance) / (1 - chance))
        nmi = float(normalized_mutual_info_score(target, x))
        out.append(ProxyFinding(str(c), bacc, chance, lift, nmi, lift >= threshold))
    return sorted(out, key=lambda f: -f.lift)
