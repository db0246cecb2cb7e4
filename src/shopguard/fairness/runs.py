"""Whole audits as the CLI, the scorecard and the reports run them.

* :func:`audit_table`: any tabular file (target, positive value, sensitive columns): fits the
  reference model on a stated split, audits its test decisions per sensitive column and,
  when asked, one mitigation, reporting the gap reduction and the accuracy cost.
* :func:`audit_store_model`: a store model in ``models_dir`` over the store's data: the fraud
  scorer's decisions per customer attribute, the recommender's exposure per seller group.
* :func:`price_report`: personalised prices and discounts per customer group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, average_precision_score

from shopguard.core.errors import DataValidationError, ModelError
from shopguard.fairness.audit import AuditResult, FairnessBars, audit_predictions
from shopguard.fairness.dataset import proxy_scan
from shopguard.fairness.mitigation import (
    Constraint,
    ExponentiatedGradient,
    GroupThresholdOptimizer,
    Mitigation,
    reweighing_weights,
)
from shopguard.fairness.ranking import exposure_audit, price_audit
from shopguard.fairness.tabular import problem_from_frame, reference_model

__all__ = [
    "STORE_MODELS",
    "audit_store_model",
    "audit_table",
    "price_report",
    "store_frame",
]

Say = Callable[[str], None]
#: Models in ``models_dir`` an audit knows how to run.
STORE_MODELS: tuple[str, ...] = ("fraud", "recommender")
#: Decision threshold of the fraud audit: the gateway's decline bar.
FRAUD_DECLINE_AT = 0.8


def _audit_json(a: AuditResult) -> dict[str, Any]:
    return a.to_json()


def audit_table(
    frame: pd.DataFrame,
    *,
    target: str,
    positive: str,
    sensitive: Sequence[str],
    mitigate: Mitigation | None = None,
    min_group_size: int = 30,
    n_bootstrap: int = 200,
    bars: FairnessBars | None = None,
    random_state: int = 0,
    say: Say | None = None,
) -> dict[str, Any]:
    """Fit, audit and optionally mitigate a classifier on a table; a JSON-ready report."""
    tell = say or (lambda _m: None)
    if not sensitive:
        raise DataValidationError("name at least one sensitive column")
    problem = problem_from_frame(
        frame,
        target=target,
        positive=positive,
        sensitive=list(sensitive),
        random_state=random_state,
    )
    sp = problem.split
    X, y = problem.X, problem.y
    tell("fitting the reference model")
    model = reference_model(random_state).fit(X.iloc[sp.train], y[sp.train])
    proba = model.predict_proba(X)[:, 1]
    pred = (proba[sp.test] >= 0.5).astype(np.int64)
    report: dict[str, Any] = {
        "rows": len(frame),
        "target": target,
        "positive": str(positive),
        "model": "HistGradientBoostingClassifier (sensitive columns not used as features)",
        "split": sp.description,
        "min_group_size": min_group_size,
        "accuracy": float(accuracy_score(y[sp.test], pred)),
        "audits": {},
    }
    for col in sensitive:
        tell(f"auditing {col}")
        groups = problem.sensitive[col].to_numpy()
        a = audit_predictions(
            y[sp.test],
            pred,
            groups[sp.test],
            y_score=proba[sp.test],
            attribute=col,
            min_group_size=min_group_size,
            n_bootstrap=n_bootstrap,
            bars=bars,
            random_state=random_state,
        )
        report["audits"][col] = _audit_json(a)
    if mitigate is not None:
        col = sensitive[0]
        groups = problem.sensitive[col].to_numpy()
        tell(f"mitigating ({mitigate.value}) for {col}")
        if mitigate is Mitigation.THRESHOLD:
            opt = GroupThresholdOptimizer(
                constraint=Constraint.DEMOGRAPHIC_PARITY,
                tolerance=0.01,
                min_group_size=min_group_size,
            ).fit(proba[sp.calibration], y[sp.calibration], groups[sp.calibration])
            new = opt.predict(proba[sp.test], groups[sp.test])
            detail: dict[str, Any] = opt.to_json()
        elif mitigate is Mitigation.REDUCTIONS:
            eg = ExponentiatedGradient(
                reference_model(random_state, max_iter=60),
                eps=0.01,
                max_iter=25,
                random_state=random_state,
            ).fit(X.iloc[sp.train], y[sp.train], sensitive=groups[sp.train])
            new = eg.predict(X.iloc[sp.test])
            detail = {"eps": eg.eps, "iterations": eg.max_iter}
        else:
            w = reweighing_weights(y[sp.train], groups[sp.train])
            m2 = reference_model(random_state).fit(X.iloc[sp.train], y[sp.train], sample_weight=w)
            new = (m2.predict_proba(X.iloc[sp.test])[:, 1] >= 0.5).astype(np.int64)
            detail = {"weights": "P(group) P(label) / P(group, label)"}
        after = audit_predictions(
            y[sp.test],
            new,
            groups[sp.test],
            attribute=col,
            min_group_size=min_group_size,
            n_bootstrap=n_bootstrap,
            bars=bars,
            random_state=random_state,
        )
        b_dp = report["audits"][col]["demographic_parity_difference"]
        a_dp = after.demographic_parity_difference
        report["mitigation"] = {
            "method": mitigate.value,
            "attribute": col,
            "detail": detail,
            "accuracy_before": report["accuracy"],
            "accuracy_after": float(accuracy_score(y[sp.test], new)),
            "dp_difference_before": None if b_dp is None else b_dp["value"],
            "dp_difference_after": None if a_dp is None else a_dp.value,
            "audit_after": _audit_json(after),
        }
    return report


def store_frame(store_dir: Path) -> Any:
    """The store's tables (``shopguard.store.schema.load_store``)."""
    from shopguard.store.schema import load_store

    return load_store(store_dir)


