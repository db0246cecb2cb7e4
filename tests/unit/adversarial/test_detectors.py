"""Detectors: the compiled forest equals scikit-learn's; calibration holds; adversarial images are flagged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from shopguard.adversarial.attacks import Attack, AttackSpec, run_attack
from shopguard.adversarial.detectors import (
    CompiledForest,
    ImageSqueezeDetector,
    TabularIsolationDetector,
    detectors,
)
from shopguard.core.errors import ModelError
from shopguard.store.images import ImageClassifier


def _clean_rows(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.normal(4, 1, n), rng.normal(0, 1, n), rng.integers(0, 2, n), rng.normal(5, 0.5, n)]
    )


def test_compiled_forest_when_scored_then_equals_sklearn_score_samples() -> None:
    X = _clean_rows(2000)
    forest = IsolationForest(n_estimators=50, random_state=3).fit(X)
    probe = np.vstack([_clean_rows(300, seed=1), [[40, 9, 1, -3]]])
    np.testing.assert_allclose(
        CompiledForest(forest).score_samples(probe), forest.score_samples(probe), rtol=1e-10
    )


def test_tabular_detector_when_calibrated_then_low_fpr_and_outliers_flagged() -> None:
    det = TabularIsolationDetector(target_fpr=0.02, random_state=0).fit(_clean_rows(5000))
    clean = det.flag(_clean_rows(4000, seed=9)).mean()
    assert clean <= 0.04
    outliers = np.array([[12.0, 6.0, 1.0, 0.0], [-3.0, -6.0, 0.0, 12.0]])
    assert det.flag(outliers).all()
    scores = det.risk_score(_clean_rows(100, seed=2))
    assert ((scores >= 0) & (scores <= 1)).all()


def test_tabular_detector_when_one_row_then_same_score_as_in_a_batch() -> None:
    # the gateway scores one request at a time (its latency: bench/adversarial_tabular.py)
    det = TabularIsolationDetector(random_state=0).fit(_clean_rows(3000))
    rows = np.vstack([_clean_rows(5, seed=4), [[12.0, 6.0, 1.0, 0.0]]])
    batch = det.risk_score(rows)
    single = np.array([float(np.ravel(det.risk_score(r))[0]) for r in rows])
    np.testing.assert_allclose(single, batch, rtol=1e-12)
    assert single[-1] > single[:-1].max()


def test_tabular_detector_when_unfitted_or_wrong_width_then_model_error() -> None:
    with pytest.raises(ModelError):
        TabularIsolationDetector().risk_score(np.zeros((1, 4)))
    det = TabularIsolationDetector().fit(_clean_rows(500))
    with pytest.raises(ModelError):
        det.risk_score(np.zeros((1, 3)))


def test_image_detector_when_pgd_examples_then_flagged_and_clean_mostly_passed(
    tiny_model, fashion
) -> None:
    X, y = fashion["X"], fashion["y"]
    det = ImageSqueezeDetector(model=tiny_model, target_fpr=0.02).fit(X[fashion["fit"]])
    idx = fashion["test"]
    adv = run_attack(tiny_model, X[idx], y[idx], AttackSpec(Attack.PGD, 0.1, steps=10))
    assert det.flag(adv).mean() >= 0.9
    assert det.flag(X[idx]).mean() <= 0.06


def test_image_detector_when_round_tripped_through_json_then_same_scores(
    tiny_model, fashion
) -> None:
    X = fashion["X"]
    det = ImageSqueezeDetector(model=tiny_model).fit(X[fashion["fit"][:300]])
    again = ImageSqueezeDetector.from_json(tiny_model, det.to_json())
    probe = X[fashion["test"][:20]]
    np.testing.assert_allclose(again.risk_score(probe), det.risk_score(probe))
    assert again.threshold_ == det.threshold_
    with pytest.raises(ModelError):
        ImageSqueezeDetector.from_json(tiny_model, {"bits": 3})


def test_detectors_registry_when_listed_then_every_entry_fits_the_convention() -> None:
    for name in detectors.names():
        cls = detectors.get(name)
        assert name.startswith("adversarial.")
        for attr in ("fit", "risk_score", "flag"):
            assert callable(getattr(cls, attr))


def test_calibrate_image_detector_when_background_level_given_then_saved_and_used(
    tmp_path: Path, tiny_model: ImageClassifier
) -> None:
    from shopguard.adversarial.calibrate import calibrate_image_detector
    from shopguard.adversarial.service import load_image_detector
    from shopguard.store.images import save_classifier

    save_classifier(tiny_model, tmp_path)
    data = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "fashion_mnist_subset"
    levels = {}
    for level in (0.05, 0.03):
        path = calibrate_image_detector(
            "tiny", n=200, data_dir=data, weights_dir=tmp_path, background_level=level
        )
        det = load_image_detector(tiny_model, path)
        assert det.background_level == level
        levels[level] = det.reference_[:, 2].copy()  # the background-residual column
    # a lower level counts more pixels as lit: the clean residuals differ
    assert not np.array_equal(levels[0.05], levels[0.03])
