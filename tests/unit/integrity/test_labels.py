from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score

from shopguard.core.errors import DataValidationError
from shopguard.integrity.labels import LabelIssueDetector, source_weights


def _data(seed: int = 0, n: int = 1500):
    x, y = make_classification(
        n_samples=n, n_features=8, n_informative=5, weights=[0.75], class_sep=1.4, random_state=seed
    )
    return x, y


def test_label_audit_when_random_flips_then_most_flips_found() -> None:
    x, y = _data()
    rng = np.random.default_rng(0)
    flipped = np.zeros(len(y), dtype=bool)
    flipped[rng.choice(len(y), 150, replace=False)] = True
    noisy = np.where(flipped, 1 - y, y)
    det = LabelIssueDetector(rounds=2, folds=3).fit(x, noisy)
    found = det.suspected_
    assert (found & flipped).sum() / flipped.sum() >= 0.7
    assert (found & flipped).sum() / found.sum() >= 0.7
    assert det.risk_score()[flipped].mean() > det.risk_score()[~flipped].mean() + 0.3


def test_label_audit_when_one_source_poisoned_then_model_ap_stays_near_clean() -> None:
    x, y = _data(seed=1, n=2400)
    xt, yt = x[1600:], y[1600:]
    x, y = x[:1600], y[:1600]
    rng = np.random.default_rng(1)
    sources = np.array(["chargeback", "manual", "processor"])[rng.integers(0, 3, len(y))]
    # The processor feed is compromised: it marks 60 % of its frauds as legitimate.
    fraud_from_proc = np.flatnonzero((sources == "processor") & (y == 1))
    flips = rng.choice(fraud_from_proc, int(0.6 * len(fraud_from_proc)), replace=False)
    noisy = y.copy()
    noisy[flips] = 0

    def ap(labels, mask=None, weight=None):
        m = np.ones(len(labels), bool) if mask is None else mask
        model = HistGradientBoostingClassifier(random_state=0).fit(
            x[m], labels[m], sample_weight=None if weight is None else weight[m]
        )
        return average_precision_score(yt, model.predict_proba(xt)[:, 1])

    clean, poisoned = ap(y), ap(noisy)
    det = LabelIssueDetector(rounds=2, folds=3).fit(x, noisy, sources=sources)
    defended = ap(noisy, det.training_mask(), det.weights_)
    assert det.source_rates_["processor"] > 2 * det.source_rates_["manual"]
    assert poisoned < clean - 0.01  # the poison hurts without the defence
    print(f"AP clean {clean:.4f} poisoned {poisoned:.4f} defended {defended:.4f}")
    assert defended >= clean - 0.03  # within 3 AP points of the clean model
    assert defended > poisoned


def test_source_weights_when_one_source_dominates_then_capped() -> None:
    sources = np.array(["a"] * 80 + ["b"] * 10 + ["c"] * 10)
    w = source_weights(sources, np.zeros(100, dtype=bool), max_share=0.5)
    share_a = w[sources == "a"].sum() / w.sum()
    assert share_a == pytest.approx(0.5, abs=1e-6)


def test_label_audit_when_labels_not_binary_then_error() -> None:
    x, y = _data(n=100)
    with pytest.raises(DataValidationError):
        LabelIssueDetector().fit(x, np.where(y == 1, 2, 0))
    with pytest.raises(DataValidationError):
        LabelIssueDetector().fit(x[:50], y)
