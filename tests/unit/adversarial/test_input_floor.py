"""The input floor of FloorStrideCNN: exact invariance on the background, honest gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from shopguard.adversarial.attacks import pgd
from shopguard.store.images import FloorStrideCNN, StrideCNN, to_tensor
from shopguard.store.images._model import input_floor
from shopguard.store.images.images_train import TrainMethod, train_classifier


def test_input_floor_when_applied_then_dim_pixels_black_and_rest_rescaled() -> None:
    x = torch.tensor([0.0, 0.05, 0.1, 0.55, 1.0])
    out = input_floor(x, 0.1)
    assert torch.allclose(out, torch.tensor([0.0, 0.0, 0.0, 0.5, 1.0]))
    assert torch.equal(out, input_floor(x, 0.1, straight_through=False))


def test_input_floor_when_straight_through_then_gradient_also_on_the_flat_region() -> None:
    # the true gradient is 0 under the floor: an attacker following it would never learn that
    # lifting a dim item pixel past the floor changes the output (gradient masking)
    x = torch.tensor([0.0, 0.05, 0.55], requires_grad=True)
    input_floor(x, 0.1).sum().backward()  # type: ignore[no-untyped-call]
    assert x.grad is not None
    assert torch.allclose(x.grad, torch.full((3,), 1 / 0.9))
    z = torch.tensor([0.0, 0.05, 0.55], requires_grad=True)
    input_floor(z, 0.1, straight_through=False).sum().backward()  # type: ignore[no-untyped-call]
    assert z.grad is not None
    assert z.grad[:2].abs().sum() == 0 and z.grad[2] > 0


def _background_attack(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """PGD-30 at eps 0.1 that may touch only the pixels that are exactly 0 (the background)."""
    background = (x == 0).float()

    def loss(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(net(x + background * (z - x)), t, reduction="none")

    gen = torch.Generator().manual_seed(0)
    adv = pgd(net, x, y, 0.1, steps=30, generator=gen, loss_fn=loss)
    return x + background * (adv - x)


@pytest.mark.parametrize("arch", [StrideCNN, FloorStrideCNN])
def test_background_attack_when_floor_then_logits_unchanged_else_predictions_flip(
    fashion: dict[str, Any], arch: type[StrideCNN]
) -> None:
    # standard training: adversarial training already learns much of this invariance (the
    # session-4 robust StrideCNN lost nothing to this attack), the floor gives it by construction
    X, y, idx = fashion["X"], fashion["y"], fashion["fit"]
    name = arch.__name__
    model = train_classifier(
        X[idx], y[idx], name="t", arch=name, method=TrainMethod.STANDARD, epochs=2, batch_size=64
    )
    net = model.net.eval()
    test = fashion["test"]
    x = to_tensor(X[test])
    t = torch.from_numpy(np.asarray(y[test], dtype=np.int64))
    adv = _background_attack(net, x, t)
    assert float((adv - x).abs().max()) <= 0.1 + 1e-6
    assert float((adv - x).abs().max()) > 0.05  # the attack did move the background
    with torch.no_grad():
        clean, attacked = net(x), net(adv)
    clean_acc = float((clean.argmax(1) == t).float().mean())
    attacked_acc = float((attacked.argmax(1) == t).float().mean())
    if arch is FloorStrideCNN:
        # exactly invariant: no background perturbation within the floor changes anything
        assert torch.equal(clean, attacked)
    else:
        assert clean_acc - attacked_acc > 0.05, (clean_acc, attacked_acc)


def test_accuracy_under_when_floored_network_then_worst_of_both_gradients_per_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shopguard.adversarial import robustness
    from shopguard.adversarial.attacks import Attack, AttackSpec
    from shopguard.store.images import ImageClassifier

    model = ImageClassifier(net=FloorStrideCNN().eval(), name="f")
    images = np.zeros((4, 1, 28, 28), dtype=np.float32)
    labels = np.zeros(4, dtype=np.int64)
    # a stand-in classifier: an image is misclassified once the attack has lit it
    monkeypatch.setattr(
        model, "predict", lambda x: (np.asarray(x).reshape(len(x), -1).mean(1) > 0.5).astype(int)
    )
    seen: list[bool] = []

    def fake_attack(m: ImageClassifier, x: Any, y: Any, spec: AttackSpec) -> torch.Tensor:
        seen.append(m.net.straight_through)
        # each gradient mode breaks a different image: only the per-image worst case counts both
        out = torch.zeros(4, 1, 28, 28)
        out[0 if m.net.straight_through else 1] = 1.0
        return out

    monkeypatch.setattr(robustness, "run_attack", fake_attack)
    acc = robustness.accuracy_under(model, images, labels, AttackSpec(Attack.PGD50, 0.1, steps=50))
    assert seen == [True, False]
    assert model.net.straight_through is True
    assert acc == pytest.approx(0.5)
    seen.clear()
    acc = robustness.accuracy_under(model, images, labels, AttackSpec(Attack.SQUARE, 0.1))
    assert seen == [True]  # a black-box attack reads no gradient: one run
    assert acc == pytest.approx(0.75)


def test_gradient_mode_when_block_raises_then_previous_mode_restored_and_plain_nets_untouched() -> (
    None
):
    from shopguard.store.images._model import gradient_mode

    net = FloorStrideCNN()
    with pytest.raises(RuntimeError), gradient_mode(net, straight_through=False):
        assert net.straight_through is False
        raise RuntimeError("attack failed")
    assert net.straight_through is True
    plain = StrideCNN()
    with gradient_mode(plain, straight_through=False):
        assert not hasattr(plain, "straight_through")
