"""A small trained fraud model directory, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopguard.store.fraud import train_fraud
from shopguard.store.generate import generate_store


@pytest.fixture(scope="session")
def fraud_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = generate_store(seed=3, customers=1000, days=30)
    model = train_fraud(
        store.transactions,
        random_state=0,
        validation_days=0,
        params={"max_iter": 20, "max_depth": 3, "learning_rate": 0.1},
    )
    return model.save(tmp_path_factory.mktemp("models") / "fraud")
