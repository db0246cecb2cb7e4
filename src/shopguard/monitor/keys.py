"""Per-key traffic from the audit log: volume, distinct targets, denials, anomaly score.

The gateway records every request's key id, route, decision and target
(a keyed pseudonym of the customer or product) in the audit log. A
:class:`KeyWatch` reads the new entries since its last look and keeps a
sliding window per key. It exports, per key with traffic in the window:

- ``shopguard_monitor_key_requests``: requests in the window;
- ``shopguard_monitor_key_distinct_targets``: distinct customers / products
  touched (model extraction and scraping enumerate);
- ``shopguard_monitor_key_denial_ratio``: refused share (only from 20 requests);
- ``shopguard_monitor_key_anomaly_score``: how far the key's volume lies above
  its peers', in robust units ``(x - median) / max(MAD, 1 + median / 2)``.

The alert rules (``rules/shopguard.yml``) decide what is anomalous.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shopguard.core.audit import AuditLog

__all__ = ["KeyStats", "KeyWatch"]

_MIN_FOR_RATIO = 20


@dataclass(frozen=True)
class KeyStats:
    key_id: str
    requests: int
    distinct_targets: int
    denial_ratio: float | None
    anomaly_score: float


class KeyWatch:
    def __init__(self, audit: AuditLog, *, window_s: float = 300.0) -> None:
        self._audit = audit
        self.window_s = window_s
        self._last_seq = 0
        self._events: dict[str, deque[tuple[float, str | None, bool]]] = {}

    def skip_to(self, seq: int) -> None:
        """Start after audit entry ``seq`` (a long-running monitor ignores the log's past)."""
        self._last_seq = max(self._last_seq, seq)

    def poll(self) -> int:
        """Read audit entries added since the last poll; returns how many were requests."""
        n = 0
        for rec in self._audit.records(since=self._last_seq):
            self._last_seq = rec.seq
            p = rec.principal
            if not p or "route" not in rec.details or p.startswith(("staff:", "cli", "ops.")):
                continue
            at = datetime.fromisoformat(rec.at).timestamp()
            self._events.setdefault(p, deque()).append((at, rec.target, rec.decision == "deny"))
            n += 1
        return n

    def stats(self, now: float) -> list[KeyStats]:
        per: dict[str, tuple[int, int, int]] = {}
        for key, q in list(self._events.items()):
            while q and q[0][0] < now - self.window_s:
                q.popleft()
            if not q:
                del self._events[key]
                continue
            targets = {t for _, t, _ in q if t}
            denied = sum(1 for *_, d in q if d)
            per[key] = (len(q), len(targets), denied)
        out = []
        for key, (count, distinct, denied) in per.items():
            peers = [c for k, (c, _, _) in per.items() if k != key]
            med = statistics.median(peers) if peers else 0.0
            mad = statistics.median([abs(c - med) for c in peers]) if peers else 0.0
            score = (count - med) / max(mad, 1.0 + med / 2)
            ratio = denied / count if count >= _MIN_FOR_RATIO else None
            out.append(KeyStats(key, count, distinct, ratio, round(score, 3)))
        return out

    def export(
        self, now: float, add: Callable[[str, dict[str, str], float, float], None]
    ) -> list[KeyStats]:
        """Write the window's figures as samples through ``add(name, labels, value, at)``."""
        stats = self.stats(now)
        for s in stats:
            labels = {"key_id": s.key_id}
            add("shopguard_monitor_key_requests", labels, s.requests, now)
            add("shopguard_monitor_key_distinct_targets", labels, s.distinct_targets, now)
            add("shopguard_monitor_key_anomaly_score", labels, s.anomaly_score, now)
            if s.denial_ratio is not None:
                add("shopguard_monitor_key_denial_ratio", labels, s.denial_ratio, now)
        return stats
