"""Evasion attacks on the image classifier: FGSM, PGD (L-inf, random start), APGD and Square.

FGSM and PGD are written directly in torch (they are also the inner step of adversarial
training); APGD and the black-box Square attack come from the adversarial-robustness-toolbox
(ART). All attacks are untargeted, L-inf, on pixels in ``[0, 1]``, and return images in that
range within ``eps`` of the input.

References
----------
Goodfellow, Shlens, Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR 2015.
Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018.
Croce, Hein, "Reliable evaluation of adversarial robustness with an ensemble of diverse
parameter-free attacks" (AutoAttack, APGD), ICML 2020.
Andriushchenko et al., "Square Attack: a query-efficient black-box adversarial attack via
random search", ECCV 2020.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, assert_never

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from shopguard.core.errors import ConfigError
from shopguard.store.images import ImageClassifier, to_tensor

__all__ = [
    "Attack",
    "AttackSpec",
    "fgsm",
    "pgd",
    "run_attack",
]

logger = logging.getLogger(__name__)


class Attack(StrEnum):
    """The attacks ``shopguard adversarial evaluate`` and the benchmarks run."""

    FGSM = "fgsm"
    PGD = "pgd"  # PGD-20, random start
    PGD50 = "pgd50"  # PGD-50, random start
    APGD = "apgd"  # APGD-CE and APGD-DLR (AutoAttack's white-box pair), worst case per image
    SQUARE = "square"  # black box: scores only


@dataclass(frozen=True)
class AttackSpec:
    """One attack setting: which attack, the L-inf radius, and its budget."""

    attack: Attack
    eps: float
    steps: int = 20
    random_state: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.eps <= 1.0:
            raise ConfigError("eps must be in (0, 1] (pixels are in [0, 1])")
        if self.steps < 1:
            raise ConfigError("steps must be >= 1")


def fgsm(net: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """One signed-gradient step of size ``eps`` from ``x``."""
    x = x.detach().clone().requires_grad_(True)
    loss = nn.functional.cross_entropy(net(x), y)
    (grad,) = torch.autograd.grad(loss, x)
    return (x.detach() + eps * grad.sign()).clamp(0, 1)


def pgd(
    net: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    steps: int = 20,
    step_size: float | None = None,
    generator: torch.Generator | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    upper: torch.Tensor | None = None,
) -> torch.Tensor:
    """Projected gradient ascent on the loss within the L-inf ``eps``-ball, from a random start.

    ``step_size`` defaults to ``2.5 * eps / steps`` (Madry et al.). ``loss_fn(x_adv, y)``
    replaces the cross-entropy of the logits (adaptive attacks pass their own objective).
    ``upper`` (shaped like ``x``, each value at least ``x``'s) caps pixels further than
    ``x + eps`` (an adaptive attacker keeping some pixels under a detector's level).
    Keeps, per image, the iterate with the highest loss seen.
    """
    alpha = step_size if step_size is not None else 2.5 * eps / steps
    x0 = x.detach()
    hi = x0 + eps if upper is None else torch.min(x0 + eps, upper.detach())
    # drawn on the CPU so a seed gives the same start on any device
    noise = ((torch.rand(x0.shape, generator=generator) * 2 - 1) * eps).to(x0.device)
    adv = torch.min(x0 + noise, hi).clamp(0, 1)

    def objective(z: torch.Tensor) -> torch.Tensor:
        if loss_fn is not None:
            return loss_fn(z, y)
        return nn.functional.cross_entropy(net(z), y, reduction="none")

    best = adv.clone()
    best_loss = torch.full((len(x0),), -torch.inf, device=x0.device)
    for _ in range(steps):
        adv.requires_grad_(True)
        per_image = objective(adv)
        (grad,) = torch.autograd.grad(per_image.sum(), adv)
        with torch.no_grad():
            improved = per_image.detach() > best_loss
            best[improved] = adv.detach()[improved]
            best_loss = torch.where(improved, per_image.detach(), best_loss)
            adv = adv.detach() + alpha * grad.sign()
            adv = torch.min(torch.max(adv, x0 - eps), hi).clamp(0, 1)
    with torch.no_grad():
        final = objective(adv)
        improved = final > best_loss
        best[improved] = adv[improved]
    return best.detach()


def _art_classifier(model: ImageClassifier, device: str = "cpu") -> Any:
    from art.estimators.classification import PyTorchClassifier

    return PyTorchClassifier(
        model=model.net,
        loss=nn.CrossEntropyLoss(),
        input_shape=(1, 28, 28),
        nb_classes=10,
        clip_values=(0.0, 1.0),
        device_type="gpu" if device.startswith("cuda") else "cpu",
    )


def _apgd(
    model: ImageClassifier, x: torch.Tensor, y: torch.Tensor, spec: AttackSpec, device: str
) -> torch.Tensor:
    from art.attacks.evasion import AutoProjectedGradientDescent

    clf = _art_classifier(model, device)
    xs = x.numpy()
    ys = y.numpy()
    worst = xs.copy()
    still_correct = np.ones(len(xs), dtype=bool)
    for loss_type in ("cross_entropy", "difference_logits_ratio"):
        np.random.seed(spec.random_state)
        atk = AutoProjectedGradientDescent(
            estimator=clf,
            norm=np.inf,
            eps=spec.eps,
            eps_step=2 * spec.eps,
            max_iter=max(spec.steps, 1),
            targeted=False,
            nb_random_init=1,
            batch_size=256,
            loss_type=loss_type,
            verbose=False,
        )
        idx = np.flatnonzero(still_correct)
        if idx.size == 0:
            break
        adv = atk.generate(x=xs[idx], y=ys[idx])
        fooled = clf.predict(adv).argmax(axis=1) != ys[idx]
        worst[idx[fooled]] = adv[fooled]
        still_correct[idx[fooled]] = False
    return torch.from_numpy(np.clip(worst, 0, 1).astype(np.float32))


def _square(
    model: ImageClassifier, x: torch.Tensor, y: torch.Tensor, spec: AttackSpec, device: str
) -> torch.Tensor:
    from art.attacks.evasion import SquareAttack

    clf = _art_classifier(model, device)
    np.random.seed(spec.random_state)
    atk = SquareAttack(
        estimator=clf,
        norm=np.inf,
        eps=spec.eps,
        max_iter=spec.steps,
        p_init=0.3,
        nb_restarts=1,
        batch_size=256,
        verbose=False,
    )
    adv = atk.generate(x=x.numpy(), y=y.numpy())
    return torch.from_numpy(np.clip(adv, 0, 1).astype(np.float32))


def run_attack(
    model: ImageClassifier,
    images: NDArray[Any] | torch.Tensor,
    labels: NDArray[np.integer[Any]],
    spec: AttackSpec,
    *,
    batch_size: int = 250,
    device: str = "cpu",
) -> torch.Tensor:
    """Adversarial versions of ``images`` (float ``(n, 1, 28, 28)`` in [0, 1]) under ``spec``.

    The white-box attacks use the true ``labels``; Square only queries output scores.
    ``device`` (``cpu`` or ``cuda``) is where the attack runs; the result is on the CPU and
    the network is left there.
    """
    try:
        return _run_attack(model, images, labels, spec, batch_size, device)
    finally:
        model.net.to("cpu")


def _run_attack(
    model: ImageClassifier,
    images: NDArray[Any] | torch.Tensor,
    labels: NDArray[np.integer[Any]],
    spec: AttackSpec,
    batch_size: int,
    device: str,
) -> torch.Tensor:
    x = to_tensor(images)
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    if len(x) != len(y):
        raise ConfigError("images and labels differ in length")
    net = model.net.eval().to(device)
    gen = torch.Generator().manual_seed(spec.random_state)
    match spec.attack:
        case Attack.FGSM | Attack.PGD | Attack.PGD50:
            x, y = x.to(device), y.to(device)
    match spec.attack:
        case Attack.FGSM:
            parts = [
                fgsm(net, x[i : i + batch_size], y[i : i + batch_size], spec.eps)
                for i in range(0, len(x), batch_size)
            ]
        case Attack.PGD | Attack.PGD50:
            steps = 50 if spec.attack is Attack.PGD50 else spec.steps
            parts = [
                pgd(
                    net,
                    x[i : i + batch_size],
                    y[i : i + batch_size],
                    spec.eps,
                    steps=steps,
                    generator=gen,
                )
                for i in range(0, len(x), batch_size)
            ]
        case Attack.APGD:
            return _apgd(model, x, y, spec, device)
        case Attack.SQUARE:
            return _square(model, x, y, spec, device)
        case _:
            assert_never(spec.attack)
    return (torch.cat(parts) if parts else x).cpu()
