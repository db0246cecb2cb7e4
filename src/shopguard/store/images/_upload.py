"""Upload validation: an image is checked from its bytes and headers before any pixel is decoded.

Order of checks (each refusal is a typed error the gateway maps to a 4xx problem):

1. size: empty -> 422, over ``max_bytes`` -> 413;
2. type: the magic bytes must be PNG or JPEG (else 415) and agree with the declared
   ``Content-Type`` (a mislabelled upload -> 415);
3. header: Pillow parses the header only (``Image.open`` is lazy); dimensions over
   ``max_side`` or a pixel count over ``max_pixels`` (a decompression bomb) -> 413,
   an unsupported mode or an unparseable header -> 422;
4. only then the pixels are decoded; a truncated or corrupt stream -> 422.

The classifier only ever receives the resulting 28x28 uint8 array.

References
----------
Pillow documentation, "Decompression bomb protection" (``Image.MAX_IMAGE_PIXELS``).
https://pillow.readthedocs.io/en/stable/reference/Image.html
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from shopguard.core.errors import ShopguardError

__all__ = [
    "ImageRejected",
    "ImageTooLarge",
    "InvalidImage",
    "UnsupportedImageType",
    "UploadLimits",
    "ValidatedImage",
    "validate_upload",
]

_MAGIC: dict[str, tuple[bytes, ...]] = {
    "PNG": (b"\x89PNG\r\n\x1a\n",),
    "JPEG": (b"\xff\xd8\xff",),
}
_MEDIA_TYPES: dict[str, frozenset[str]] = {
    "PNG": frozenset({"image/png"}),
    "JPEG": frozenset({"image/jpeg", "image/jpg"}),
}
_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA"})


class ImageRejected(ShopguardError):
    """An uploaded image was refused before reaching the model."""

    http_status = 422
    title = "Invalid image"


class InvalidImage(ImageRejected):
    """Empty, corrupt, truncated, or of an unsupported pixel mode."""


class UnsupportedImageType(ImageRejected):
    """Not PNG/JPEG, or the declared media type disagrees with the bytes."""

    http_status = 415
    title = "Unsupported image type"


class ImageTooLarge(ImageRejected):
    """Over the byte, side or pixel limits (a decompression bomb among them)."""

    http_status = 413
    title = "Image too large"


@dataclass(frozen=True)
class UploadLimits:
    """What an upload may be. Defaults fit product thumbnails; the model sees 28x28."""

    max_bytes: int = 256 * 1024
    max_side: int = 1024
    max_pixels: int = 1024 * 1024
    formats: tuple[str, ...] = ("PNG", "JPEG")


@dataclass(frozen=True)
class ValidatedImage:
    """A decoded, model-ready image and what was checked; holds a digest, not the upload."""

    pixels: NDArray[np.uint8]
    format: str
    width: int
    height: int
    sha256: str


def _sniff(data: bytes, formats: tuple[str, ...]) -> str:
    for fmt in formats:
        if any(data.startswith(m) for m in _MAGIC.get(fmt, ())):
            return fmt
    raise UnsupportedImageType(f"not a {' or '.join(formats)} image")


def validate_upload(
    data: bytes,
    *,
    content_type: str | None,
    limits: UploadLimits | None = None,
    size: tuple[int, int] = (28, 28),
) -> ValidatedImage:
    """Check ``data`` against ``limits`` and decode it to grey ``size`` pixels.

    Raises
    ------
    ImageTooLarge, UnsupportedImageType, InvalidImage
        As described in the module docstring; messages name limits, never content.

    Warnings
    --------
    Pixels are taken as they are (Fashion-MNIST convention: light item on a dark background);
    the caller converts other conventions before upload.
    """
    lim = limits or UploadLimits()
    if not data:
        raise InvalidImage("empty upload")
    if len(data) > lim.max_bytes:
        raise ImageTooLarge(f"upload over {lim.max_bytes} bytes")
    fmt = _sniff(data, lim.formats)
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared not in _MEDIA_TYPES[fmt]:
        raise UnsupportedImageType(f"Content-Type does not match the {fmt} content")
    try:
        with warnings.catch_warnings():
            # Pillow warns (and past 2x errors) on huge images; our own limit is stricter.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[fmt])
            width, height = img.size
            if width < 1 or height < 1:
                raise InvalidImage("image has no pixels")
            if width > lim.max_side or height > lim.max_side:
                raise ImageTooLarge(f"image side over {lim.max_side} pixels")
            if width * height > lim.max_pixels:
                raise ImageTooLarge(f"image over {lim.max_pixels} pixels (decompression bomb)")
            if img.mode not in _MODES:
                raise InvalidImage(f"unsupported pixel mode {img.mode}")
            img.load()
            grey = img.convert("L")
            if grey.size != size:
                grey = grey.resize(size, Image.Resampling.BILINEAR)
            pixels = np.asarray(grey, dtype=np.uint8).copy()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge("image over the decoder's pixel limit (decompression bomb)") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise InvalidImage("corrupt or truncated image") from None
    return ValidatedImage(
        pixels=pixels,
        format=fmt,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )
