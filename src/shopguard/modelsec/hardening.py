"""Output hardening: give callers less of the model than they could learn it from.

Options (per route in ``modelsec_output_hardening``, and forced on degraded streams):

``round:N``
    Scores rounded to ``N`` decimals (Tramèr et al. 2016: rounding slows equation solving).
``no_score``
    The raw score replaced by the midpoint of its decision band (0.0 / 0.5 / 1.0): label only.
``noise:S``
    A small calibrated perturbation: Gaussian noise of scale ``S`` added to the score,
    clipped so the decision never changes (Lee et al. 2019, "Defending against NN
    model stealing attacks using deceptive perturbations").
``top_k:K``
    Recommendations cut to the first ``K`` items.

The cost of each option in model utility is measured in bench/extraction.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["BANDS", "harden", "harden_score"]

#: Decision bands of the fraud route: (low, high, label).
BANDS: tuple[tuple[float, float, str], ...] = (
    (0.0, 0.3, "approve"),
    (0.3, 0.8, "review"),
    (0.8, 1.0, "decline"),
)
_MID = {"approve": 0.0, "review": 0.5, "decline": 1.0}


def _band(score: float) -> tuple[float, float, str]:
    for lo, hi, label in BANDS:
        if score < hi:
            return lo, hi, label
    return BANDS[-1]


def harden_score(
    score: float, options: Sequence[str], *, rng: np.random.Generator | None = None
) -> float:
    """Apply the score options in a fixed order: noise, no_score, round."""
    out = float(score)
    lo, hi, label = _band(out)
    for opt in options:
        name, _, arg = opt.partition(":")
        if name == "noise":
            gen = rng or np.random.default_rng()
            eps = 1e-6
            out = float(
                np.clip(out + gen.normal(0.0, float(arg)), lo, hi - eps if hi < 1.0 else 1.0)
            )
    if any(o == "no_score" for o in options):
        out = _MID[label]
    for opt in options:
        name, _, arg = opt.partition(":")
        if name == "round":
            digits = int(arg)
            # Never round across a decision threshold.
            r = round(out, digits)
            out = r if lo <= r < hi or (hi == 1.0 and r <= 1.0) else out
    return out


def harden(payload: Any, options: Sequence[str]) -> Any:
    """A copy of a route's response with the options applied (unknown shapes pass unchanged)."""
    update: dict[str, Any] = {}
    score = getattr(payload, "score", None)
    if isinstance(score, float):
        update["score"] = harden_score(score, options)
    products = getattr(payload, "products", None)
    if isinstance(products, list):
        for opt in options:
            name, _, arg = opt.partition(":")
            if name == "top_k":
                update["products"] = products[: int(arg)]
    if not update:
        return payload
    copy = getattr(payload, "model_copy", None)
    return copy(update=update) if callable(copy) else payload
