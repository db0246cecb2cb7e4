"""Model watch: input drift, output shift and accuracy on delayed labels.

Hooks a model's owner calls: :meth:`ModelWatch.observe_inputs` with a batch of
recent feature rows, :meth:`ModelWatch.observe_outputs` with recent scores, and
:meth:`ModelWatch.observe_labels` when ground truth arrives late (chargebacks
for fraud arrive weeks after the transaction). Each computes a figure against
the reference captured at training time and records it as a sample
(``shopguard_monitor_drift_psi{model,feature}``,
``shopguard_monitor_output_shift_psi{model}``,
``shopguard_monitor_label_accuracy{model}``,
``shopguard_monitor_label_accuracy_drop{model}``) for the alert rules.

Drift is the population stability index over the reference's deciles (a PSI
above 0.25 is the usual "significant shift" line); the two-sample
Kolmogorov-Smirnov p-value is kept alongside as evidence.

References
----------
Yurdakul, "Statistical properties of population stability index", Western Michigan University, 2018.
Rabanser, Guennemann & Lipton, "Failing loudly: an empirical study of methods for detecting dataset shift", NeurIPS 2019.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from shopguard.core.errors import DataValidationError

__all__ = ["DriftFigure", "ModelWatch", "psi"]

_EPS = 1e-4


def _edges(reference: NDArray[np.float64], bins: int) -> NDArray[np.float64]:
    qs = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    return qs[1:-1]


def psi(reference: ArrayLike, current: ArrayLike, *, bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference`` (quantile bins)."""
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    if ref.size < bins or cur.size == 0:
        raise DataValidationError(
            "psi needs at least `bins` reference values and one current value"
        )
    edges = _edges(ref, bins)
    p = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1) / ref.size
    q = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / cur.size
    p = np.clip(p, _EPS, None)
    q = np.clip(q, _EPS, None)
    return float(np.sum((q - p) * np.log(q / p)))


@dataclass(frozen=True)
class DriftFigure:
    model: str
    name: str
    value: float
    p_value: float | None = None


Sink = Callable[[str, dict[str, str], float, float], None]


class ModelWatch:
    """Reference distributions of one model and the figures that compare live data to them."""

    def __init__(
        self,
        model: str,
        *,
        reference_inputs: Mapping[str, ArrayLike],
        reference_scores: ArrayLike,
        baseline_accuracy: float | None = None,
        label_window: int = 1000,
        sink: Sink | None = None,
        clock: Callable[[], float] = time.time,
        ks: bool = True,
    ) -> None:
        self.model = model
        self.reference_inputs = {k: np.asarray(v, dtype=float) for k, v in reference_inputs.items()}
        self.reference_scores = np.asarray(reference_scores, dtype=float)
        self.baseline_accuracy = baseline_accuracy
        self._labels: deque[bool] = deque(maxlen=label_window)
        self._sink = sink
        self._clock = clock
        self._ks = ks  # the KS p-value is evidence only; scipy's call costs ~100x the PSI

    def _emit(self, name: str, labels: dict[str, str], value: float) -> None:
        if self._sink is not None:
            self._sink(name, {"model": self.model, **labels}, value, self._clock())

    def observe_inputs(self, batch: Mapping[str, ArrayLike]) -> list[DriftFigure]:
        out = []
        for feature, values in batch.items():
            ref = self.reference_inputs.get(feature)
            if ref is None:
                raise DataValidationError(f"no reference for feature {feature}", column=feature)
            cur = np.asarray(values, dtype=float)
            value = psi(ref, cur)
            p = float(stats.ks_2samp(ref, cur, method="asymp").pvalue) if self._ks else None
            self._emit("shopguard_monitor_drift_psi", {"feature": feature}, value)
            out.append(DriftFigure(self.model, feature, value, p))
        return out

    def observe_outputs(self, scores: ArrayLike) -> DriftFigure:
        cur = np.asarray(scores, dtype=float)
        value = psi(self.reference_scores, cur)
        p = (
            float(stats.ks_2samp(self.reference_scores, cur, method="asymp").pvalue)
            if self._ks
            else None
        )
        self._emit("shopguard_monitor_output_shift_psi", {}, value)
        return DriftFigure(self.model, "output_shift", value, p)

    def observe_labels(self, y_true: ArrayLike, y_pred: ArrayLike) -> DriftFigure:
        """Add late labels for earlier predictions; figures over the last ``label_window``."""
        t = np.asarray(y_true)
        p = np.asarray(y_pred)
        if t.shape != p.shape:
            raise DataValidationError("labels and predictions differ in length")
        self._labels.extend(bool(x) for x in (t == p))
        acc = float(np.mean(self._labels)) if self._labels else float("nan")
        self._emit("shopguard_monitor_label_accuracy", {}, acc)
        if self.baseline_accuracy is not None:
            self._emit("shopguard_monitor_label_accuracy_drop", {}, self.baseline_accuracy - acc)
        return DriftFigure(self.model, "label_accuracy", acc)
