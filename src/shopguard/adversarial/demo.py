"""What the demo gives the adversarial checks: the served image model and a fixed held-out sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shopguard.core.errors import DataValidationError
from shopguard.core.settings import Settings

__all__ = ["demo_resources"]


def demo_resources(
    settings: Settings, *, n: int = 100, data_dir: Path | None = None
) -> dict[str, Any]:
    """``{"adversarial_images": ...}`` for the check context; empty when the image data is absent."""
    from shopguard.store.images.images_train import holdout_split, load_fashion_subset

    try:
        X, y = load_fashion_subset(data_dir)
    except DataValidationError:  # the shared data set is optional: the checks are then skipped
        return {}
    _, test = holdout_split(y)
    pick = test[np.linspace(0, len(test) - 1, n).astype(int)]
    return {
        "adversarial_images": {"model": settings.images_model, "images": X[pick], "labels": y[pick]}
    }
