"""An in-memory time-series store fed with Prometheus text exposition (scrapes).

The embedded default scrapes the gateway's ``/metrics`` (or its registry
directly) every few seconds into a :class:`SeriesStore`; the alert rules are
evaluated over it exactly as Prometheus would evaluate the same rule files.
Samples older than ``retention_s`` are dropped.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

from prometheus_client.parser import text_string_to_metric_families

from shopguard.core.errors import DataValidationError
from shopguard.monitor.promql import Labels

__all__ = ["SeriesStore"]

#: Prometheus' default look-back for an instant selector.
LOOKBACK_S = 300.0


class SeriesStore:
    def __init__(self, *, retention_s: float = 3600.0) -> None:
        self.retention_s = retention_s
        self._series: dict[str, dict[Labels, deque[tuple[float, float]]]] = {}
        self._lock = threading.Lock()

    def ingest(self, text: str, at: float) -> int:
        """Add every sample of the exposition ``text`` at time ``at``; returns the count."""
        try:
            families = list(text_string_to_metric_families(text))
        except (ValueError, TypeError, IndexError):
            raise DataValidationError("metrics are not in the Prometheus text format") from None
        n = 0
        with self._lock:
            for fam in families:
                for s in fam.samples:
                    labels: Labels = frozenset({("__name__", s.name), *s.labels.items()})
                    q = self._series.setdefault(s.name, {}).setdefault(labels, deque())
                    q.append((at, float(s.value)))
                    while q and q[0][0] < at - self.retention_s:
                        q.popleft()
                    n += 1
        return n

    def add(self, name: str, labels: dict[str, str], value: float, at: float) -> None:
        """Add one sample (for values computed in-process, such as drift figures)."""
        key: Labels = frozenset({("__name__", name), *labels.items()})
        with self._lock:
            q = self._series.setdefault(name, {}).setdefault(key, deque())
            q.append((at, float(value)))
            while q and q[0][0] < at - self.retention_s:
                q.popleft()

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._series)

    def instant(self, name: str, at: float) -> Iterable[tuple[Labels, float]]:
        with self._lock:
            series = list(self._series.get(name, {}).items())
        for labels, q in series:
            pts = [p for p in list(q) if at - LOOKBACK_S <= p[0] <= at]
            if pts:
                yield labels, pts[-1][1]

    def range(
        self, name: str, start: float, end: float
    ) -> Iterable[tuple[Labels, list[tuple[float, float]]]]:
        with self._lock:
            series = list(self._series.get(name, {}).items())
        for labels, q in series:
            pts = [p for p in list(q) if start <= p[0] <= end]
            if pts:
                yield labels, pts
