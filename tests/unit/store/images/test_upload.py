"""Upload validation: refusals happen on bytes and headers, before pixels are decoded."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from shopguard.store.images import (
    ImageTooLarge,
    InvalidImage,
    UnsupportedImageType,
    UploadLimits,
    validate_upload,
)


def _png(arr: np.ndarray, mode: str = "L") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def _bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header claiming huge dimensions, with a tiny compressed body."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_validate_upload_when_grey_png_28_then_pixels_returned_unchanged() -> None:
    arr = np.arange(784, dtype=np.uint8).reshape(28, 28)
    img = validate_upload(_png(arr), content_type="image/png")
    assert img.format == "PNG" and (img.width, img.height) == (28, 28)
    np.testing.assert_array_equal(img.pixels, arr)
    assert len(img.sha256) == 64


def test_validate_upload_when_larger_rgb_jpeg_then_grey_28x28() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (100, 80), (200, 10, 10)).save(buf, format="JPEG")
    img = validate_upload(buf.getvalue(), content_type="image/jpeg")
    assert img.pixels.shape == (28, 28) and img.pixels.dtype == np.uint8


@pytest.mark.parametrize(
    ("data", "ctype", "error"),
    [
        (b"", "image/png", InvalidImage),
        (b"GIF89a" + b"\x00" * 40, "image/gif", UnsupportedImageType),
        (b"%PDF-1.7 not an image", "image/png", UnsupportedImageType),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", UnsupportedImageType),
    ],
)
def test_validate_upload_when_not_an_allowed_image_then_refused(data, ctype, error) -> None:
    with pytest.raises(error):
        validate_upload(data, content_type=ctype)


def test_validate_upload_when_content_type_lies_then_415() -> None:
    data = _png(np.zeros((28, 28), np.uint8))
    with pytest.raises(UnsupportedImageType) as exc:
        validate_upload(data, content_type="image/jpeg")
    assert exc.value.http_status == 415
    with pytest.raises(UnsupportedImageType):
        validate_upload(data, content_type=None)


def test_validate_upload_when_over_byte_limit_then_413_before_parsing() -> None:
    with pytest.raises(ImageTooLarge) as exc:
        validate_upload(
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000,
            content_type="image/png",
            limits=UploadLimits(max_bytes=1000),
        )
    assert exc.value.http_status == 413


def test_validate_upload_when_decompression_bomb_header_then_413_without_decoding() -> None:
    bomb = _bomb_png(50_000, 50_000)  # 2.5 gigapixels claimed in under 100 bytes
    assert len(bomb) < 200
    with pytest.raises(ImageTooLarge, match=r"side|pixel|bomb"):
        validate_upload(bomb, content_type="image/png")
    with pytest.raises(ImageTooLarge, match="decompression bomb"):
        validate_upload(
            _bomb_png(1000, 1000), content_type="image/png", limits=UploadLimits(max_pixels=500_000)
        )


def test_validate_upload_when_truncated_then_422() -> None:
    data = _png(np.random.default_rng(0).integers(0, 255, (28, 28), dtype=np.uint8))
    with pytest.raises(InvalidImage) as exc:
        validate_upload(data[: len(data) // 2], content_type="image/png")
    assert exc.value.http_status == 422


def test_validate_upload_when_16bit_mode_then_refused_as_unsupported_mode() -> None:
    arr = np.zeros((28, 28), dtype=np.uint16)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    with pytest.raises(InvalidImage, match="mode"):
        validate_upload(buf.getvalue(), content_type="image/png")


def test_validate_upload_when_refused_then_message_names_no_content() -> None:
    secret = b"4111111111111111 jane@example.com"
    with pytest.raises(UnsupportedImageType) as exc:
        validate_upload(secret, content_type="image/png")
    assert "4111" not in str(exc.value) and "jane" not in str(exc.value)
