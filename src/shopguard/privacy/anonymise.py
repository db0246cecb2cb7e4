"""k-anonymity and l-diversity for training extracts, by generalisation and suppression.

Each quasi-identifier gets a generalisation hierarchy (numbers -> ever wider
intervals, codes such as postcodes -> shorter prefixes, dates -> month, year,
decade, categories -> ``*``). The search walks the whole lattice of level
combinations when it is small (a few thousand nodes: every extract with up to
five quasi-identifiers) and keeps the node with the least information loss
(Sweeney's precision metric) whose equivalence classes all hold at least ``k``
records, and at least ``l`` distinct sensitive values when ``l`` is set, after
suppressing at most ``max_suppression`` of the records. Bigger lattices fall
back to Datafly's greedy rule (generalise the attribute with most distinct
values first).

Direct identifiers (names, emails, card numbers...) are not quasi-identifiers:
they must go. :func:`anonymise` refuses a frame that still holds columns the
table scanner classifies as direct identifiers unless they are dropped.

References
----------
L. Sweeney, "Achieving k-anonymity privacy protection using generalization and
suppression", IJUFKS 10(5), 2002 (Datafly, precision metric).
A. Machanavajjhala et al., "l-diversity: Privacy beyond k-anonymity", TKDD 2007.
K. El Emam et al., "A globally optimal k-anonymity method for the de-identification
of health data", JAMIA 2009 (lattice search with information loss).
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopguard.core.errors import DataValidationError

__all__ = [
    "AnonymisationResult",
    "CategoricalHierarchy",
    "DateHierarchy",
    "Hierarchy",
    "NumericHierarchy",
    "PrefixHierarchy",
    "anonymise",
    "equivalence_classes",
    "infer_hierarchy",
]

_MAX_LATTICE = 5000


class Hierarchy(ABC):
    """How one quasi-identifier generalises: level 0 is the value, ``max_level`` is ``*``."""

    max_level: int

    @abstractmethod
    def generalise(self, values: pd.Series, level: int) -> pd.Series:
        """``values`` at ``level`` as strings."""


@dataclass(frozen=True)
class NumericHierarchy(Hierarchy):
    """Intervals of growing width, e.g. ages ``37`` -> ``35-39`` -> ``30-39`` -> ``20-39`` -> ``*``."""

    widths: tuple[float, ...] = (5, 10, 20, 40)

    @property
    def max_level(self) -> int:  # type: ignore[override]
        return len(self.widths) + 1

    def generalise(self, values: pd.Series, level: int) -> pd.Series:
        num = pd.to_numeric(values, errors="raise").astype(float)
        if level == 0:
            return num.map(lambda v: "" if math.isnan(v) else f"{v:g}")
        if level >= self.max_level:
            return pd.Series("*", index=values.index)
        w = self.widths[level - 1]
        lo = np.floor(num.to_numpy() / w) * w
        hi = lo + w - (1 if float(w).is_integer() else 0)
        labels: list[str] = [
            "" if math.isnan(a) else f"{a:g}-{b:g}" for a, b in zip(lo, hi, strict=True)
        ]
        return pd.Series(labels, index=values.index)


@dataclass(frozen=True)
class PrefixHierarchy(Hierarchy):
    """Codes such as postcodes: keep ever shorter prefixes (``75011`` -> ``7501*`` -> ``750**``)."""

    length: int

    @property
    def max_level(self) -> int:  # type: ignore[override]
        return self.length

    def generalise(self, values: pd.Series, level: int) -> pd.Series:
        s = values.astype(str)
        if level == 0:
            return s
        if level >= self.max_level:
            return pd.Series("*", index=values.index)
        keep = self.length - level
        return s.str.slice(0, keep) + "*" * level


@dataclass(frozen=True)
class DateHierarchy(Hierarchy):
    """Dates: day -> month -> year -> decade -> ``*``."""

    max_level: int = 4

    def generalise(self, values: pd.Series, level: int) -> pd.Series:
        d = pd.to_datetime(values, errors="raise")
        if level == 0:
            return d.dt.strftime("%Y-%m-%d")
        if level == 1:
            return d.dt.strftime("%Y-%m")
        if level == 2:
            return d.dt.strftime("%Y")
        if level == 3:
            return (d.dt.year // 10 * 10).astype(str) + "s"
        return pd.Series("*", index=values.index)


@dataclass(frozen=True)
class CategoricalHierarchy(Hierarchy):
    """Categories: optional mapping levels (e.g. city -> region), then ``*``."""

    levels: tuple[dict[str, str], ...] = field(default=())

    @property
    def max_level(self) -> int:  # type: ignore[override]
        return len(self.levels) + 1

    def generalise(self, values: pd.Series, level: int) -> pd.Series:
        s = values.astype(str)
        if level == 0:
            return s
        if level >= self.max_level:
            return pd.Series("*", index=values.index)
        mapping = self.levels[level - 1]
        return s.map(lambda v: mapping.get(v, "*"))


def infer_hierarchy(values: pd.Series) -> Hierarchy:
    """A sensible hierarchy from the column's values."""
    if pd.api.types.is_bool_dtype(values):
        return CategoricalHierarchy()
    if pd.api.types.is_numeric_dtype(values):
        span = float(values.max() - values.min()) if len(values) else 0.0
        base = 10 ** max(0, math.floor(math.log10(span)) - 1) if span > 0 else 1
        return NumericHierarchy(tuple(base * m for m in (5, 10, 20, 40)))
    if pd.api.types.is_datetime64_any_dtype(values):
        return DateHierarchy()
    s = values.dropna().astype(str)
    if len(s) and s.str.fullmatch(r"\d{4}-\d{2}-\d{2}.*").mean() > 0.9:
        return DateHierarchy()
    lengths = s.str.len()
    if len(s) and lengths.nunique() == 1 and lengths.iloc[0] >= 3 and s.nunique() > 20:
        return PrefixHierarchy(int(lengths.iloc[0]))
    return CategoricalHierarchy()


