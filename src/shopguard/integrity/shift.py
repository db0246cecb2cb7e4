"""Output-shift monitoring: alert when a model's outputs move suddenly.

A poisoned model shows itself in production before anyone reads its training
data: the fraud score distribution slides, one product floods the top-10
lists, the review flag rate jumps. :class:`OutputShiftMonitor` compares each
window of outputs with a reference window by the population stability index
(PSI; numeric outputs binned at the reference's quantiles, categorical outputs
by category share) and, for numeric outputs, the two-sample Kolmogorov-Smirnov
test. The PSI alarm threshold is *calibrated* on normal traffic: windows drawn
from held-out normal outputs give the PSI distribution under no shift, and the
threshold is its ``1 - false_alarm_rate`` quantile, so the stated false-alarm
rate per window holds by construction (and is measured in the tests / bench).
An alarm publishes an :class:`~shopguard.core.events.Alert` on the event bus.

References
----------
.. [1] Yurdakul, "Statistical properties of population stability index", 2018.
.. [2] Rabanser, Günnemann, Lipton, "Failing loudly: an empirical study of methods
   for detecting dataset shift", NeurIPS 2019 (two-sample tests on model outputs).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Self, Union

import numpy as np
from numpy.typing import NDArray
from scipy.stats import ks_2samp

from shopguard.core.errors import DataValidationError, ModelError
from shopguard.core.events import Alert, EventBus, Severity

#: A window of outputs: a sequence or a numpy array.
Outputs = Union[Sequence[Any], NDArray[Any]]  # noqa: UP007

__all__ = ["OutputShiftMonitor", "ShiftResult", "psi_categorical", "psi_numeric"]

_EPS = 1e-4


def _psi(p: NDArray[np.float64], q: NDArray[np.float64]) -> float:
    p = np.clip(p, _EPS, None)
    q = np.clip(q, _EPS, None)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_numeric(
    reference: NDArray[np.float64], current: NDArray[np.float64], *, bins: int = 10
) -> float:
    """PSI of ``current`` against ``reference`` over the reference's quantile bins."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    p = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1)
    q = np.bincount(np.searchsorted(edges, current, side="right"), minlength=len(edges) + 1)
    return _psi(p / p.sum(), q / max(1, q.sum()))


def psi_categorical(reference: Sequence[Hashable], current: Sequence[Hashable]) -> float:
    """PSI over every category of either window (a flood of a rare item counts in full)."""
    ref = Counter(reference)
    cur = Counter(current)
    cats = list(ref.keys() | cur.keys())
    p = np.asarray([ref.get(c, 0) for c in cats], dtype=np.float64) / max(1, len(reference))
    q = np.asarray([cur.get(c, 0) for c in cats], dtype=np.float64) / max(1, len(current))
    return _psi(p, q)


@dataclass(frozen=True)
class ShiftResult:
    """One window's comparison with the reference."""

    psi: float
    threshold: float
    ks_pvalue: float | None
    alarm: bool


class OutputShiftMonitor:
    """Watch one model output stream (numeric scores or categorical items) for sudden shifts.

    Parameters
    ----------
    name:
        What is watched (``fraud.score``, ``recommender.top10``, ``reviews.flag``), used in alerts.
    kind:
        ``numeric`` or ``categorical``.
    window:
        Outputs per window (the unit the false-alarm rate is stated for).
    false_alarm_rate:
        Target share of normal windows that raise an alarm.
    ks_alpha:
        Numeric outputs also need a KS p-value below this to alarm.
    calibration_windows:
        Normal windows drawn to calibrate the PSI threshold.
    random_state:
        Seed of the calibration draws.
    """

    def __init__(
        self,
        name: str,
        *,
        kind: str = "numeric",
        window: int = 500,
        false_alarm_rate: float = 0.01,
        ks_alpha: float = 0.01,
        calibration_windows: int = 400,
        random_state: int = 0,
    ) -> None:
        self.name = name
        self.kind = kind
        self.window = window
        self.false_alarm_rate = false_alarm_rate
        self.ks_alpha = ks_alpha
        self.calibration_windows = calibration_windows
        self.random_state = random_state

    def _psi(self, current: Outputs) -> float:
        if self.kind == "numeric":
            return psi_numeric(self.reference_, np.asarray(current, dtype=np.float64))
        return psi_categorical(list(self.reference_), list(current))

    def fit(self, reference: Outputs, normal: Outputs) -> Self:
        """Keep ``reference``; calibrate the threshold on windows drawn from ``normal`` (held out)."""
        if self.kind not in ("numeric", "categorical"):
            raise DataValidationError("kind must be numeric or categorical")
        if len(reference) < 50 or len(normal) < self.window:
            raise DataValidationError("need at least 50 reference outputs and one normal window")
        self.reference_: Any = (
            np.asarray(reference, dtype=np.float64) if self.kind == "numeric" else list(reference)
        )
        rng = np.random.default_rng(self.random_state)
        pool = list(normal)
        stats = []
        for _ in range(self.calibration_windows):
            idx = rng.choice(len(pool), size=self.window, replace=True)
            stats.append(self._psi([pool[i] for i in idx]))
        self.threshold_ = float(np.quantile(stats, 1.0 - self.false_alarm_rate))
        return self

    def check(self, current: Outputs) -> ShiftResult:
        """Compare one window with the reference."""
        if not hasattr(self, "threshold_"):
            raise ModelError("output-shift monitor is not fitted")
        if len(current) == 0:
            raise DataValidationError("empty window")
        psi = self._psi(current)
        p = None
        alarm = psi > self.threshold_
        if self.kind == "numeric":
            p = float(ks_2samp(self.reference_, np.asarray(current, dtype=np.float64)).pvalue)
            alarm = alarm and p < self.ks_alpha
        return ShiftResult(psi, self.threshold_, p, bool(alarm))

    def observe(self, current: Outputs, bus: EventBus) -> ShiftResult:
        """:meth:`check` a window and publish an alert on ``bus`` when it alarms."""
        res = self.check(current)
        if res.alarm:
            bus.publish(
                Alert(
                    topic="integrity.output_shift",
                    severity=Severity.HIGH,
                    source="integrity.shift",
                    summary=f"sudden shift in {self.name} outputs",
                    details={
                        "monitor": self.name,
                        "psi": round(res.psi, 4),
                        "threshold": round(res.threshold, 4),
                        "ks_pvalue": res.ks_pvalue,
                        "window": len(current),
                        "false_alarm_rate": self.false_alarm_rate,
                    },
                )
            )
        return res
