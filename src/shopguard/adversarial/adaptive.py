"""Adaptive attacks on an image model guarded by :class:`ImageSqueezeDetector`.

The attacker knows the model, the detector and its calibration (white box), and wins on an
image when the model misclassifies it and the detector does not flag it. Three attackers,
each untargeted L-inf within ``eps`` on ``[0, 1]`` pixels:

* :func:`item_only_attack` - PGD on the item's pixels only (the dark background untouched),
  with the detector's raw scores as a penalty of a fixed weight.
* :func:`background_attack` - PGD on the whole image: pixels that the detector's median
  squeeze calls background may rise only to just under its "lit" level (``level / 2``), so the
  background residual stays as clean; item pixels move up to ``eps``. Same penalty.
* :func:`threshold_attack` - aims at the calibrated thresholds instead of a weighted penalty
  (Tramer et al.'s advice: a loss that matches the success criterion): a margin loss on the
  logits minus a hinge that is zero once every raw score is under the value its column may
  reach unflagged, and per image the first iterate that is misclassified *and* unflagged
  (checked exactly at every step) is kept. With ``bound_background`` it also keeps the
  background under the lit level; without, it may light background pixels as long as the
  residual share stays under its threshold.

References
----------
Athalye, Carlini, Wagner, "Obfuscated Gradients Give a False Sense of Security", ICML 2018
(BPDA: the detector's rounding is differentiated as the identity).
Tramer, Carlini, Brendel, Madry, "On Adaptive Attacks to Adversarial Example Defenses",
NeurIPS 2020.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from shopguard.adversarial.attacks import pgd

if TYPE_CHECKING:
    import torch

    from shopguard.adversarial.detectors import ImageSqueezeDetector
    from shopguard.store.images import ImageClassifier

__all__ = [
    "background_attack",
    "background_mask",
    "item_only_attack",
    "raw_thresholds",
    "threshold_attack",
]

# how far under the lit level (level / 2) a background pixel may rise
_LIT_MARGIN = 1e-3


def _labels(y: NDArray[np.int64], device: torch.device) -> torch.Tensor:
    import torch

    return torch.from_numpy(np.asarray(y, dtype=np.int64)).to(device)


def _scale(det: ImageSqueezeDetector, device: torch.device) -> torch.Tensor:
    import torch

    return torch.tensor(np.maximum(det.reference_[-1], 1e-6), dtype=torch.float32).to(device)


def _penalised_pgd(
    model: ImageClassifier,
    det: ImageSqueezeDetector,
    x: torch.Tensor,
    y: NDArray[np.int64],
    eps: float,
    steps: int,
    penalty: float,
    seed: int,
    *,
    view: Callable[[torch.Tensor], torch.Tensor] | None = None,
    upper: torch.Tensor | None = None,
) -> torch.Tensor:
    """PGD on cross-entropy minus ``penalty`` x the detector's scaled raw scores, the image
    seen through ``view`` (e.g. a mask) and capped per pixel by ``upper``."""
    import torch

    model.net.eval()
    scale = _scale(det, x.device)

    def loss(z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if view is not None:
            z = view(z)
        ce = torch.nn.functional.cross_entropy(model.net(z), labels, reduction="none")
        return ce - penalty * (det.raw_scores(z) / scale).sum(dim=1)

    return pgd(
        model.net,
        x,
        _labels(y, x.device),
        eps,
        steps=steps,
        generator=torch.Generator().manual_seed(seed),
        loss_fn=loss,
        upper=upper,
    )


def item_only_attack(
    model: ImageClassifier,
    det: ImageSqueezeDetector,
    x: torch.Tensor,
    y: NDArray[np.int64],
    eps: float,
    steps: int,
    penalty: float = 2.0,
    seed: int = 1,
) -> torch.Tensor:
    """PGD on the item's pixels only (``x > background_level``), detector scores penalised."""
    foreground = (x > det.background_level).float()
    adv = _penalised_pgd(
        model, det, x, y, eps, steps, penalty, seed, view=lambda z: x + (z - x) * foreground
    )
    return x + (adv - x) * foreground


def background_mask(det: ImageSqueezeDetector, x: torch.Tensor) -> torch.Tensor:
    """1 where the detector's median squeeze of ``x`` is background (``<= background_level``)."""
    from shopguard.adversarial.detectors import _median_filter

    return (_median_filter(x, det.median) <= det.background_level).float()


