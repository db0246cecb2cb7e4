"""Class names and input shape of the product-image classifier (no torch import)."""

from __future__ import annotations

__all__ = ["CLASSES", "IMAGE_SHAPE"]

#: Fashion-MNIST class names, in label order.
CLASSES: tuple[str, ...] = (
    "t-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)
IMAGE_SHAPE: tuple[int, int] = (28, 28)
