"""IDX files (the MNIST / Fashion-MNIST format), read with every header field checked.

Format: big-endian magic ``0x0000 <type> <ndim>``, then ``ndim`` uint32 dimensions, then the
data. Only unsigned-byte data (type ``0x08``) is accepted: images ``(n, rows, cols)`` and
labels ``(n,)``. Gzip is detected by its magic bytes, not by the file name.

References
----------
LeCun, Cortes, Burges, "The MNIST database", file formats section.
http://yann.lecun.com/exdb/mnist/
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from shopguard.core.errors import DataValidationError

__all__ = ["MAX_IDX_BYTES", "read_idx", "read_idx_images", "read_idx_labels"]

#: Refuse IDX files whose decompressed payload would exceed this (a gzip bomb guard).
MAX_IDX_BYTES = 512 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_UBYTE = 0x08


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError:
        raise DataValidationError("cannot read file", file=path.name) from None
    if raw[:2] != _GZIP_MAGIC:
        return raw
    out = bytearray()
    decomp = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        chunk = decomp.decompress(raw, MAX_IDX_BYTES + 1)
        out += chunk
        if len(out) > MAX_IDX_BYTES or decomp.unconsumed_tail:
            raise DataValidationError("decompressed size over the limit", file=path.name)
        if not decomp.eof:
            raise DataValidationError("truncated gzip stream", file=path.name)
    except (zlib.error, gzip.BadGzipFile, EOFError):
        raise DataValidationError("not a valid gzip file", file=path.name) from None
    return bytes(out)


def read_idx(path: str | Path) -> NDArray[np.uint8]:
    """The unsigned-byte array stored in an IDX file (optionally gzip-compressed)."""
    p = Path(path)
    raw = _read_bytes(p)
    if len(raw) < 4:
        raise DataValidationError("too short for an IDX header", file=p.name)
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != _UBYTE or not 1 <= ndim <= 3:
        raise DataValidationError("not an unsigned-byte IDX file (bad magic)", file=p.name)
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataValidationError("truncated IDX header", file=p.name)
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != expected:
        raise DataValidationError(
            f"payload is {len(raw) - header} bytes, header says {expected}", file=p.name
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def read_idx_images(path: str | Path, *, shape: tuple[int, int] = (28, 28)) -> NDArray[np.uint8]:
    """Images ``(n, rows, cols)`` from an IDX file; ``shape`` is what the model takes."""
    arr = read_idx(path)
    if arr.ndim != 3 or tuple(arr.shape[1:]) != shape:
        raise DataValidationError(
            f"expected images of {shape[0]}x{shape[1]}, got shape {arr.shape}", file=Path(path).name
        )
    return arr


def read_idx_labels(path: str | Path, *, n_classes: int = 10) -> NDArray[np.uint8]:
    """Labels ``(n,)`` from an IDX file, each in ``[0, n_classes)``."""
    arr = read_idx(path)
    if arr.ndim != 1:
        raise DataValidationError(
            f"expected a 1-d label file, got shape {arr.shape}", file=Path(path).name
        )
    if arr.size and int(arr.max()) >= n_classes:
        raise DataValidationError(f"label outside 0..{n_classes - 1}", file=Path(path).name)
    return arr