def _background_upper(det: ImageSqueezeDetector, x: torch.Tensor, eps: float) -> torch.Tensor:
    import torch

    cap = det.background_level / 2 - _LIT_MARGIN
    bg = background_mask(det, x)
    # a background pixel already lit may move freely; an unlit one stays unlit
    unlit_bg = bg * (x <= det.background_level / 2).float()
    limit = torch.max(torch.full_like(x, cap), x)
    return torch.where(unlit_bg > 0, torch.min(x + eps, limit), x + eps)


def background_attack(
    model: ImageClassifier,
    det: ImageSqueezeDetector,
    x: torch.Tensor,
    y: NDArray[np.int64],
    eps: float,
    steps: int,
    penalty: float = 2.0,
    seed: int = 1,
) -> torch.Tensor:
    """PGD on the whole image, unlit background pixels kept under the lit level; penalised."""
    return _penalised_pgd(
        model, det, x, y, eps, steps, penalty, seed, upper=_background_upper(det, x, eps)
    )


def raw_thresholds(det: ImageSqueezeDetector) -> NDArray[np.float64]:
    """Per raw score, the smallest value whose rank alone flags the image.

    The risk is the largest per-column rank ``#(reference <= raw) / (N + 1)``; it passes while
    that count is at most ``floor(threshold * (N + 1))``, i.e. while ``raw < reference[m]``.
    """
    ref = det.reference_
    n = len(ref)
    m = min(int(np.floor(det.threshold_ * (n + 1))), n - 1)
    return np.asarray(ref[m], dtype=np.float64)


def threshold_attack(
    model: ImageClassifier,
    det: ImageSqueezeDetector,
    x: torch.Tensor,
    y: NDArray[np.int64],
    eps: float,
    steps: int,
    *,
    bound_background: bool = False,
    weight: float = 10.0,
    slack: float = 0.9,
    kappa: float = 5.0,
    seed: int = 1,
) -> torch.Tensor:
    """PGD on a margin loss with a hinge at the detector's thresholds; first success kept.

    The objective per image is ``min(max_{k != y} z_k - z_y, kappa) - weight * sum_j
    relu(s_j - slack * t_j) / t_j`` over the raw scores ``s`` and their thresholds ``t``
    (:func:`raw_thresholds`): no pull from the detector while the image is safely under every
    threshold. Images that never succeed keep the last iterate.
    """
    import torch

    model.net.eval()
    dev = x.device
    yt = _labels(y, dev)
    x0 = x.detach()
    t = torch.tensor(raw_thresholds(det), dtype=torch.float32, device=dev)
    t_scale = t.clamp(min=1e-3)
    hi = _background_upper(det, x0, eps) if bound_background else x0 + eps
    hi = hi.clamp(max=1.0)
    lo = (x0 - eps).clamp(min=0.0)
    alpha = 2.5 * eps / steps
    gen = torch.Generator().manual_seed(seed)
    noise = ((torch.rand(x0.shape, generator=gen) * 2 - 1) * eps).to(dev)
    adv = torch.max(torch.min(x0 + noise, hi), lo)
    best = adv.clone()
    done = torch.zeros(len(x0), dtype=torch.bool, device=dev)
    onehot = torch.nn.functional.one_hot(yt, 10).bool()
    for i in range(steps + 1):
        adv.requires_grad_(True)
        logits = model.net(adv)
        raw = det.raw_scores(adv)
        true = logits.gather(1, yt[:, None])[:, 0]
        other = logits.masked_fill(onehot, -torch.inf).max(dim=1).values
        margin = other - true
        over = torch.relu(raw - slack * t) / t_scale
        obj = margin.clamp(max=kappa) - weight * over.sum(dim=1)
        with torch.no_grad():
            flagged = det._rank(raw.detach().cpu().double().numpy()) > det.threshold_
            success = (margin.detach() > 0) & torch.from_numpy(~flagged).to(dev)
            new = success & ~done
            best[new] = adv.detach()[new]
            done |= success
        if i == steps or bool(done.all()):
            break
        (grad,) = torch.autograd.grad(obj.sum(), adv)
        with torch.no_grad():
            adv = adv.detach() + alpha * grad.sign()
            adv = torch.max(torch.min(adv, hi), lo)
    best[~done] = adv.detach()[~done]
    return best.detach()
