"""Fairness in production: per-group decision rates over a sliding window, with an alert.

:class:`FairnessMonitor` counts decisions (and, once known, outcomes) per group over the
last ``window`` decisions of each group. When every compared group has at least
``min_group_size`` decisions and the gap between the highest and lowest rate crosses its bar,
it publishes one :class:`~shopguard.core.events.Alert` (topic ``fairness.gap``) on the event
bus; it alerts again only after the gap has gone back under the bar. Groups below the minimum
are listed as too small to judge, never as fair.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from shopguard.core.events import Alert, EventBus, Severity

__all__ = ["FairnessMonitor", "GapStatus"]

TOPIC = "fairness.gap"


class _Window:
    """The last ``size`` 0/1 values and their running sum."""

    __slots__ = ("items", "total")

    def __init__(self, size: int) -> None:
        self.items: deque[int] = deque(maxlen=size)
        self.total = 0

    def add(self, value: int) -> None:
        if len(self.items) == self.items.maxlen:
            self.total -= self.items[0]
        self.items.append(value)
        self.total += value


@dataclass(frozen=True)
class GapStatus:
    metric: str  # "selection_rate" or "false_positive_rate"
    rates: Mapping[str, float]
    too_small: tuple[str, ...]
    gap: float | None
    bar: float
    alerting: bool


class FairnessMonitor:
    """Sliding-window selection and false-positive rates per group of one attribute.

    Parameters
    ----------
    bus:
        Where the alert goes.
    attribute:
        The sensitive attribute's name (in the alert; group names are categories, not people).
    model, tenant:
        Named in the alert (which model's decisions, whose store).
    selection_bar, fpr_bar:
        Largest tolerated gap in selection rate and in false-positive rate.
    min_group_size:
        Decisions (or, for the FPR, negative outcomes) a group needs before it is compared.
    window:
        Decisions remembered per group.
    """

    def __init__(
        self,
        bus: EventBus,
        *,
        attribute: str,
        model: str = "fraud",
        tenant: str | None = None,
        selection_bar: float = 0.1,
        fpr_bar: float = 0.05,
        min_group_size: int = 30,
        window: int = 5000,
    ) -> None:
        self.bus = bus
        self.attribute = attribute
        self.model = model
        self.tenant = tenant
        self.bars = {"selection_rate": selection_bar, "false_positive_rate": fpr_bar}
        self.min_group_size = min_group_size
        self.window = window
        self._decisions: dict[str, _Window] = {}
        self._negatives: dict[str, _Window] = {}
        self._alerting = {"selection_rate": False, "false_positive_rate": False}
        self._lock = threading.Lock()

    def observe(self, group: str, decision: int, outcome: int | None = None) -> None:
        """Record one decision (1 = the adverse/positive decision) and, if known, its outcome.

        O(number of groups): running counts, no pass over the window.
        """
        if decision not in (0, 1) or outcome not in (None, 0, 1):
            raise ValueError("decision and outcome must be 0 or 1")
        fire: list[str] = []
        with self._lock:
            win = self._decisions.get(group)
            if win is None:
                win = self._decisions[group] = _Window(self.window)
            win.add(decision)
            touched = [("selection_rate", self._decisions)]
            if outcome == 0:
                neg = self._negatives.get(group)
                if neg is None:
                    neg = self._negatives[group] = _Window(self.window)
                neg.add(decision)
                touched.append(("false_positive_rate", self._negatives))
            # only the gaps this decision can move, without building a status
            for metric, source in touched:
                gap = self._gap(source)
                over = gap is not None and gap > self.bars[metric]
                if over and not self._alerting[metric]:
                    fire.append(metric)
                self._alerting[metric] = over
        for metric in fire:
            self._publish(self.status(metric))

    def _gap(self, source: dict[str, _Window]) -> float | None:
        lo, hi, judged = 1.0, 0.0, 0
        for w in source.values():
            n = len(w.items)
            if n >= self.min_group_size:
                r = w.total / n
                lo, hi, judged = min(lo, r), max(hi, r), judged + 1
        return hi - lo if judged >= 2 else None

    def status(self, metric: str) -> GapStatus:
        source = self._decisions if metric == "selection_rate" else self._negatives
        with self._lock:
            counts = {g: (len(d.items), d.total) for g, d in source.items()}
        rates = {g: s / n for g, (n, s) in counts.items() if n >= self.min_group_size}
        small = tuple(sorted(g for g, (n, _) in counts.items() if n < self.min_group_size))
        gap = max(rates.values()) - min(rates.values()) if len(rates) >= 2 else None
        return GapStatus(metric, rates, small, gap, self.bars[metric], self._alerting[metric])

    def check(self) -> list[GapStatus]:
        """Evaluate both gaps; publish an alert for each that newly crosses its bar."""
        out = []
        for metric in self.bars:
            st = self.status(metric)
            over = st.gap is not None and st.gap > st.bar
            with self._lock:
                fire = over and not self._alerting[metric]
                self._alerting[metric] = over
            if fire:
                self._publish(st)
            out.append(st)
        return out

    def _publish(self, st: GapStatus) -> None:
        if st.gap is None:
            return
        metric = st.metric
        self.bus.publish(
            Alert(
                topic=TOPIC,
                severity=Severity.WARNING,
                source=f"fairness.monitor.{self.model}",
                summary=(
                    f"{metric.replace('_', ' ')} gap across {self.attribute} is "
                    f"{st.gap:.3f}, over the bar {st.bar:.3f}"
                ),
                details={
                    "attribute": self.attribute,
                    **({"tenant": self.tenant} if self.tenant is not None else {}),
                    "metric": metric,
                    "gap": round(st.gap, 6),
                    "bar": st.bar,
                    "rates": {g: round(r, 6) for g, r in st.rates.items()},
                    "too_small": list(st.too_small),
                    "min_group_size": self.min_group_size,
                },
            )
        )
