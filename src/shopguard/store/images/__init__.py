"""The store's product-image classifier (Fashion-MNIST classes) and its upload validation.

Upload validation and the IDX reader need no torch; the model symbols import torch on first
use, so the gateway starts without it until an image route is called.

Examples
--------
>>> model = load_classifier("robust")                              # doctest: +SKIP
>>> img = validate_upload(png_bytes, content_type="image/png")     # doctest: +SKIP
>>> CLASSES[int(model.predict(img.pixels[None])[0])]               # doctest: +SKIP

References
----------
Xiao, Rasul, Vollgraf, "Fashion-MNIST", arXiv:1708.07747, 2017.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from shopguard.store.images._idx import read_idx, read_idx_images, read_idx_labels
from shopguard.store.images._meta import CLASSES, IMAGE_SHAPE
from shopguard.store.images._upload import (
    ImageRejected,
    ImageTooLarge,
    InvalidImage,
    UnsupportedImageType,
    UploadLimits,
    ValidatedImage,
    validate_upload,
)

if TYPE_CHECKING:
    from shopguard.store.images._model import (
        REFERENCE_MODELS,
        FloorStrideCNN,
        ImageClassifier,
        SmallCNN,
        StrideCNN,
        WideStrideCNN,
        load_classifier,
        reference_model_path,
        save_classifier,
        to_tensor,
    )

__all__ = [
    "CLASSES",
    "IMAGE_SHAPE",
    "REFERENCE_MODELS",
    "FloorStrideCNN",
    "ImageClassifier",
    "ImageRejected",
    "ImageTooLarge",
    "InvalidImage",
    "SmallCNN",
    "StrideCNN",
    "UnsupportedImageType",
    "UploadLimits",
    "ValidatedImage",
    "WideStrideCNN",
    "load_classifier",
    "read_idx",
    "read_idx_images",
    "read_idx_labels",
    "reference_model_path",
    "save_classifier",
    "to_tensor",
    "validate_upload",
]

_LAZY = frozenset(
    {
        "REFERENCE_MODELS",
        "FloorStrideCNN",
        "ImageClassifier",
        "SmallCNN",
        "StrideCNN",
        "WideStrideCNN",
        "load_classifier",
        "reference_model_path",
        "save_classifier",
        "to_tensor",
    }
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module("shopguard.store.images._model"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
