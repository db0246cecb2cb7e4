"""Attacks stay inside their budget and hurt an undefended model; the robustness table is honest."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shopguard.adversarial.attacks import Attack, AttackSpec, run_attack
from shopguard.adversarial.robustness import accuracy_under, evaluate_robustness, render_table
from shopguard.core.errors import ConfigError
from shopguard.store.images import to_tensor


@pytest.mark.parametrize("attack", [Attack.FGSM, Attack.PGD])
def test_run_attack_when_white_box_then_inside_eps_ball_and_pixel_range(
    tiny_model, fashion, attack
) -> None:
    X, y, idx = fashion["X"], fashion["y"], fashion["test"][:40]
    adv = run_attack(tiny_model, X[idx], y[idx], AttackSpec(attack, 0.1, steps=5))
    x0 = to_tensor(X[idx])
    assert adv.shape == x0.shape
    assert float((adv - x0).abs().max()) <= 0.1 + 1e-6
    assert float(adv.min()) >= 0.0 and float(adv.max()) <= 1.0


def test_pgd_when_standard_model_then_accuracy_drops_well_below_clean(tiny_model, fashion) -> None:
    X, y, idx = fashion["X"], fashion["y"], fashion["test"]
    clean = accuracy_under(tiny_model, X[idx], y[idx], None)
    attacked = accuracy_under(tiny_model, X[idx], y[idx], AttackSpec(Attack.PGD, 0.1, steps=10))
    assert clean > 0.5
    assert attacked <= clean - 0.15


def test_pgd_when_seeded_then_reproducible(tiny_model, fashion) -> None:
    X, y, idx = fashion["X"], fashion["y"], fashion["test"][:20]
    spec = AttackSpec(Attack.PGD, 0.1, steps=3, random_state=7)
    assert torch.equal(
        run_attack(tiny_model, X[idx], y[idx], spec), run_attack(tiny_model, X[idx], y[idx], spec)
    )


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("attack", [Attack.APGD, Attack.SQUARE])
def test_art_attacks_when_run_then_bounded_and_not_above_clean_accuracy(
    tiny_model, fashion, attack
) -> None:
    X, y, idx = fashion["X"], fashion["y"], fashion["test"][:30]
    spec = AttackSpec(attack, 0.1, steps=10)
    adv = run_attack(tiny_model, X[idx], y[idx], spec)
    x0 = to_tensor(X[idx])
    assert float((adv - x0).abs().max()) <= 0.1 + 1e-5
    clean = float(np.mean(tiny_model.predict(X[idx]) == y[idx]))
    assert float(np.mean(tiny_model.predict(adv.numpy()) == y[idx])) < clean


def test_attack_spec_when_eps_out_of_range_then_config_error() -> None:
    with pytest.raises(ConfigError):
        AttackSpec(Attack.PGD, 0.0)
    with pytest.raises(ConfigError):
        AttackSpec(Attack.PGD, 1.5)


def test_evaluate_robustness_when_two_eps_then_clean_row_first_and_monotone(
    tiny_model, fashion
) -> None:
    X, y, idx = fashion["X"], fashion["y"], fashion["test"][:50]
    seen: list[str] = []
    rows = evaluate_robustness(
        tiny_model,
        X[idx],
        y[idx],
        attacks=[Attack.PGD],
        eps_values=[0.05, 0.2],
        steps={Attack.PGD: 5},
        progress=seen.append,
    )
    assert [r.attack for r in rows] == ["clean", "pgd", "pgd"]
    assert seen == ["clean", "pgd eps=0.05", "pgd eps=0.2"]
    assert rows[0].accuracy >= rows[1].accuracy >= rows[2].accuracy
    assert all(r.n == 50 for r in rows)
    assert "| tiny | pgd | 0.2 |" in render_table(rows)
