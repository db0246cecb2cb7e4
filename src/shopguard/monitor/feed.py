"""What the served models see and say, fed to their drift watches off the request path.

The gateway's model routes call :meth:`ModelFeed.observe` with a few numeric
input features and the model's output for each answered request: one bounded
``deque.append`` (no lock, no I/O, no numpy), so the request path pays next to
nothing. The monitor thread calls :meth:`ModelFeed.drain` every round: the
first ``window`` observations of a model become its reference (unless a
reference from training was given with :meth:`ModelFeed.set_reference`), and
every further ``window`` observations are compared with it by a
:class:`~shopguard.monitor.drift.ModelWatch`, whose figures
(``shopguard_monitor_drift_psi``, ``shopguard_monitor_output_shift_psi``) land in
the monitor's series store, where the shipped alert rules (``ShopguardDataDrift``,
``ShopguardOutputShift``) judge them.

A live reference window is the usual choice when the training data is not at
hand (Rabanser et al., 2019, compare a reference window with a test window); it
only detects a shift that happens after the window was taken.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from shopguard.monitor.drift import DriftFigure, ModelWatch, Sink

__all__ = ["ModelFeed"]

Row = tuple[Mapping[str, float | int | bool], float]
#: What identifies a decision a label arrives for (a tenant and a transaction id, say).
Key = Hashable


@dataclass
class _Model:
    reference: list[Row] = field(default_factory=list)
    window: list[Row] = field(default_factory=list)
    watch: ModelWatch | None = None
    predictions: OrderedDict[Key, bool] = field(default_factory=OrderedDict)
    hits: list[bool] = field(default_factory=list)  # the current label window
    baseline: float | None = None


class ModelFeed:
    """Per-model buffers of (inputs, output) the routes append to and the monitor drains.

    Parameters
    ----------
    window :
        Observations in the reference and in each compared window.
    max_pending :
        Observations kept per model between two drains (older ones are dropped).
    """

    def __init__(self, *, window: int = 500, max_pending: int = 20_000) -> None:
        self.window = window
        self.max_pending = max_pending
        self._pending: dict[str, deque[Row]] = {}
        self._predicted: dict[str, deque[tuple[Key, bool]]] = {}
        self._labels: dict[str, deque[tuple[Key, bool]]] = {}
        self.unmatched_labels = 0
        self._models: dict[str, _Model] = {}
        self._lock = threading.Lock()  # drains only; observe never takes it

    def observe(self, model: str, inputs: Mapping[str, float | int | bool], output: float) -> None:
        """Record one answered request (called on the request path: O(1); the values are
        converted to floats on drain, in the monitor thread)."""
        q = self._pending.get(model)
        if q is None:
            q = self._pending.setdefault(model, deque(maxlen=self.max_pending))
        q.append((inputs, output))

    def predicted(self, model: str, key: Key, positive: bool) -> None:
        """Remember a decision (say, a payment flagged) for a label that arrives later (O(1))."""
        _append(self._predicted, model, (key, positive), self.max_pending)

    def label(self, model: str, key: Key, positive: bool) -> None:
        """The truth about an earlier decision (a chargeback weeks later), matched on drain."""
        _append(self._labels, model, (key, positive), self.max_pending)

    def set_reference(
        self, model: str, inputs: Mapping[str, ArrayLike], outputs: ArrayLike, *, sink: Sink
    ) -> None:
        """Use a reference captured at training time instead of the first live window."""
        with self._lock:
            m = self._models.setdefault(model, _Model())
            m.watch = ModelWatch(
                model, reference_inputs=inputs, reference_scores=outputs, sink=sink
            )
            m.reference.clear()

    def _drain_labels(self, model: str, sink: Sink) -> list[DriftFigure]:
        """Match labels with remembered decisions; accuracy per ``window`` labels (the first
        window's is the baseline the drop is measured from)."""
        m = self._models.setdefault(model, _Model())
        for key, positive in _pop_all(self._predicted.get(model)):
            m.predictions[key] = positive
            m.predictions.move_to_end(key)
        while len(m.predictions) > self.max_pending:
            m.predictions.popitem(last=False)
        out: list[DriftFigure] = []
        for key, truth in _pop_all(self._labels.get(model)):
            pred = m.predictions.pop(key, None)
            if pred is None:
                self.unmatched_labels += 1
                continue
            m.hits.append(pred == truth)
            if len(m.hits) < self.window:
                continue
            acc = sum(m.hits) / len(m.hits)
            m.hits = []
            if m.baseline is None:
                m.baseline = acc
            at = time.time()
            sink("shopguard_monitor_label_accuracy", {"model": model}, acc, at)
            sink("shopguard_monitor_label_accuracy_drop", {"model": model}, m.baseline - acc, at)
            out.append(DriftFigure(model, "label_accuracy", acc))
        return out

    def pending(self, model: str) -> int:
        q = self._pending.get(model)
        return len(q) if q is not None else 0

    def drain(self, sink: Sink) -> list[DriftFigure]:
        """Move pending observations into each model's windows; compare every full window."""
        figures: list[DriftFigure] = []
        with self._lock:
            for model in set(self._predicted) | set(self._labels):
                figures += self._drain_labels(model, sink)
            for model, q in list(self._pending.items()):
                m = self._models.setdefault(model, _Model())
                while q:
                    try:
                        row = q.popleft()
                    except IndexError:  # emptied by a concurrent drain
                        break
                    if m.watch is None:
                        m.reference.append(row)
                        if len(m.reference) >= self.window:
                            m.watch = _watch(model, m.reference, sink)
                            m.reference = []
                        continue
                    m.window.append(row)
                    if len(m.window) >= self.window:
                        figures += _compare(m.watch, m.window)
                        m.window = []
        return figures


def _columns(rows: list[Row]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    names = sorted({k for inputs, _ in rows for k in inputs})
    cols = {n: np.asarray([float(i.get(n, 0.0)) for i, _ in rows]) for n in names}
    return cols, np.asarray([float(o) for _, o in rows], dtype=float)


def _watch(model: str, rows: list[Row], sink: Sink) -> ModelWatch:
    inputs, outputs = _columns(rows)
    # PSI only on this path (it runs in the gateway's process): no KS p-values.
    return ModelWatch(model, reference_inputs=inputs, reference_scores=outputs, sink=sink, ks=False)


def _compare(watch: ModelWatch, rows: list[Row]) -> list[DriftFigure]:
    inputs, outputs = _columns(rows)
    known = {k: v for k, v in inputs.items() if k in watch.reference_inputs}
    return [*watch.observe_inputs(known), watch.observe_outputs(outputs)]


def _append(
    queues: dict[str, deque[tuple[Key, bool]]], model: str, item: tuple[Key, bool], cap: int
) -> None:
    q = queues.get(model)
    if q is None:
        q = queues.setdefault(model, deque(maxlen=cap))
    q.append(item)


def _pop_all(q: deque[tuple[Key, bool]] | None) -> list[tuple[Key, bool]]:
    out = []
    while q:
        try:
            out.append(q.popleft())
        except IndexError:
            break
    return out
