"""The in-process event bus for alerts.

Capabilities publish :class:`Alert` values; subscribers (the alert table, the
console, incident response) receive them synchronously in publish order. A
subscriber that raises is logged and skipped: one broken consumer never hides
an alert from the others.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.tables import alerts

__all__ = ["Alert", "EventBus", "Severity", "persist_alerts", "recent_alerts"]

logger = logging.getLogger(__name__)


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Alert:
    """Something a person should look at. ``details`` holds ids and figures, never personal data."""

    topic: str
    severity: Severity
    source: str
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


Handler = Callable[[Alert], None]


class EventBus:
    """Topic-based publish/subscribe. ``"*"`` subscribes to everything."""

    def __init__(self) -> None:
        self._subs: dict[str, list[Handler]] = {}
        self._lock = threading.Lock()

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        """Register ``handler``; returns a function that unsubscribes it."""
        with self._lock:
            self._subs.setdefault(topic, []).append(handler)

        def unsubscribe() -> None:
            with self._lock:
                self._subs.get(topic, []).remove(handler)

        return unsubscribe

    def publish(self, alert: Alert) -> None:
        with self._lock:
            handlers = [*self._subs.get(alert.topic, ()), *self._subs.get("*", ())]
        for handler in handlers:
            try:
                handler(alert)
            except Exception:
                logger.exception("alert subscriber failed for topic %s", alert.topic)


def persist_alerts(bus: EventBus, engine: Engine) -> Callable[[], None]:
    """Store every alert published on ``bus`` in the ``alerts`` table."""

    def store(alert: Alert) -> None:
        with engine.begin() as conn:
            conn.execute(
                alerts.insert().values(
                    at=alert.at.astimezone(UTC).isoformat(),
                    topic=alert.topic,
                    severity=alert.severity.value,
                    source=alert.source,
                    summary=alert.summary,
                    details=json.dumps(dict(alert.details), sort_keys=True, default=str),
                )
            )

    return bus.subscribe("*", store)


def recent_alerts(engine: Engine, *, limit: int = 100) -> list[dict[str, Any]]:
    """The latest stored alerts, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(alerts).order_by(alerts.c.id.desc()).limit(limit)).mappings()
        return [{**dict(r), "details": json.loads(r["details"])} for r in rows]
