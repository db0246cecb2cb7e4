"""Adaptive attacks on the image detector: they keep to their pixel budgets, and the
threshold-aware one finds images the guarded model gets wrong without a flag."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from shopguard.adversarial.adaptive import (
    background_attack,
    background_mask,
    item_only_attack,
    raw_thresholds,
    threshold_attack,
)
from shopguard.adversarial.attacks import pgd
from shopguard.adversarial.detectors import ImageSqueezeDetector
from shopguard.store.images import ImageClassifier, to_tensor


@pytest.fixture(scope="module")
def guarded(tiny_model: ImageClassifier, fashion: dict[str, Any]) -> dict[str, Any]:
    X, y = fashion["X"], fashion["y"]
    det = ImageSqueezeDetector(model=tiny_model).fit(X[fashion["fit"][:300]])
    idx = fashion["test"][:20]
    return {"det": det, "x": to_tensor(X[idx]), "y": y[idx].astype(np.int64)}


def _unlit_background(det: ImageSqueezeDetector, x: torch.Tensor) -> torch.Tensor:
    return (background_mask(det, x) > 0) & (x <= det.background_level / 2)


def test_pgd_when_upper_given_then_no_pixel_rises_above_it(tiny_model, guarded) -> None:
    x = guarded["x"]
    y = torch.from_numpy(guarded["y"])
    adv = pgd(tiny_model.net, x, y, 0.1, steps=3, upper=x)
    assert bool((adv <= x + 1e-7).all())
    assert float((adv - x).abs().max()) <= 0.1 + 1e-6


def test_item_only_attack_when_run_then_dark_pixels_untouched(tiny_model, guarded) -> None:
    det, x = guarded["det"], guarded["x"]
    adv = item_only_attack(tiny_model, det, x, guarded["y"], 0.1, steps=3)
    dark = x <= det.background_level
    assert torch.equal(adv[dark], x[dark])
    assert float((adv - x).abs().max()) <= 0.1 + 1e-6


@pytest.mark.parametrize("attack", ["background", "threshold_capped"])
def test_background_capped_attacks_when_run_then_unlit_background_stays_unlit(
    tiny_model, guarded, attack
) -> None:
    det, x, y = guarded["det"], guarded["x"], guarded["y"]
    if attack == "background":
        adv = background_attack(tiny_model, det, x, y, 0.2, steps=3, penalty=0.0)
    else:
        adv = threshold_attack(tiny_model, det, x, y, 0.2, steps=3, bound_background=True)
    unlit = _unlit_background(det, x)
    assert unlit.any()
    assert float(adv[unlit].max()) < det.background_level / 2
    assert float((adv - x).abs().max()) <= 0.2 + 1e-6
    assert float(adv.min()) >= 0.0 and float(adv.max()) <= 1.0
    # item pixels do move by more than the background cap
    assert float((adv - x)[~unlit].abs().max()) > det.background_level


def test_raw_thresholds_when_every_score_just_under_then_unflagged_and_at_one_flagged(
    guarded,
) -> None:
    det = guarded["det"]
    t = raw_thresholds(det)
    under = np.nextafter(t, -np.inf)[None, :]
    assert not bool(det._rank(under)[0] > det.threshold_)
    for j in range(3):
        at = under.copy()
        at[0, j] = t[j]
        assert bool(det._rank(at)[0] > det.threshold_)


def test_threshold_attack_when_undefended_model_then_fools_it_unflagged(
    tiny_model, guarded
) -> None:
    det, x, y = guarded["det"], guarded["x"], guarded["y"]
    adv = threshold_attack(tiny_model, det, x, y, 0.1, steps=10)
    assert float((adv - x).abs().max()) <= 0.1 + 1e-6
    evaded = (tiny_model.predict(adv.numpy()) != y) & ~det.flag(adv)
    plain = pgd(tiny_model.net, x, torch.from_numpy(y), 0.1, steps=10)
    plain_evaded = (tiny_model.predict(plain.numpy()) != y) & ~det.flag(plain)
    # plain PGD is caught; an attacker who keeps under the thresholds gets many through
    assert evaded.mean() >= 0.3
    assert evaded.mean() > plain_evaded.mean() + 0.2
