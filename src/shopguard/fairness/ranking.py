"""Ranking and pricing fairness: exposure of seller groups, prices paid by customer groups.

Exposure: a position-based attention model (``1 / log2(1 + rank)``, as in DCG) gives each
slot of each recommendation list its share of attention; a seller group's exposure share is
compared with its share of the catalogue and with its share of relevance (purchases), after
Singh and Joachims. A ratio below ``tolerance`` means the group is buried.

Pricing: per customer group, the mean ratio of the price paid to the list price and the share
of orders with a discount, with bootstrap intervals, and the gap to the best-treated group.

References
----------
Singh, Joachims, "Fairness of Exposure in Rankings", KDD 2018. https://arxiv.org/abs/1802.07281
Biega, Gummadi, Weikum, "Equity of Attention", SIGIR 2018.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopguard.core.errors import DataValidationError

__all__ = ["ExposureRow", "PriceRow", "exposure_audit", "position_weights", "price_audit"]


def position_weights(k: int) -> np.ndarray:
    """Attention of ranks 1..k: ``1 / log2(1 + rank)``."""
    return 1.0 / np.log2(np.arange(2, k + 2))


@dataclass(frozen=True)
class ExposureRow:
    group: str
    n_items: int
    catalogue_share: float
    exposure_share: float
    relevance_share: float | None
    exposure_to_catalogue: float
    exposure_to_relevance: float | None
    status: str  # "ok" or "under_exposed"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def exposure_audit(
    rankings: Sequence[Sequence[str]],
    item_group: Mapping[str, str],
    *,
    relevance: Mapping[str, float] | None = None,
    tolerance: float = 0.8,
) -> list[ExposureRow]:
    """Exposure share of each item group across ``rankings`` (lists of item ids, best first).

    ``relevance`` (item -> e.g. purchase count) gives the merit each group's exposure is
    compared with; without it only the catalogue share is. Items missing from
    ``item_group`` are refused (an unknown seller cannot be judged).
    """
    if not rankings:
        raise DataValidationError("no rankings to audit")
    exposure: dict[str, float] = {}
    for ranking in rankings:
        w = position_weights(len(ranking))
        for item, wt in zip(ranking, w, strict=True):
            g = item_group.get(str(item))
            if g is None:
                raise DataValidationError("ranked item has no seller group", column="item")
            exposure[g] = exposure.get(g, 0.0) + float(wt)
    catalogue = pd.Series(item_group).astype(str).value_counts(normalize=True)
    total = sum(exposure.values())
    rel_share: dict[str, float] | None = None
    if relevance is not None:
        rel = pd.Series(
            {i: float(v) for i, v in relevance.items() if str(i) in item_group}, dtype=float
        )
        by_group = rel.groupby(rel.index.map(lambda i: item_group[str(i)])).sum()
        rs = float(by_group.sum())
        rel_share = {str(g): float(v) / rs for g, v in by_group.items()} if rs > 0 else None
    rows = []
    for g in sorted(catalogue.index):
        e = exposure.get(g, 0.0) / total if total else 0.0
        c = float(catalogue[g])
        r = rel_share.get(g, 0.0) if rel_share is not None else None
        e2c = e / c if c else float("inf")
        e2r = (e / r if r else float("inf")) if r is not None else None
        judged = e2r if e2r is not None else e2c
        rows.append(
            ExposureRow(
                group=str(g),
                n_items=int(sum(1 for v in item_group.values() if v == g)),
                catalogue_share=c,
                exposure_share=e,
                relevance_share=r,
                exposure_to_catalogue=e2c,
                exposure_to_relevance=e2r,
                status="under_exposed" if judged < tolerance else "ok",
            )
        )
    return rows


@dataclass(frozen=True)
class PriceRow:
    group: str
    n_orders: int
    status: str  # "ok" or "too_small"
    price_ratio: float  # mean paid / list price
    price_ratio_low: float
    price_ratio_high: float
    discount_rate: float  # share of orders with a promotion code
    markup_vs_best: float  # price ratio over the lowest group's, minus 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def price_audit(
    orders: pd.DataFrame,
    list_prices: Mapping[str, float],
    customer_group: Mapping[str, str],
    *,
    min_group_size: int = 30,
    n_bootstrap: int = 200,
    random_state: int = 0,
) -> list[PriceRow]:
    """Prices paid and discounts granted per customer group.

    ``orders`` needs ``order_id, customer_id, product_id, price`` (the unit price charged)
    and optionally ``promo_code``. ``list_prices`` maps product ids to the catalogue price.
    """
    for col in ("order_id", "customer_id", "product_id", "price"):
        if col not in orders.columns:
            raise DataValidationError("orders table lacks a column", column=col)
    lp = orders["product_id"].astype(str).map(list_prices)
    grp = orders["customer_id"].astype(str).map(customer_group)
    if lp.isna().any():
        raise DataValidationError("ordered product has no list price", column="product_id")
    if grp.isna().any():
        raise DataValidationError("ordering customer has no group", column="customer_id")
    lines = pd.DataFrame(
        {
            "order": orders["order_id"].astype(str).to_numpy(),
            "group": grp.to_numpy(),
            "ratio": (orders["price"].astype(float) / lp.astype(float)).to_numpy(),
            "promo": (
                orders["promo_code"].fillna("").astype(str).ne("").to_numpy()
                if "promo_code" in orders.columns
                else np.zeros(len(orders), dtype=bool)
            ),
        }
    )
    per_order = lines.groupby("order").agg(
        group=("group", "first"), ratio=("ratio", "mean"), promo=("promo", "max")
    )
    rng = np.random.default_rng(random_state)
    stats = []
    for g, part in per_order.groupby("group"):
        r = part["ratio"].to_numpy()
        if len(r) >= 2 and n_bootstrap > 0:
            boots = r[rng.integers(0, len(r), (n_bootstrap, len(r)))].mean(axis=1)
            lo, hi = (float(x) for x in np.quantile(boots, [0.025, 0.975]))
        else:
            lo = hi = float(r.mean())
        stats.append((str(g), len(r), float(r.mean()), lo, hi, float(part["promo"].mean())))
    judged = [s for s in stats if s[1] >= min_group_size]
    best = min((s[2] for s in judged), default=float("nan"))
    return [
        PriceRow(
            group=g,
            n_orders=n,
            status="ok" if n >= min_group_size else "too_small",
            price_ratio=m,
            price_ratio_low=lo,
            price_ratio_high=hi,
            discount_rate=d,
            markup_vs_best=(m / best - 1.0) if n >= min_group_size else float("nan"),
        )
        for g, n, m, lo, hi, d in stats
    ]