def _customer_attrs(customers: pd.DataFrame, sensitive: Sequence[str]) -> pd.DataFrame:
    for col in sensitive:
        if col not in customers.columns:
            raise DataValidationError(
                "unknown sensitive column (generate the store with sensitive attributes)",
                column=col,
            )
    return customers.set_index(customers["customer_id"].astype(str))[list(sensitive)]


def audit_store_model(
    name: str,
    *,
    store_dir: Path,
    models_dir: Path,
    sensitive: Sequence[str],
    label_column: str = "TX_FRAUD",
    threshold: float = FRAUD_DECLINE_AT,
    min_group_size: int = 30,
    n_bootstrap: int = 200,
    bars: FairnessBars | None = None,
    k: int = 10,
    max_customers: int = 2000,
    say: Say | None = None,
    store: Any = None,
    scores: Any = None,
) -> dict[str, Any]:
    """Audit a store model (``fraud`` or ``recommender``) on the store's data.

    ``store`` (loaded tables) and ``scores`` (the fraud model's scores of every transaction)
    may be passed to skip loading and scoring again.
    """
    tell = say or (lambda _m: None)
    if name not in STORE_MODELS:
        raise ModelError(f"no fairness audit for model {name!r} (known: {', '.join(STORE_MODELS)})")
    if not (models_dir / name).is_dir():
        raise ModelError(f"model {name} not found under {models_dir}")
    if store is None:
        tell("loading the store")
        store = store_frame(store_dir)
    if name == "fraud":
        from shopguard.store.fraud import FraudModel

        if not sensitive:
            raise DataValidationError("name at least one sensitive column")
        attrs = _customer_attrs(store.customers, sensitive)
        tx = store.transactions
        if label_column not in tx.columns:
            raise DataValidationError("missing labels", column=label_column)
        labels = pd.to_numeric(tx[label_column], errors="raise")
        if labels.isna().any():
            raise DataValidationError("missing label", column=label_column)
        if scores is None:
            model = FraudModel.load(models_dir / name)
            tell("scoring the store's transactions")
            scores = model.score(tx)
        scores = np.asarray(scores, dtype=np.float64)
        if len(scores) != len(tx):
            raise DataValidationError("scores do not match the transactions")
        pred = (scores >= threshold).astype(np.int64)
        y = labels.to_numpy().astype(np.int64)
        report: dict[str, Any] = {
            "model": name,
            "rows": len(tx),
            "decision": f"decline when score >= {threshold}",
            "labels": label_column,
            "min_group_size": min_group_size,
            "average_precision": float(average_precision_score(y, scores)) if y.any() else None,
            "audits": {},
        }
        cust = tx["CUSTOMER_ID"].astype(str)
        for col in sensitive:
            tell(f"auditing {col}")
            groups = cust.map(attrs[col]).fillna("unknown").to_numpy()
            report["audits"][col] = _audit_json(
                audit_predictions(
                    y,
                    pred,
                    groups,
                    y_score=scores,
                    attribute=col,
                    min_group_size=min_group_size,
                    n_bootstrap=n_bootstrap,
                    bars=bars,
                )
            )
        return report
    # recommender: exposure of seller groups in the top-k lists
    from shopguard.store.recommender import Recommender

    products = store.products
    if "seller_size" not in products.columns:
        raise DataValidationError(
            "products have no seller groups (generate the store with sensitive attributes)",
            column="seller_size",
        )
    rec = Recommender.load(models_dir / name)
    ids = store.customers["customer_id"].astype(str).to_numpy()[:max_customers]
    tell(f"ranking for {len(ids)} customers")
    rankings = []
    for cid in ids:
        rankings.append([str(i) for i in rec.recommend(cid, k=k)])
    groups = dict(
        zip(products["product_id"].astype(str), products["seller_size"].astype(str), strict=True)
    )
    purchases = store.orders["product_id"].astype(str).value_counts().to_dict()
    rows = exposure_audit(rankings, groups, relevance=purchases)
    return {
        "model": name,
        "rankings": len(rankings),
        "k": k,
        "attention": "1 / log2(1 + rank)",
        "exposure": [r.to_json() for r in rows],
        "verdict": "outside_bars" if any(r.status != "ok" for r in rows) else "within_bars",
    }


def price_report(
    store_dir: Path, *, sensitive: Sequence[str], min_group_size: int = 30
) -> dict[str, Any]:
    """Prices paid relative to list prices, and discounts, per customer group."""
    store = store_frame(store_dir)
    attrs = _customer_attrs(store.customers, sensitive)
    list_prices = dict(
        zip(
            store.products["product_id"].astype(str),
            store.products["price"].astype(float),
            strict=True,
        )
    )
    out: dict[str, Any] = {"min_group_size": min_group_size, "groups": {}}
    for col in sensitive:
        rows = price_audit(
            store.orders,
            list_prices,
            {str(c): str(v) for c, v in attrs[col].items()},
            min_group_size=min_group_size,
        )
        out["groups"][col] = [r.to_json() for r in rows]
    return out


def proxy_report(
    frame: pd.DataFrame, sensitive: str, *, threshold: float = 0.3
) -> list[dict[str, Any]]:
    """Proxy scan as plain dicts."""
    return [f.to_json() for f in proxy_scan(frame, sensitive, threshold=threshold)]
