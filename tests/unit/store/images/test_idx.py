"""IDX reading: the shipped subset loads; malformed files are refused with a named reason."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from shopguard.core.errors import DataValidationError
from shopguard.store.images import read_idx_images, read_idx_labels
from shopguard.store.images.images_train import holdout_split, load_fashion_subset


def _write_idx(path: Path, arr: np.ndarray, *, gz: bool = True) -> Path:
    header = struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    raw = header + arr.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def test_load_fashion_subset_when_shared_data_then_10k_images_and_fixed_holdout(
    shared_data,
) -> None:
    X, y = load_fashion_subset(shared_data / "fashion_mnist_subset")
    assert X.shape == (10_000, 28, 28) and y.shape == (10_000,)
    train, test = holdout_split(y)
    assert len(test) == 1000 and len(train) == 9000
    assert np.bincount(y[test]).tolist() == [100] * 10
    assert not set(train) & set(test)
    _, again_test = holdout_split(y)
    np.testing.assert_array_equal(test, again_test)


def test_read_idx_when_plain_or_gzip_then_same_array(tmp_path) -> None:
    arr = np.random.default_rng(0).integers(0, 255, (3, 28, 28))
    a = read_idx_images(_write_idx(tmp_path / "a.gz", arr))
    b = read_idx_images(_write_idx(tmp_path / "b", arr, gz=False))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, arr)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda raw: raw[:-5],  # truncated payload
        lambda raw: b"\x00\x00\x0d\x03" + raw[4:],  # float type
        lambda raw: b"PK\x03\x04" + raw[4:],  # not IDX at all
        lambda raw: raw[:10],  # truncated header
    ],
)
def test_read_idx_when_malformed_then_data_validation_error(tmp_path, mutate) -> None:
    good = _write_idx(tmp_path / "g", np.zeros((2, 28, 28)), gz=False).read_bytes()
    bad = tmp_path / "bad.idx"
    bad.write_bytes(mutate(good))
    with pytest.raises(DataValidationError):
        read_idx_images(bad)


def test_read_idx_when_wrong_shape_or_label_range_then_refused(tmp_path) -> None:
    with pytest.raises(DataValidationError, match="28x28"):
        read_idx_images(_write_idx(tmp_path / "i.gz", np.zeros((2, 32, 32))))
    with pytest.raises(DataValidationError, match="label"):
        read_idx_labels(_write_idx(tmp_path / "l.gz", np.array([1, 12])))


def test_read_idx_when_gzip_truncated_then_refused(tmp_path) -> None:
    path = _write_idx(tmp_path / "t.gz", np.zeros((5, 28, 28)))
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(DataValidationError, match="gzip"):
        read_idx_images(path)
