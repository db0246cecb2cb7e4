"""The embedded monitor: scrape, per-key watch, model watches, rules, one tick at a time.

:class:`Monitor` is what ``shopguard monitor run`` and the demo start: every
``tick()`` it scrapes the gateway's metrics into a :class:`SeriesStore`, adds
the per-key figures from the audit log and the drift figures of the served
models (a :class:`~.feed.ModelFeed`), and evaluates the alert rules, which
publish alerts on the event bus (and so open incidents). ``start()`` runs the
ticks on a daemon thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from shopguard.core.audit import AuditLog
from shopguard.core.events import EventBus
from shopguard.monitor.feed import ModelFeed
from shopguard.monitor.keys import KeyWatch
from shopguard.monitor.rules import AlertRule, Firing, RuleEngine, builtin_rule_files, load_rules
from shopguard.monitor.series import SeriesStore

__all__ = ["Monitor", "MonitorCollector", "embedded_monitor"]

logger = logging.getLogger(__name__)

Scrape = Callable[[], str]


class MonitorCollector:
    """Exposes the monitor's own figures (``shopguard_monitor_*``) to a Prometheus scrape,
    so the shipped rule file works the same in a Prometheus deployment."""

    def __init__(self, store: SeriesStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self._clock()
        for name in self._store.names():
            if not name.startswith("shopguard_monitor_"):
                continue
            samples = list(self._store.instant(name, now))
            if not samples:
                continue
            keys = sorted({k for labels, _ in samples for k, _ in labels if k != "__name__"})
            fam = GaugeMetricFamily(name, f"shopguard monitor figure {name}", labels=keys)
            for labels, value in samples:
                d = dict(labels)
                fam.add_metric([d.get(k, "") for k in keys], value)
            yield fam


class Monitor:
    def __init__(
        self,
        *,
        bus: EventBus,
        audit: AuditLog | None = None,
        scrape: Scrape | None = None,
        rule_files: list[Path] | None = None,
        key_window_s: float = 300.0,
        feed: ModelFeed | None = None,
        jobs: list[tuple[float, Callable[[], object]]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        files = rule_files if rule_files is not None else builtin_rule_files()
        rules: list[AlertRule] = [r for f in files for r in load_rules(f)]
        self.store = SeriesStore()
        self.engine = RuleEngine(rules, self.store, bus=bus, clock=clock)
        self.keys = KeyWatch(audit, window_s=key_window_s) if audit is not None else None
        self._scrape = scrape
        self.feed = feed
        #: ``(every_s, job)``: run in the tick on or after it falls due (first tick included).
        self.jobs = list(jobs or [])
        self._due = [0.0] * len(self.jobs)
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.registry = CollectorRegistry()
        self.registry.register(MonitorCollector(self.store, clock))

    def render(self) -> bytes:
        """The monitor's figures in the Prometheus text format."""
        return generate_latest(self.registry)

    def tick(self) -> list[Firing]:
        now = self._clock()
        if self._scrape is not None:
            try:
                self.store.ingest(self._scrape(), now)
            except Exception as exc:  # a failed scrape is itself worth an alert rule; keep going
                logger.warning("metrics scrape failed: %s", type(exc).__name__)
        if self.keys is not None:
            self.keys.poll()
            self.keys.export(now, self.store.add)
        if self.feed is not None:
            try:
                # Stamped with this round's time, so this round's rules see them.
                self.feed.drain(
                    lambda name, labels, value, _at: self.store.add(name, labels, value, now)
                )
            except Exception as exc:  # one model's bad window must not stop the rules
                logger.warning("model drift round failed: %s", type(exc).__name__)
        for i, (every, job) in enumerate(self.jobs):
            if now >= self._due[i]:
                self._due[i] = now + every
                try:
                    job()
                except Exception as exc:
                    logger.warning("monitor job failed: %s", type(exc).__name__)
        return self.engine.evaluate(now)

    def start(self, interval_s: float = 5.0) -> None:
        def run() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.tick()
                except Exception:
                    logger.exception("monitor tick failed")

        self._thread = threading.Thread(target=run, name="shopguard-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


def embedded_monitor(
    rt: Any,
    *,
    scrape: Scrape | None,
    feed: ModelFeed | None,
    jobs: list[tuple[float, Callable[[], object]]] | None = None,
) -> Monitor:
    """The monitor a gateway process runs in-process (``shopguard serve``).

    It reads the audit log from its current end (the past was judged when it happened),
    scrapes with ``scrape``, watches the models ``feed`` is fed by and runs ``jobs``.
    """
    import sqlalchemy as sa

    from shopguard.core.tables import audit_log

    monitor = Monitor(bus=rt.bus, audit=rt.audit, scrape=scrape, feed=feed, jobs=jobs)
    with rt.engine.connect() as conn:
        last = conn.execute(sa.select(sa.func.max(audit_log.c.seq))).scalar()
    if monitor.keys is not None and last is not None:
        monitor.keys.skip_to(int(last))
    return monitor
