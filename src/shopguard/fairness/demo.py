"""What the demo needs for the fairness checks: model cards, a recorded audit, risky payments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from shopguard.fairness.cards import FAIRNESS_FILE, collect_card, write_card
from shopguard.fairness.runs import audit_store_model

__all__ = ["prepare"]


def prepare(home: Path, transactions: pd.DataFrame, *, n_risky: int = 30) -> dict[str, Any]:
    """Record the fraud audit beside the model, write every model's card; return resources."""
    models = home / "models"
    if (home / "store").is_dir() and (models / "fraud").is_dir():
        report = audit_store_model(
            "fraud",
            store_dir=home / "store",
            models_dir=models,
            sensitive=["region", "age_band"],
            n_bootstrap=100,
        )
        (models / "fraud" / FAIRNESS_FILE).write_text(json.dumps(report, indent=2) + "\n")
    cards = home / "reports" / "cards"
    for d in sorted(p for p in models.iterdir() if p.is_dir()):
        write_card(collect_card(d.name, models), cards)
    fraud = transactions[transactions["TX_FRAUD"] == 1].tail(n_risky)
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
        "fairness_cards_dir": cards,
        "fairness_risky_transactions": risky,
    }
