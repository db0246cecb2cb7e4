"""What the demo gives the adversarial checks: the served image model and a fixed test sample."""

from __future__ import annotations

from typing import Any

from shopguard.core.settings import Settings

__all__ = ["demo_resources"]


def demo_resources(settings: Settings, *, n: int = 100) -> dict[str, Any]:
    """``{"adversarial_images": ...}`` for the check context.

    The sample is the 100 official Fashion-MNIST test images shipped in
    ``shopguard/store/images/samples`` (no shipped model trained on them), so the checks run on
    any machine.
    """
    from shopguard.store.images.images_train import load_test_sample

    X, y = load_test_sample()
    return {
        "adversarial_images": {"model": settings.images_model, "images": X[:n], "labels": y[:n]}
    }
