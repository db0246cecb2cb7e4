"""Mitigation narrows the gaps it targets, on data where the gap is real."""

from __future__ import annotations

import numpy as np
import pytest
from fairlearn.metrics import demographic_parity_difference
from sklearn.linear_model import LogisticRegression

from shopguard.core.errors import ModelError
from shopguard.fairness import (
    Constraint,
    ExponentiatedGradient,
    GroupThresholdOptimizer,
    reweighing_weights,
)


def _biased(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = np.where(rng.random(n) < 0.4, "b", "a")
    x = rng.normal(size=(n, 3)) + (g == "a")[:, None] * 0.8
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 0.7, n) > 0.8).astype(int)
    return x, y, g


def test_threshold_optimizer_when_dp_then_selection_rates_equalised_out_of_sample() -> None:
    x, y, g = _biased()
    xt, yt, gt = _biased(seed=1)
    model = LogisticRegression().fit(x, y)
    s, st = model.predict_proba(x)[:, 1], model.predict_proba(xt)[:, 1]
    before = demographic_parity_difference(yt, (st >= 0.5).astype(int), sensitive_features=gt)
    opt = GroupThresholdOptimizer().fit(s, y, g)
    after = demographic_parity_difference(yt, opt.predict(st, gt), sensitive_features=gt)
    assert before > 0.2 and after < 0.04
    assert set(opt.thresholds_) == {"a", "b"} and opt.thresholds_["b"] < opt.thresholds_["a"]


def test_threshold_optimizer_when_fpr_parity_with_target_then_fprs_meet_target() -> None:
    x, y, g = _biased()
    s = LogisticRegression().fit(x, y).predict_proba(x)[:, 1]
    opt = GroupThresholdOptimizer(
        constraint=Constraint.FALSE_POSITIVE_RATE_PARITY, target_rate=0.1
    ).fit(s, y, g)
    pred = opt.predict(s, g)
    for grp in ("a", "b"):
        neg = (g == grp) & (y == 0)
        assert pred[neg].mean() == pytest.approx(0.1, abs=0.01)
    shifted = opt.transform(s, g)
    # one threshold on the shifted score makes the same decisions
    assert np.array_equal((shifted >= opt.pooled_threshold_).astype(int), pred)


def test_threshold_optimizer_when_not_fitted_then_model_error() -> None:
    with pytest.raises(ModelError):
        GroupThresholdOptimizer().predict([0.5], ["a"])


def test_exponentiated_gradient_when_dp_constrained_then_gap_shrinks() -> None:
    x, y, g = _biased(n=3000)
    base = LogisticRegression().fit(x, y).predict(x)
    eg = ExponentiatedGradient(LogisticRegression(), eps=0.01, max_iter=30).fit(x, y, sensitive=g)
    pred = eg.predict(x)
    before = demographic_parity_difference(y, base, sensitive_features=g)
    after = demographic_parity_difference(y, pred, sensitive_features=g)
    assert after < before / 3
    p = eg.predict_proba(x)
    assert np.allclose(p.sum(axis=1), 1.0) and np.abs(eg.weights_.sum() - 1) < 1e-9


def test_reweighing_when_applied_then_label_independent_of_group() -> None:
    _, y, g = _biased()
    w = reweighing_weights(y, g)
    rates = [np.average(y[g == grp], weights=w[g == grp]) for grp in ("a", "b")]
    assert rates[0] == pytest.approx(rates[1])
    assert np.average(y, weights=w) == pytest.approx(y.mean())