@dataclass(frozen=True)
class AnonymisationResult:
    """What :func:`anonymise` produced and how much it cost."""

    frame: pd.DataFrame
    levels: dict[str, int]
    max_levels: dict[str, int]
    k: int
    l_diversity: int | None
    suppressed: int
    n_input: int
    n_classes: int
    min_class: int
    precision_loss: float
    dropped: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "l": self.l_diversity,
            "levels": self.levels,
            "max_levels": self.max_levels,
            "records_in": self.n_input,
            "records_out": len(self.frame),
            "suppressed": self.suppressed,
            "equivalence_classes": self.n_classes,
            "smallest_class": self.min_class,
            "precision_loss": round(self.precision_loss, 4),
            "dropped_identifiers": list(self.dropped),
        }


def equivalence_classes(frame: pd.DataFrame, quasi: Sequence[str]) -> pd.Series:
    """The size of each record's equivalence class over ``quasi``."""
    return frame.groupby(list(quasi), dropna=False, sort=False)[quasi[0]].transform("size")


def _bad_records(
    gen: pd.DataFrame, quasi: list[str], k: int, sensitive: str | None, ell: int | None
) -> np.ndarray:
    grouped = gen.groupby(quasi, dropna=False, sort=False)
    size = grouped[quasi[0]].transform("size").to_numpy()
    bad = size < k
    if sensitive is not None and ell is not None:
        distinct = grouped[sensitive].transform("nunique").to_numpy()
        bad |= distinct < ell
    return np.asarray(bad)


