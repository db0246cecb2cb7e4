"""A reduced training (600 images, one epoch) for the code paths; full runs live in bench/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from shopguard.store.images import ImageClassifier
from shopguard.store.images.images_train import (
    TrainMethod,
    holdout_split,
    load_fashion_subset,
    train_classifier,
)

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "fashion_mnist_subset"


@pytest.fixture(scope="session")
def fashion() -> dict[str, Any]:
    torch.set_num_threads(2)
    X, y = load_fashion_subset(DATA)
    train, test = holdout_split(y)
    rng = np.random.default_rng(0)
    small = np.sort(rng.choice(train, size=600, replace=False))
    return {"X": X, "y": y, "train": small, "fit": train[::7], "test": test[::10]}


@pytest.fixture(scope="session")
def tiny_model(fashion: dict[str, Any]) -> ImageClassifier:
    X, y, idx = fashion["X"], fashion["y"], fashion["train"]
    return train_classifier(
        X[idx],
        y[idx],
        name="tiny",
        method=TrainMethod.STANDARD,
        epochs=1,
        batch_size=64,
        max_lr=5e-3,
    )
