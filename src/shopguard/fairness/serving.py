"""Fairness where decisions are served: the fraud model's live mitigation and monitoring.

* :func:`fit_fraud_mitigation` fits a :class:`~shopguard.fairness.mitigation.GroupScoreShift`
  (group-aware thresholds, false-positive-rate parity over a band of operating points) on a
  validation window of the store's labelled payments and :func:`save_mitigation` records it
  beside the model (``models/fraud/fairness_mitigation.json``).
* :class:`LiveFairness` is what the gateway holds: per tenant, it looks the customer's group
  up in the *store's customer record* (never in the request, which the caller controls),
  applies the mitigation the ``fairness_mitigation`` setting selects for the model, and
  counts declines per group in O(1) running windows (:class:`FairnessMonitor`), which alert
  on the event bus when a gap crosses its bar.

Warnings
--------
Group-aware thresholds use the sensitive attribute in the decision itself. That is what
equalises error rates, and it is why the attribute comes only from the store's own record and
why every mitigated decision says so (``mitigation`` in the response, a finding in the audit).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopguard.core.errors import ConfigError, DataValidationError, ModelError
from shopguard.core.events import EventBus
from shopguard.fairness.mitigation import GroupScoreShift
from shopguard.fairness.monitor import FairnessMonitor

__all__ = [
    "LIVE_MODELS",
    "MITIGATION_FILE",
    "FraudMitigation",
    "LiveFairness",
    "fit_fraud_mitigation",
    "load_mitigation",
    "save_mitigation",
]

logger = logging.getLogger(__name__)

MITIGATION_FILE = "fairness_mitigation.json"
#: Models whose decisions the gateway serves with a live mitigation.
LIVE_MODELS = ("fraud",)
#: Values of the ``fairness_mitigation`` setting.
LIVE_METHODS = ("none", "threshold")


@dataclass(frozen=True)
class FraudMitigation:
    """A fitted live mitigation of the fraud model: the attribute and its group offsets."""

    attribute: str
    shift: GroupScoreShift
    fitted_on: str

    def adjust(self, score: float, group: str | None) -> float:
        """The mitigated score of one decision (unchanged for an unknown group)."""
        if group is None:
            return score
        off = self.shift.offset(group)
        if off == 0.0:
            return score
        # math, not numpy: this runs once per request on a scalar
        p = min(max(score, 1e-9), 1 - 1e-9)
        z = math.log(p) - math.log1p(-p) + off
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict[str, Any]:
        return {
            "method": "threshold",
            "model": "fraud",
            "attribute": self.attribute,
            "fitted_on": self.fitted_on,
            "shift": self.shift.to_json(),
        }


def save_mitigation(mitigation: FraudMitigation, model_dir: Path) -> Path:
    """Write the mitigation beside the model; returns the file."""
    path = model_dir / MITIGATION_FILE
    path.write_text(json.dumps(mitigation.to_json(), indent=2) + "\n", "utf-8")
    return path


def load_mitigation(model_dir: Path) -> FraudMitigation:
    """Read a mitigation written by :func:`save_mitigation`; missing or malformed: ModelError."""
    path = model_dir / MITIGATION_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ModelError(
            "no fitted fairness mitigation for the model; run 'shopguard fairness mitigate'"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise ModelError("unreadable fairness mitigation file") from None
    if not isinstance(data, dict) or data.get("method") != "threshold":
        raise ModelError("malformed fairness mitigation file")
    attribute = data.get("attribute")
    if not isinstance(attribute, str) or not attribute:
        raise ModelError("malformed fairness mitigation file")
    return FraudMitigation(
        attribute=attribute,
        shift=GroupScoreShift.from_json(data.get("shift")),
        fitted_on=str(data.get("fitted_on", "")),
    )


def _customer_groups(customers: pd.DataFrame, attribute: str) -> dict[str, str]:
    if attribute not in customers.columns:
        raise DataValidationError(
            "unknown sensitive column (generate the store with sensitive attributes)",
            column=attribute,
        )
    col = customers[attribute]
    keep = col.notna().to_numpy()
    return dict(
        zip(
            customers["customer_id"].astype(str).to_numpy()[keep],
            col.astype(str).to_numpy()[keep],
            strict=True,
        )
    )


def fit_fraud_mitigation(
    transactions: pd.DataFrame,
    customers: pd.DataFrame,
    scores: Any,
    *,
    attribute: str = "region",
    label_column: str = "TX_FRAUD",
    validation_days: int = 28,
    label_delay_days: int = 7,
    band: tuple[float, float] = (0.95, 0.995),
    min_group_size: int = 100,
    bars: Sequence[float] = (0.8, 0.3),
) -> tuple[FraudMitigation, dict[str, Any]]:
    """Fit group offsets on the latest ``validation_days`` of payments whose labels are known.

    The window ends ``label_delay_days`` before the newest payment (chargebacks take that
    long). Returns the mitigation and a report: per-group false-positive rates at each of
    ``bars`` in the window, before and after.
    """
    if label_column not in transactions.columns:
        raise DataValidationError("missing labels", column=label_column)
    labels = pd.to_numeric(transactions[label_column], errors="raise")
    if labels.isna().any():
        raise DataValidationError("missing label", column=label_column)
    s = np.asarray(scores, dtype=np.float64)
    if len(s) != len(transactions):
        raise DataValidationError("scores do not match the transactions")
    groups_of = _customer_groups(customers, attribute)
    when = pd.to_datetime(transactions["TX_DATETIME"])
    end = when.max() - pd.Timedelta(days=label_delay_days)
    start = end - pd.Timedelta(days=validation_days)
    win = ((when >= start) & (when < end)).to_numpy()
    cust = transactions["CUSTOMER_ID"].astype(str).to_numpy()
    known = np.array([c in groups_of for c in cust], dtype=bool)
    use = win & known
    if not use.any():
        raise DataValidationError("no labelled payments of known customers in the window")
    g = np.array([groups_of[c] for c in cust[use]])
    y = labels.to_numpy().astype(np.int64)[use]
    shift = GroupScoreShift(band=band, min_group_size=min_group_size).fit(s[use], y, g)
    desc = (
        f"payments {start:%Y-%m-%d} to {end:%Y-%m-%d} ({int(use.sum())} rows, labels "
        f"'{label_column}', genuine-score quantiles {band[0]:g}-{band[1]:g})"
    )
    mit = FraudMitigation(attribute=attribute, shift=shift, fitted_on=desc)
    after = shift.transform(s[use], g)
    report: dict[str, Any] = {
        "attribute": attribute,
        "fitted_on": desc,
        "offsets": shift.offsets_,
        "too_small": list(shift.too_small_),
        "min_group_size": min_group_size,
        "bars": {},
    }
    neg = y == 0
    for bar in bars:
        rows: dict[str, Any] = {}
        for grp in sorted(set(g.tolist())):
            m = neg & (g == grp)
            n = int(m.sum())
            rows[grp] = {
                "genuine": n,
                "fpr_before": float(np.mean(s[use][m] >= bar)) if n else None,
                "fpr_after": float(np.mean(after[m] >= bar)) if n else None,
            }
        judged = [r for r in rows.values() if r["genuine"] >= min_group_size]
        before = [r["fpr_before"] for r in judged]
        after_ = [r["fpr_after"] for r in judged]
        report["bars"][str(bar)] = {
            "groups": rows,
            "fpr_gap_before": max(before) - min(before) if len(judged) >= 2 else None,
            "fpr_gap_after": max(after_) - min(after_) if len(judged) >= 2 else None,
        }
    return mit, report


class LiveFairness:
    """Per-tenant live mitigation and decline-rate monitoring for the gateway's fraud route.

    Parameters
    ----------
    methods:
        The ``fairness_mitigation`` setting: model name -> ``none`` | ``threshold``.
    model_dir:
        ``model_dir(tenant, model)``: where the tenant's model (and its fitted mitigation)
        lives.
    bus:
        Where monitor alerts go.
    attributes:
        Customer attributes monitored (those the store's customer record lacks are skipped).
    gap_bar, min_group_size, window:
        The monitor's bar on the decline-rate gap, the decisions a group needs before it is
        judged, and the decisions remembered per group.
    """

    def __init__(
        self,
        *,
        methods: Mapping[str, str],
        model_dir: Callable[[str, str], Path],
        bus: EventBus,
        attributes: Sequence[str] = ("region",),
        gap_bar: float = 0.05,
        min_group_size: int = 30,
        window: int = 5000,
    ) -> None:
        for model, method in methods.items():
            if model not in LIVE_MODELS:
                raise ConfigError(
                    f"fairness_mitigation: no live mitigation for model {model!r} "
                    f"(live: {', '.join(LIVE_MODELS)})"
                )
            if method not in LIVE_METHODS:
                raise ConfigError(
                    f"fairness_mitigation: {model} must be one of {', '.join(LIVE_METHODS)}"
                )
        self.method = methods.get("fraud", "none")
        self._model_dir = model_dir
        self.bus = bus
        self.attributes = tuple(attributes)
        self.gap_bar = gap_bar
        self.min_group_size = min_group_size
        self.window = window
        self._lock = threading.Lock()
        # tenant -> (the store object the groups came from, attribute -> customer -> group)
        self._groups: dict[str, tuple[object, dict[str, dict[str, str]]]] = {}
        self._mitigation: dict[str, tuple[object, FraudMitigation]] = {}
        self._monitors: dict[tuple[str, str], FairnessMonitor] = {}

    def _tenant_groups(self, tenant: str, customers: pd.DataFrame) -> dict[str, dict[str, str]]:
        with self._lock:
            hit = self._groups.get(tenant)
        if hit is not None and hit[0] is customers:
            return hit[1]
        wanted = set(self.attributes)
        if self.method == "threshold":
            wanted.add(self._tenant_mitigation(tenant, customers).attribute)
        table = {a: _customer_groups(customers, a) for a in wanted if a in customers.columns}
        with self._lock:
            self._groups[tenant] = (customers, table)
        return table

    def _tenant_mitigation(self, tenant: str, customers: pd.DataFrame) -> FraudMitigation:
        with self._lock:
            hit = self._mitigation.get(tenant)
        if hit is not None and hit[0] is customers:
            return hit[1]
        mit = load_mitigation(self._model_dir(tenant, "fraud"))
        if mit.attribute not in customers.columns:
            # SECURITY: fail closed; deciding without the group would silently drop the mitigation
            raise ModelError("the store's customers lack the mitigation's attribute")
        with self._lock:
            self._mitigation[tenant] = (customers, mit)
        return mit

    def fraud_score(
        self, tenant: str, customers: pd.DataFrame, customer_id: str, score: float
    ) -> tuple[float, str | None, dict[str, str]]:
        """``(score to decide on, mitigation applied or None, the customer's groups)``.

        Raises :class:`ModelError` (the gateway answers 503) when a mitigation is selected
        but none is fitted for the tenant's model.
        """
        groups = self._tenant_groups(tenant, customers)
        mine = {a: t[customer_id] for a, t in groups.items() if customer_id in t}
        if self.method != "threshold":
            return score, None, mine
        mit = self._tenant_mitigation(tenant, customers)
        return mit.adjust(score, mine.get(mit.attribute)), "threshold", mine

    def observe(self, tenant: str, groups: Mapping[str, str], declined: bool) -> None:
        """Count one decision per monitored attribute (O(groups); alerts on the bus)."""
        for attribute in self.attributes:
            group = groups.get(attribute)
            if group is None:
                continue
            key = (tenant, attribute)
            mon = self._monitors.get(key)
            if mon is None:
                with self._lock:
                    mon = self._monitors.setdefault(
                        key,
                        FairnessMonitor(
                            self.bus,
                            attribute=attribute,
                            model="fraud",
                            tenant=tenant,
                            selection_bar=self.gap_bar,
                            min_group_size=self.min_group_size,
                            window=self.window,
                        ),
                    )
            mon.observe(group, int(declined))

    def monitor(self, tenant: str, attribute: str) -> FairnessMonitor | None:
        """The tenant's monitor of ``attribute`` (None before its first decision)."""
        return self._monitors.get((tenant, attribute))
