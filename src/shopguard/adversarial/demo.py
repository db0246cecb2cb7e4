"""What the demo gives the adversarial checks (the served image model and a fixed test sample)
and how it turns the unusual-input guard on for the image route."""

from __future__ import annotations

from typing import Any

from shopguard.core.settings import Settings

__all__ = ["GUARD", "demo_resources", "guard_images"]

GUARD = "adversarial.unusual_input"


def demo_resources(settings: Settings, *, n: int = 100) -> dict[str, Any]:
    """``{"adversarial_images": ..., "fraud_evasion": ...}`` for the check context.

    The image sample is the 100 official Fashion-MNIST test images shipped in
    ``shopguard/store/images/samples`` (no shipped model trained on them), so the checks run on
    any machine; the fraud check reads the store the demo wrote under ``settings.home``.
    """
    from shopguard.store.images.images_train import load_test_sample
    from shopguard.store.service import STORE_DIR

    X, y = load_test_sample()
    return {
        "adversarial_images": {"model": settings.images_model, "images": X[:n], "labels": y[:n]},
        "fraud_evasion": {"store_dir": settings.home / STORE_DIR},
    }


def guard_images(settings: Settings) -> Settings:
    """``settings`` with the unusual-input guard scoring and refusing image uploads.

    The guard joins ``gateway_guards`` in stage order (after the rate limit and the other
    input guards, before the output guards). It scores ``images.classify`` only: the demo's
    fraud route is probed on purpose with out-of-distribution payments by the model-theft
    checks and attacks, which must meet the extraction guards, not this one.
    """
    import shopguard.gateway.app  # noqa: F401  (registers every guard)
    from shopguard.gateway.pipeline import guards

    names = [g for g in settings.gateway_guards if g != GUARD] + [GUARD]
    # A stable sort keeps the configured order within each stage.
    ordered = sorted(names, key=lambda g: guards.get(g).stage)
    return settings.model_copy(
        update={
            "gateway_guards": ordered,
            "adversarial_refuse": True,
            "adversarial_routes": ["images.classify"],
        }
    )
