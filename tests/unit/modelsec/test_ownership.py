from __future__ import annotations

import numpy as np
import pytest

from shopguard.core.errors import DataValidationError
from shopguard.modelsec.ownership import Fingerprint, build_fingerprint, verify_ownership


def _model(seed: int, *, quirk: float = 0.0):
    """A score function: a shared task signal plus this model's own idiosyncrasy."""
    w = np.random.default_rng(seed).normal(size=3)

    def score(bodies):
        x = np.array(
            [
                [np.log1p(b["amount"]), b["account_age_days"] / 3650, float(b["device_is_new"])]
                for b in bodies
            ]
        )
        base = 1 / (1 + np.exp(-(x[:, 0] - 4 + 2 * x[:, 2])))
        own = 0.15 * np.sin(5 * (x @ w))
        return np.clip(base + own + quirk, 0, 1)

    return score


def test_ownership_when_copy_then_small_p_and_independent_not_claimed() -> None:
    ours = _model(1)
    fp = build_fingerprint(
        ours,
        [_model(2), _model(3)],
        [_model(10 + i) for i in range(6)],
        key=b"k" * 32,
        k=50,
        candidates=600,
    )
    assert len(fp.bodies) == 50

    def noisy(bodies):
        return np.clip(
            np.asarray(ours(bodies)) + np.random.default_rng(0).normal(0, 0.01, len(bodies)), 0, 1
        )

    stolen = verify_ownership(noisy, fp)
    assert stolen.ours and stolen.p_value < 0.01
    other = verify_ownership(_model(99), fp)
    assert not other.ours and other.p_value > 0.01


def test_fingerprint_when_key_differs_then_queries_differ_and_round_trip() -> None:
    refs, nulls = [_model(2)], [_model(10 + i) for i in range(3)]
    a = build_fingerprint(_model(1), refs, nulls, key=b"a" * 32, k=10, candidates=100)
    b = build_fingerprint(_model(1), refs, nulls, key=b"b" * 32, k=10, candidates=100)
    assert a.bodies != b.bodies
    assert Fingerprint.from_json(a.to_json()) == a
    with pytest.raises(DataValidationError):
        Fingerprint.from_json({"format": "other"})
    with pytest.raises(DataValidationError):
        build_fingerprint(_model(1), refs, nulls[:2], key=b"a" * 32)
