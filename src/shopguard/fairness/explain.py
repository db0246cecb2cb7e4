"""Reason codes: why the fraud model scored one payment as it did.

Per-decision feature contributions of the gradient-boosted trees, in log-odds, computed on
the path each row takes through each tree: a split on feature ``f`` moves the row from a
node's expected value to its child's (expected values are the training-count-weighted means
of the leaves below), and that difference is credited to ``f``. Contributions plus the
model's expected value add up exactly to the row's raw score. Features are grouped into
reason codes a customer can read; the codes pushing the score up are returned, largest first.

References
----------
Saabas, "Interpreting random forests", 2014 (path contributions).
https://blog.datadive.net/interpreting-random-forests/
Lundberg, Erion, Lee, "Consistent individualized feature attribution for tree ensembles",
arXiv:1802.03888, 2018 (the cover-weighted expected values used here).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from shopguard.core.errors import ModelError
from shopguard.store.fraud import FraudModel

__all__ = ["REASONS", "Reason", "TreeExplainer", "reason_code_of", "reason_codes"]

#: Reason code -> what it tells the customer.
REASONS: dict[str, str] = {
    "amount_unusual": "The amount is unusual for this account.",
    "velocity": "Several payments in a short time.",
    "payment_endpoint_risk": "The payment endpoint used recently saw fraud.",
    "unusual_time": "The payment was made at an unusual time.",
    "new_device": "The payment came from a device not seen before.",
    "address_mismatch": "The shipping and billing addresses differ.",
    "ip_location_mismatch": "The connection's location differs from the billing country.",
    "new_account": "The account is new.",
    "card_not_present": "The card was not present.",
    "other": "Other signals of the payment.",
}


def reason_code_of(feature: str) -> str:
    """The reason code a model feature belongs to."""
    f = feature.upper()
    if f.startswith("TERMINAL_"):
        return "payment_endpoint_risk"
    if f in ("TX_DURING_NIGHT", "TX_DURING_WEEKEND", "TX_HOUR"):
        return "unusual_time"
    if f == "TX_AMOUNT" or "AMOUNT" in f:
        return "amount_unusual"
    if f.startswith("CUSTOMER_"):
        return "velocity"
    return {
        "DEVICE_IS_NEW": "new_device",
        "SHIP_BILL_MISMATCH": "address_mismatch",
        "IP_COUNTRY_MISMATCH": "ip_location_mismatch",
        "ACCOUNT_AGE_DAYS": "new_account",
        "CARD_PRESENT": "card_not_present",
    }.get(f, "other")


@dataclass(frozen=True)
class Reason:
    code: str
    description: str
    contribution: float  # log-odds added to the score by this reason's features

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class TreeExplainer:
    """Path contributions of a fitted ``HistGradientBoostingClassifier`` (binary)."""

    def __init__(self, estimator: Any, feature_names: list[str]) -> None:
        predictors = getattr(estimator, "_predictors", None)
        if not predictors or len(predictors[0]) != 1:
            raise ModelError("reason codes need a fitted binary gradient-boosting model")
        trees = [p[0].nodes for p in predictors]
        width = max(len(t) for t in trees)
        k = len(trees)
        self.feature = np.zeros((k, width), dtype=np.int64)
        self.threshold = np.zeros((k, width))
        self.missing_left = np.zeros((k, width), dtype=bool)
        self.left = np.zeros((k, width), dtype=np.int64)
        self.right = np.zeros((k, width), dtype=np.int64)
        self.leaf = np.ones((k, width), dtype=bool)
        self.expected = np.zeros((k, width))
        depth = 0
        for i, nodes in enumerate(trees):
            n = len(nodes)
            self.feature[i, :n] = nodes["feature_idx"]
            self.threshold[i, :n] = nodes["num_threshold"]
            self.missing_left[i, :n] = nodes["missing_go_to_left"].astype(bool)
            self.left[i, :n] = nodes["left"]
            self.right[i, :n] = nodes["right"]
            self.leaf[i, :n] = nodes["is_leaf"].astype(bool)
            self.expected[i, :n] = self._expected(nodes)
            depth = max(depth, int(nodes["depth"].max()))
        self.depth = depth
        self.baseline = float(np.asarray(estimator._baseline_prediction).ravel()[0])
        self.expected_value = self.baseline + float(self.expected[:, 0].sum())
        self.feature_names = list(feature_names)

    @staticmethod
    def _expected(nodes: NDArray[Any]) -> NDArray[np.float64]:
        # Leaves hold their (shrunk) values; an inner node's expected value is the
        # count-weighted mean of its children's. Children always follow their parent.
        n = len(nodes)
        value = nodes["value"].astype(np.float64).copy()
        count = nodes["count"].astype(np.float64)
        for j in range(n - 1, -1, -1):
            if not nodes["is_leaf"][j]:
                lft, rgt = int(nodes["left"][j]), int(nodes["right"][j])
                total = count[lft] + count[rgt]
                value[j] = (
                    (value[lft] * count[lft] + value[rgt] * count[rgt]) / total if total else 0.0
                )
        return value

    def contributions(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        """Log-odds contribution of each feature for each row, shape ``(n_rows, n_features)``."""
        X = np.asarray(X, dtype=np.float64)
        n = X.shape[0]
        k = self.feature.shape[0]
        t = np.broadcast_to(np.arange(k), (n, k))
        node = np.zeros((n, k), dtype=np.int64)
        out = np.zeros((n, X.shape[1]))
        rows = np.broadcast_to(np.arange(n)[:, None], (n, k))
        for _ in range(self.depth):
            inner = ~self.leaf[t, node]
            f = self.feature[t, node]
            x = np.take_along_axis(X, f, axis=1)
            go_left = np.where(
                np.isnan(x), self.missing_left[t, node], x <= self.threshold[t, node]
            )
            nxt = np.where(go_left, self.left[t, node], self.right[t, node])
            nxt = np.where(inner, nxt, node)
            delta = np.where(inner, self.expected[t, nxt] - self.expected[t, node], 0.0)
            np.add.at(out, (rows, f), delta)
            node = nxt
        return out

    def reasons(self, X: NDArray[np.float64], *, top: int = 3) -> list[list[Reason]]:
        """Per row, the reason codes that raised its score most (positive contributions only)."""
        contrib = self.contributions(X)
        codes = [reason_code_of(f) for f in self.feature_names]
        names = sorted(set(codes))
        member = np.array([[c == name for name in names] for c in codes], dtype=np.float64)
        by_code = contrib @ member
        out: list[list[Reason]] = []
        for row in by_code:
            order = np.argsort(-row, kind="stable")
            out.append(
                [
                    Reason(names[j], REASONS[names[j]], round(float(row[j]), 4))
                    for j in order[:top]
                    if row[j] > 0
                ]
            )
        return out


def _explainer(model: FraudModel) -> TreeExplainer:
    cached = model.__dict__.get("_shopguard_explainer")
    if cached is None:
        cached = TreeExplainer(model.estimator_, model.feature_names_)
        model.__dict__["_shopguard_explainer"] = cached
    return cached


def reason_codes(
    model: FraudModel,
    transactions: pd.DataFrame,
    history: pd.DataFrame | None = None,
    *,
    top: int = 3,
) -> list[list[Reason]]:
    """Reason codes for each row of ``transactions`` (same inputs as ``FraudModel.score``)."""
    X = model.features(transactions, history)
    return _explainer(model).reasons(X, top=top)


def fraud_reasons(service: Any, tx: dict[str, Any], *, top: int = 3) -> list[dict[str, Any]]:
    """Reason codes of one transaction as the store service scores it (plain dicts)."""
    row, hist = service.fraud_inputs(tx)
    return [r.to_json() for r in reason_codes(service.fraud, row, hist, top=top)[0]]
