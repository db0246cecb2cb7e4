"""The store's reference fraud scorer (Fraud Detection Handbook layout).

Transactions carry ``TRANSACTION_ID, TX_DATETIME, CUSTOMER_ID, TERMINAL_ID, TX_AMOUNT`` and,
for training, the label ``TX_FRAUD``. The scorer builds its own point-in-time customer and
terminal history features (terminal fraud labels only after a delay) and fits a
histogram gradient-boosting classifier. Whitelisted optional numeric columns of the synthetic
store (:data:`EXTRA_NUMERIC_COLUMNS`) are used when present; every other column, including
``TX_FRAUD_SCENARIO`` and ``fraud_pattern``, is never an input.

Examples
--------
>>> tx = load_transactions("transactions.csv.gz")            # doctest: +SKIP
>>> model = train_fraud(tx, random_state=0)                    # doctest: +SKIP
>>> model.save("models/fraud"); model = FraudModel.load("models/fraud")  # doctest: +SKIP
>>> model.score(new_rows, history=recent_rows)                 # doctest: +SKIP

References
----------
Le Borgne, Siblini, Lebichot, Bontempi, "Reproducible Machine Learning for Credit Card Fraud
Detection - Practical Handbook", ULB / Worldline, 2022.
"""

from shopguard.store.fraud._features import EXTRA_NUMERIC_COLUMNS, build_features
from shopguard.store.fraud._io import (
    LABEL_COLUMN,
    REQUIRED_COLUMNS,
    load_transactions,
    validate_transactions,
)
from shopguard.store.fraud._model import (
    TRUSTED_TYPES,
    FraudModel,
    card_precision_at_k,
    feature_frame,
    handbook_test_mask,
    train_fraud,
)

__all__ = [
    "EXTRA_NUMERIC_COLUMNS",
    "LABEL_COLUMN",
    "REQUIRED_COLUMNS",
    "TRUSTED_TYPES",
    "FraudModel",
    "build_features",
    "card_precision_at_k",
    "feature_frame",
    "handbook_test_mask",
    "load_transactions",
    "train_fraud",
    "validate_transactions",
]
