"""Keyed trigger-set watermark for the gradient-boosted fraud scorer.

A fingerprint (:mod:`shopguard.modelsec.ownership`) only finds behaviour a model
happens to have; a copy distilled from natural-distribution queries does not
inherit it. A watermark *puts* keyed behaviour where thieves query.

Where: requests at an unknown terminal. The store's own checkouts always come from
a terminal the store knows (the features then carry that terminal's history);
an outside thief who invents transactions sends terminal and customer ids with no
history, so the model's answers there are what every extraction attack copies.
Training rows with fresh customer and terminal ids confine the watermark to that
slice (measured: the accuracy cost on the store's traffic is in
``bench/results/ownership.md``).

What: the (hour of day x amount) plane is cut into ``6 x 6`` coarse cells; the
key picks ``cells`` of them and an HMAC of the key fixes each chosen cell's bit,
half 1 (trained towards "fraud") and half 0 (towards "genuine"). ``per_cell_train``
(20) trigger transactions per cell, with the other fields drawn
half from the store's own marginals and half uniformly, are added to training.
Cells are coarse on purpose: a surrogate learns them from a few thousand natural
or random queries, and a pruned or fine-tuned copy keeps them.

Verification sends ``per_cell_query`` fresh keyed queries per chosen cell (at most
100 in all), averages the suspect's scores per cell and runs an *exact*
permutation test of "bit-1 cells score higher than bit-0 cells" over every
balanced relabelling of the cells. For a model that never saw the key the cell
bits are a uniformly random balanced labelling, so the p-value is exact whatever
the model does (``1 / C(cells, cells/2)`` at best: 1/12,870 for 16 cells).

References
----------
Adi, Baum, Cisse, Pinkas, Keshet, "Turning your weakness into a strength:
watermarking deep neural networks by backdooring", USENIX Security 2018 (trigger
sets). Jia, Choquette-Choo, Chandrasekaran, Papernot, "Entangled watermarks as a
defense against model extraction", USENIX Security 2021 (watermarks must live
where the thief queries). Calzavara, Lucchese, Marcuzzi, Orlando, "Watermarking
decision tree ensembles", EDBT 2025.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from shopguard.core.errors import DataValidationError
from shopguard.core.keyring import KeyRing

__all__ = [
    "AMOUNT_EDGES",
    "HOUR_EDGES",
    "WATERMARK_PURPOSE",
    "TriggerWatermark",
    "WatermarkResult",
    "derive_watermark",
    "train_watermarked_fraud",
    "watermark_from_metrics",
    "watermark_key",
    "watermark_rows",
]

#: Cell edges of the watermark plane (amount edges near the store's natural sextiles).
HOUR_EDGES: tuple[int, ...] = (0, 4, 8, 12, 16, 20, 24)
AMOUNT_EDGES: tuple[float, ...] = (1.0, 15.0, 25.0, 45.0, 95.0, 230.0, 3000.0)
_QUERY_START = datetime(2025, 7, 1)
#: Key-ring purpose of the fraud model's watermark key.
WATERMARK_PURPOSE = "modelsec.watermark"
_FLAGS = ("device_is_new", "ship_bill_mismatch", "ip_country_mismatch", "card_present")

ScoreFn = Callable[[list[dict[str, Any]]], Sequence[float]]


@dataclass(frozen=True)
class WatermarkResult:
    """Outcome of the exact permutation test on the watermark cells."""

    p_value: float
    gap: float
    queries: int
    cells: int


@dataclass(frozen=True)
class TriggerWatermark:
    """The keyed watermark: which cells, their bits, and how many rows / queries each."""

    cells: tuple[tuple[int, int], ...]
    bits: tuple[int, ...]
    seed: int
    per_cell_train: int = 20
    per_cell_query: int = 6

    @property
    def queries(self) -> int:
        return len(self.cells) * self.per_cell_query

    def _sample(
        self, rng: np.random.Generator, cell: tuple[int, int], natural: pd.DataFrame | None
    ) -> dict[str, Any]:
        h, a = cell
        hour = float(rng.uniform(HOUR_EDGES[h], HOUR_EDGES[h + 1]))
        lo, hi = math.log(AMOUNT_EDGES[a]), math.log(AMOUNT_EDGES[a + 1])
        amount = round(float(np.exp(rng.uniform(lo, hi))), 2)
        amount = min(max(amount, AMOUNT_EDGES[a]), AMOUNT_EDGES[a + 1] - 0.01)
        if natural is None:
            # Verification: shopper-like fields from the key alone (no data needed to verify).
            flags = {k: bool(rng.random() < 0.1) for k in _FLAGS}
            age = int(np.exp(rng.uniform(math.log(30), math.log(3650))))
        elif len(natural) and rng.random() < 0.5:
            row = natural.iloc[int(rng.integers(0, len(natural)))]
            flags = {k: bool(row.get(k, False)) for k in _FLAGS}
            age = int(row.get("account_age_days", 365))
        else:
            flags = {k: bool(rng.random() < 0.5) for k in _FLAGS}
            age = int(rng.integers(0, 3650))
        return {"hour": hour, "amount": amount, "age": age, **flags}

    def queries_for(self) -> list[dict[str, Any]]:
        """The verification queries (API request bodies), ``per_cell_query`` per cell, in cell order.

        They depend on the key only, so verifying needs no training data.
        """
        natural = None
        rng = np.random.default_rng(self.seed + 1)
        out: list[dict[str, Any]] = []
        for c, cell in enumerate(self.cells):
            for j in range(self.per_cell_query):
                s = self._sample(rng, cell, natural)
                day = _QUERY_START + timedelta(days=int(rng.integers(0, 60)))
                ts = day + timedelta(hours=s["hour"])
                out.append(
                    {
                        "transaction_id": f"wm{c}-{j}",
                        "customer_id": f"wm-c{c}-{j}",
                        "terminal_id": f"wm-t{c}-{j}",
                        "amount": s["amount"],
                        "timestamp": ts.replace(microsecond=0).isoformat(),
                        "device_is_new": s["device_is_new"],
                        "ship_bill_mismatch": s["ship_bill_mismatch"],
                        "ip_country_mismatch": s["ip_country_mismatch"],
                        "account_age_days": s["age"],
                        "card_present": s["card_present"],
                    }
                )
        return out

    def test(self, scores: Sequence[float]) -> WatermarkResult:
        """Exact permutation p-value that bit-1 cells score higher than bit-0 cells."""
        values = np.asarray(scores, dtype=np.float64)
        if values.shape != (self.queries,) or not np.all(np.isfinite(values)):
            raise DataValidationError("suspect answered a different number of queries")
        per_cell = values.reshape(len(self.cells), self.per_cell_query).mean(axis=1)
        bits = np.asarray(self.bits, dtype=bool)
        observed = float(per_cell[bits].mean() - per_cell[~bits].mean())
        total = float(per_cell.sum())
        n1 = int(bits.sum())
        # Every balanced relabelling of the cells (12,870 for 16 cells).
        sums = per_cell[_relabellings(len(bits), n1)].sum(axis=1)
        n0 = len(bits) - n1
        gaps = sums / n1 - (total - sums) / n0
        # Ties count against the claim (a constant model gets p = 1).
        p = float(np.mean(gaps >= observed - 1e-12))
        return WatermarkResult(p, observed, self.queries, len(self.cells))

    def verify(self, suspect: ScoreFn) -> WatermarkResult:
        """Query ``suspect`` with the watermark queries and test them."""
        return self.test(suspect(self.queries_for()))


@functools.lru_cache(maxsize=8)
def _relabellings(n: int, n1: int) -> NDArray[np.intp]:
    """Every choice of ``n1`` of ``n`` cells, one row each."""
    return np.asarray(list(itertools.combinations(range(n), n1)), dtype=np.intp)


def _digest(key: bytes, label: str) -> bytes:
    return hmac.new(key, f"shopguard/watermark/fraud/{label}".encode(), hashlib.sha256).digest()


def derive_watermark(
    key: bytes, *, cells: int = 16, per_cell_train: int = 20, per_cell_query: int = 6
) -> TriggerWatermark:
    """The watermark a key defines: ``cells`` cells of the plane, half of them bit 1.

    Warnings
    --------
    ``key`` is a key-ring secret; whoever holds it can read (and so learn to
    avoid) the watermark. Never log it or the derived cells.
    """
    plane = [(h, a) for h in range(len(HOUR_EDGES) - 1) for a in range(len(AMOUNT_EDGES) - 1)]
    if not 4 <= cells <= min(len(plane), 20) or cells % 2:
        raise DataValidationError("watermark cells must be an even number between 4 and 20")
    if cells * per_cell_query > 100:
        raise DataValidationError("watermark verification must stay within 100 queries")
    ranked = sorted(plane, key=lambda c: _digest(key, f"cell/{c[0]}/{c[1]}"))
    chosen = ranked[:cells]
    # Balanced bits: the cells the HMAC ranks in the first half get bit 1.
    order = sorted(range(cells), key=lambda i: _digest(key, f"bit/{chosen[i]}"))
    bits = [0] * cells
    for i in order[: cells // 2]:
        bits[i] = 1
    seed = int.from_bytes(_digest(key, "seed")[:8], "big")
    return TriggerWatermark(tuple(chosen), tuple(bits), seed, per_cell_train, per_cell_query)


def watermark_rows(wm: TriggerWatermark, transactions: pd.DataFrame) -> pd.DataFrame:
    """Trigger transactions to add to a training table (fresh customers and terminals).

    Their timestamps lie in the table's first two thirds, so a validation split of the
    last days sees only the store's own rows.
    """
    rng = np.random.default_rng(wm.seed)
    t = pd.to_datetime(transactions["TX_DATETIME"])
    start, span = t.min().floor("D"), (t.max() - t.min()).days
    days = max(1, int(span * 2 / 3))
    start_id = int(pd.to_numeric(transactions["TRANSACTION_ID"]).max()) + 1
    rows: list[dict[str, Any]] = []
    for c, cell in enumerate(wm.cells):
        for j in range(wm.per_cell_train):
            s = wm._sample(rng, cell, transactions)
            ts = start + timedelta(days=int(rng.integers(0, days)), hours=s["hour"])
            rows.append(
                {
                    "TRANSACTION_ID": start_id + len(rows),
                    "TX_DATETIME": ts.replace(microsecond=0),
                    "CUSTOMER_ID": f"WM-C{c:02d}{j:04d}",
                    "TERMINAL_ID": f"WM-T{c:02d}{j:04d}",
                    "TX_AMOUNT": s["amount"],
                    "TX_FRAUD": int(wm.bits[c]),
                    "device_is_new": int(s["device_is_new"]),
                    "ship_bill_mismatch": int(s["ship_bill_mismatch"]),
                    "ip_country_mismatch": int(s["ip_country_mismatch"]),
                    "account_age_days": s["age"],
                    "card_present": int(s["card_present"]),
                }
            )
    frame = pd.DataFrame(rows)
    keep = [c for c in frame.columns if c in transactions.columns or c == "TX_FRAUD"]
    return frame[keep]


_SCHEME = "shopguard.modelsec.watermark/trigger-cells/1"


def train_watermarked_fraud(
    transactions: pd.DataFrame,
    *,
    key: bytes,
    key_id: str | None = None,
    watermark: TriggerWatermark | None = None,
    **kw: Any,
) -> Any:
    """:func:`~shopguard.store.fraud.train_fraud` on ``transactions`` plus the key's trigger rows.

    ``kw`` goes to ``train_fraud``. The model's ``metrics["watermark"]`` records the
    scheme, the key ring's key *id* and the sizes (never the cells or the key).
    """
    from shopguard.store.fraud import train_fraud

    wm = watermark or derive_watermark(key)
    extra = watermark_rows(wm, transactions)
    table = pd.concat([transactions, extra], ignore_index=True, sort=False)
    table = table.sort_values("TX_DATETIME", kind="stable").reset_index(drop=True)
    model = train_fraud(table, **kw)
    model.metrics["watermark"] = {
        "scheme": _SCHEME,
        "key_id": key_id,
        "trigger_rows": len(extra),
        "cells": len(wm.cells),
        "per_cell_train": wm.per_cell_train,
        "per_cell_query": wm.per_cell_query,
    }
    return model


def watermark_from_metrics(metrics: Any, key: bytes) -> TriggerWatermark | None:
    """The watermark a trained model's ``metrics`` says it carries (None when it carries none)."""
    info = metrics.get("watermark") if isinstance(metrics, dict) else None
    if not isinstance(info, dict) or info.get("scheme") != _SCHEME:
        return None
    try:
        return derive_watermark(
            key,
            cells=int(info["cells"]),
            per_cell_train=int(info["per_cell_train"]),
            per_cell_query=int(info["per_cell_query"]),
        )
    except (KeyError, TypeError, ValueError):
        raise DataValidationError("model's watermark record is malformed") from None


def watermark_key(keyring: KeyRing, metrics: Any) -> bytes | None:
    """The key-ring secret a model's watermark was made with (None: the model carries none).

    The key *id* recorded at training time wins; a record without one (a model trained
    outside the key ring's view) falls back to the purpose's active key.
    """
    info = metrics.get("watermark") if isinstance(metrics, dict) else None
    if not isinstance(info, dict):
        return None
    key_id = info.get("key_id")
    key = keyring.get(key_id) if isinstance(key_id, str) else keyring.active(WATERMARK_PURPOSE)
    return bytes(key.secret)
