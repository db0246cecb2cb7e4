"""Robustness evaluation: clean and attacked accuracy of a model, as a table of frozen rows.

References
----------
Carlini et al., "On Evaluating Adversarial Robustness", arXiv:1902.06705, 2019 (report the
strongest attack per budget, keep the evaluation set fixed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shopguard.adversarial.attacks import Attack, AttackSpec, run_attack
from shopguard.store.images import FloorStrideCNN, ImageClassifier, to_tensor
from shopguard.store.images._model import gradient_mode

__all__ = ["RobustnessRow", "accuracy_under", "evaluate_robustness", "render_table"]

#: Steps per attack when the caller does not say (APGD: AutoAttack's 100; Square: queries).
DEFAULT_STEPS: dict[Attack, int] = {
    Attack.FGSM: 1,
    Attack.PGD: 20,
    Attack.PGD50: 50,
    Attack.APGD: 100,
    Attack.SQUARE: 1000,
}

#: attacks that follow the network's gradient (Square only queries scores)
_GRADIENT = frozenset({Attack.FGSM, Attack.PGD, Attack.PGD50, Attack.APGD})


@dataclass(frozen=True)
class RobustnessRow:
    """Accuracy of ``model`` on ``n`` images under ``attack`` at ``eps`` (``clean``: eps 0)."""

    model: str
    attack: str
    eps: float
    steps: int
    accuracy: float
    n: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def accuracy_under(
    model: ImageClassifier,
    images: NDArray[Any],
    labels: NDArray[np.integer[Any]],
    spec: AttackSpec | None,
) -> float:
    """Accuracy on ``images`` as given (``spec`` None) or on their adversarial versions.

    A network behind a straight-through input floor (``net.straight_through``, e.g.
    :class:`~shopguard.store.images.FloorStrideCNN`) meets every gradient attack twice, with the
    straight-through and with the true gradient; an image counts as correct only if it survives
    both (the worst case per image).
    """
    y = np.asarray(labels)
    if spec is None:
        pred = model.predict(to_tensor(images).numpy())
        return float(np.mean(pred == y)) if len(pred) else 0.0
    modes = (
        [True, False]
        if isinstance(model.net, FloorStrideCNN) and spec.attack in _GRADIENT
        else [True]
    )
    correct = np.ones(len(y), dtype=bool)
    for straight_through in modes:
        with gradient_mode(model.net, straight_through=straight_through):
            x = run_attack(model, images, labels, spec)
        correct &= model.predict(x.numpy()) == y
    return float(np.mean(correct)) if len(y) else 0.0


def evaluate_robustness(
    model: ImageClassifier,
    images: NDArray[Any],
    labels: NDArray[np.integer[Any]],
    *,
    attacks: Sequence[Attack],
    eps_values: Sequence[float],
    steps: dict[Attack, int] | None = None,
    random_state: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[RobustnessRow]:
    """The clean row, then one row per (attack, eps); ``progress(label)`` before each."""
    budget = {**DEFAULT_STEPS, **(steps or {})}
    rows: list[RobustnessRow] = []
    n = len(labels)
    if progress is not None:
        progress("clean")
    t0 = time.perf_counter()
    rows.append(
        RobustnessRow(
            model.name,
            "clean",
            0.0,
            0,
            accuracy_under(model, images, labels, None),
            n,
            round(time.perf_counter() - t0, 2),
        )
    )
    for attack in attacks:
        for eps in eps_values:
            if progress is not None:
                progress(f"{attack.value} eps={eps:g}")
            spec = AttackSpec(attack, eps, steps=budget[attack], random_state=random_state)
            t0 = time.perf_counter()
            acc = accuracy_under(model, images, labels, spec)
            rows.append(
                RobustnessRow(
                    model.name,
                    attack.value,
                    eps,
                    spec.steps,
                    acc,
                    n,
                    round(time.perf_counter() - t0, 2),
                )
            )
    return rows


def render_table(rows: Sequence[RobustnessRow]) -> str:
    """A Markdown table of ``rows``."""
    lines = [
        "| model | attack | eps | steps | accuracy | n | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r.model} | {r.attack} | {r.eps:g} | {r.steps} | {r.accuracy:.3f} | {r.n} | {r.seconds:.1f} |"
        )
    return "\n".join(lines)