def anonymise(
    frame: pd.DataFrame,
    *,
    quasi: Sequence[str],
    k: int,
    sensitive: str | None = None,
    l_diversity: int | None = None,
    max_suppression: float = 0.02,
    hierarchies: dict[str, Hierarchy] | None = None,
    drop: Sequence[str] = (),
    identifier_columns: Sequence[str] = (),
) -> AnonymisationResult:
    """Generalise ``quasi`` (and suppress a few records) until ``frame`` is k-anonymous.

    Parameters
    ----------
    frame:
        The extract.
    quasi:
        Quasi-identifier columns (e.g. age, postcode, gender).
    k:
        Every released equivalence class holds at least ``k`` records.
    sensitive, l_diversity:
        When both are set, every class also holds at least ``l`` distinct values of ``sensitive``.
    max_suppression:
        Largest fraction of records that may be withheld instead of generalising further.
    hierarchies:
        Per-column hierarchies; others are inferred from their values.
    drop:
        Columns removed from the output (direct identifiers).
    identifier_columns:
        Columns known to hold direct identifiers; each must be dropped (or be a
        quasi-identifier, which is then generalised), else :class:`DataValidationError`.

    Raises
    ------
    DataValidationError
        Unknown columns, bad parameters, direct identifiers left in, or no
        generalisation reaches the bar within the suppression budget.
    """
    quasi = list(quasi)
    if not quasi:
        raise DataValidationError("name at least one quasi-identifier column")
    missing = [c for c in [*quasi, *drop, *([sensitive] if sensitive else [])] if c not in frame]
    if missing:
        raise DataValidationError(f"unknown column {missing[0]!r}")
    if k < 2:
        raise DataValidationError("k must be at least 2")
    if (sensitive is None) != (l_diversity is None):
        raise DataValidationError("l-diversity needs both a sensitive column and l")
    if l_diversity is not None and l_diversity < 2:
        raise DataValidationError("l must be at least 2")
    if not 0.0 <= max_suppression < 1.0:
        raise DataValidationError("max suppression must be in [0, 1)")
    left = [c for c in identifier_columns if c not in drop and c not in quasi and c != sensitive]
    if left:
        raise DataValidationError(
            f"column {left[0]!r} holds direct identifiers: drop it (--drop) before release"
        )
    if len(frame) < k:
        raise DataValidationError(f"fewer than k={k} records: nothing can be released")
    hier = {q: (hierarchies or {}).get(q) or infer_hierarchy(frame[q]) for q in quasi}
    maxes = {q: hier[q].max_level for q in quasi}
    n = len(frame)
    budget = math.floor(max_suppression * n)
    cache: dict[tuple[str, int], pd.Series] = {}

    def column(q: str, level: int) -> pd.Series:
        got = cache.get((q, level))
        if got is None:
            try:
                got = cache[(q, level)] = hier[q].generalise(frame[q], level)
            except (ValueError, TypeError) as exc:
                raise DataValidationError(
                    f"column {q!r} does not fit its hierarchy ({type(exc).__name__})"
                ) from None
        return got

    def evaluate(levels: tuple[int, ...]) -> tuple[int, pd.DataFrame, np.ndarray]:
        gen = pd.DataFrame({q: column(q, lv) for q, lv in zip(quasi, levels, strict=True)})
        if sensitive is not None:
            gen[sensitive] = frame[sensitive].to_numpy()
        bad = _bad_records(gen, quasi, k, sensitive, l_diversity)
        return int(bad.sum()), gen, bad

    def loss(levels: tuple[int, ...]) -> float:
        return sum(lv / maxes[q] for q, lv in zip(quasi, levels, strict=True)) / len(quasi)

    best: tuple[float, int, tuple[int, ...]] | None = None
    lattice_size = math.prod(m + 1 for m in maxes.values())
    if lattice_size <= _MAX_LATTICE:
        nodes = sorted(
            itertools.product(*(range(maxes[q] + 1) for q in quasi)), key=lambda t: loss(t)
        )
        for node in nodes:
            if best is not None and loss(node) > best[0]:
                break
            n_bad, _, _ = evaluate(node)
            if n_bad <= budget and (best is None or (loss(node), n_bad) < best[:2]):
                best = (loss(node), n_bad, node)
    else:
        levels = dict.fromkeys(quasi, 0)
        while True:
            node = tuple(levels[q] for q in quasi)
            n_bad, gen, _ = evaluate(node)
            if n_bad <= budget:
                best = (loss(node), n_bad, node)
                break
            open_ = [q for q in quasi if levels[q] < maxes[q]]
            if not open_:
                break
            levels[max(open_, key=lambda q: gen[q].nunique())] += 1
    if best is None:
        raise DataValidationError(
            f"no generalisation reaches k={k}"
            + (f", l={l_diversity}" if l_diversity else "")
            + f" within {max_suppression:.0%} suppression"
        )
    _, n_bad, node = best
    _, gen, bad = evaluate(node)
    out = frame.drop(columns=list(drop)).copy()
    for q in quasi:
        out[q] = gen[q].to_numpy()
    keep = ~bad
    out = out.loc[keep].reset_index(drop=True)
    sizes = equivalence_classes(out, quasi) if len(out) else pd.Series([], dtype=int)
    return AnonymisationResult(
        frame=out,
        levels=dict(zip(quasi, node, strict=True)),
        max_levels=maxes,
        k=k,
        l_diversity=l_diversity,
        suppressed=n_bad,
        n_input=n,
        n_classes=int(out.groupby(quasi, dropna=False).ngroups) if len(out) else 0,
        min_class=int(sizes.min()) if len(sizes) else 0,
        precision_loss=loss(node),
        dropped=tuple(drop),
    )
