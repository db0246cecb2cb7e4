"""What the demo needs for the fairness checks: audits, model cards, risky payments.

Everything expensive (scoring the store, ranking for customers) happens once here; the
checks judge the results.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from shopguard.core.errors import DataValidationError
from shopguard.fairness.cards import FAIRNESS_FILE, collect_card, write_card
from shopguard.fairness.runs import STORE_MODELS, audit_store_model
from shopguard.fairness.serving import fit_fraud_mitigation, save_mitigation
from shopguard.store.fraud import FraudModel

__all__ = ["prepare"]

logger = logging.getLogger(__name__)

SENSITIVE = ("region", "age_band")


def prepare(
    home: Path, store: Any, *, fraud_model: FraudModel | None = None, n_risky: int = 30
) -> dict[str, Any]:
    """Run the store models' audits (recorded beside the models), write every model's card.

    ``store`` is the demo's :class:`~shopguard.store.generate.StoreData` (with sensitive
    attributes); ``fraud_model`` the model just saved under ``home/models/fraud`` (loaded from
    there when not given). Returns the scorecard resources of :mod:`shopguard.fairness.checks`.
    """
    models = home / "models"
    model = fraud_model or FraudModel.load(models / "fraud")
    scores = model.score(store.transactions)
    reports: dict[str, Any] = {}
    for name in STORE_MODELS:
        if not (models / name).is_dir():
            continue
        reports[name] = audit_store_model(
            name,
            store_dir=home / "store",
            models_dir=models,
            sensitive=list(SENSITIVE),
            n_bootstrap=100,
            max_customers=500,
            store=store,
            scores=scores if name == "fraud" else None,
        )
        (models / name / FAIRNESS_FILE).write_text(json.dumps(reports[name], indent=2) + "\n")
    if (models / "fraud").is_dir() and "region" in store.customers.columns:
        # the live mitigation the gateway serves when fairness_mitigation selects it; a store
        # too small to fit one (``--customers 200``) simply has none
        try:
            mit, _ = fit_fraud_mitigation(store.transactions, store.customers, scores)
        except DataValidationError:
            logger.info("store too small to fit the live fairness mitigation")
        else:
            save_mitigation(mit, models / "fraud")
    cards = home / "reports" / "cards"
    for d in sorted(p for p in models.iterdir() if p.is_dir()):
        write_card(collect_card(d.name, models), cards)
    tx = store.transactions
    fraud = tx[tx["TX_FRAUD"] == 1].tail(n_risky)
    risky = [
        {
            "transaction_id": f"FAIR-{row['TRANSACTION_ID']}",
            "customer_id": str(row["CUSTOMER_ID"]),
            "terminal_id": str(row["TERMINAL_ID"]),
            "amount": float(row["TX_AMOUNT"]),
            "timestamp": pd.Timestamp(row["TX_DATETIME"]).isoformat(),
            "device_is_new": bool(row["device_is_new"]),
            "ship_bill_mismatch": bool(row["ship_bill_mismatch"]),
            "ip_country_mismatch": bool(row["ip_country_mismatch"]),
            "account_age_days": int(row["account_age_days"]),
        }
        for row in fraud.to_dict("records")
    ]
    return {
        "fairness_home": home,
        "fairness_store": store,
        "fairness_fraud_scores": scores,
        "fairness_reports": reports,
        "fairness_cards_dir": cards,
        "fairness_risky_transactions": risky,
    }
