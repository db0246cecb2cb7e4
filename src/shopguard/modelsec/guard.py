"""The extraction watch in the gateway's guards pipeline, and per-route output hardening.

``extraction_watch`` (INPUT stage) feeds every query of the fraud-scoring and
recommendation routes to :class:`~shopguard.modelsec.extraction.ExtractionMonitor`,
once per API key and once per (key, client address) stream; the worse of the two
decides. It raises an alert on the event bus and an audit entry when a stream's
level rises, and refuses the request (403) at ``block``.

``extraction_degrade`` (OUTPUT stage) coarsens what a degraded stream receives
(scores rounded to one decimal, recommendations cut to the top 3) and applies
the always-on per-route hardening of ``modelsec_output_hardening``.

Add both names to ``gateway_guards`` after ``rate_limit``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from shopguard.core.audit import AuditEvent
from shopguard.core.errors import AuthorizationError
from shopguard.core.events import Alert, Severity
from shopguard.gateway.pipeline import Guard, GuardContext, Stage, guards
from shopguard.modelsec.extraction import (
    ExtractionConfig,
    ExtractionMonitor,
    Level,
    MemoryStateStore,
    Observation,
    RedisStateStore,
    fraud_observation,
    recommendation_observation,
)
from shopguard.modelsec.hardening import harden

__all__ = [
    "ExtractionBlocked",
    "ExtractionDegrade",
    "ExtractionWatch",
    "close_monitor",
    "monitor_for",
]

_ROUTES = {
    "fraud.score": fraud_observation,
    "recommendations.read": recommendation_observation,
}
_STATE_KEY = "modelsec_extraction"


class ExtractionBlocked(AuthorizationError):
    """The client's query pattern looks like model extraction; it is refused."""

    title = "Query pattern refused"


def monitor_for(ctx: GuardContext) -> ExtractionMonitor:
    """The app's monitor (built on first use from the app's settings)."""
    app_state = ctx.request.app.state
    monitor: ExtractionMonitor | None = getattr(app_state, "modelsec_monitor", None)
    if monitor is None:
        settings = _settings(app_state)
        store: MemoryStateStore | RedisStateStore
        if settings.redis_url:
            store = RedisStateStore(settings.redis_url, prefix=settings.extraction_redis_prefix)
        else:
            store = MemoryStateStore()
        config = ExtractionConfig(budget=settings.extraction_query_budget)
        monitor = ExtractionMonitor(config=config, store=store)
        app_state.modelsec_monitor = monitor
    return monitor


async def close_monitor(app: Any) -> None:
    """Close the monitor's Redis connection, if one was opened (the app's shutdown calls it)."""
    monitor: ExtractionMonitor | None = getattr(app.state, "modelsec_monitor", None)
    if monitor is not None and isinstance(monitor.store, RedisStateStore):
        await monitor.store.close()


def _settings(app_state: Any) -> Any:
    # The app's own settings (the demo and tests derive them from the runtime's).
    return getattr(app_state, "settings", None) or app_state.runtime.settings


def _as_mapping(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    dump = getattr(body, "model_dump", None)
    if callable(dump):
        return dict(dump())
    return {}


@guards.register
class ExtractionWatch(Guard):
    """PRADA distances, input coverage, identity patterns and a budget per key and client."""

    name: ClassVar[str] = "extraction_watch"
    stage: ClassVar[Stage] = Stage.INPUT

    async def inspect(self, ctx: GuardContext, body: Any) -> None:
        featurise = _ROUTES.get(ctx.policy.id)
        if featurise is None or ctx.principal is None:
            return
        rt = ctx.request.app.state.runtime
        principal = ctx.principal.id
        if principal in _settings(ctx.request.app.state).extraction_exempt_keys:
            return
        obs: Observation = featurise(_as_mapping(body))
        monitor = monitor_for(ctx)
        client = rt.audit.pseudonym(ctx.client_ip)
        streams = (
            f"{ctx.policy.id}|key|{principal}",
            f"{ctx.policy.id}|client|{principal}|{client}",
        )
        worst = None
        for stream in streams:
            v = await monitor.observe(stream, obs)
            if worst is None or v.level > worst.level:
                worst = v
            if v.changed:
                self._announce(ctx, stream.split("|")[1], v.level, v.reasons, v.queries)
        assert worst is not None
        ctx.extra[_STATE_KEY] = worst.level
        if worst.level >= Level.ALERT:
            ctx.findings.append(f"extraction:{worst.level.name.lower()}")
        if worst.level >= Level.BLOCK:
            raise ExtractionBlocked("query pattern refused (model extraction suspected)")

    def _announce(
        self, ctx: GuardContext, scope: str, level: Level, reasons: tuple[str, ...], n: int
    ) -> None:
        principal = ctx.principal.id if ctx.principal else None
        rt = ctx.request.app.state.runtime
        self.deps.bus.publish(
            Alert(
                topic=f"modelsec.extraction.{level.name.lower()}",
                severity=Severity.HIGH if level >= Level.DEGRADE else Severity.WARNING,
                source="modelsec.extraction_watch",
                summary=f"extraction suspected on {ctx.policy.id}: {level.name.lower()} after {n} queries",
                details={
                    "route": ctx.policy.id,
                    "principal": principal,
                    "stream": scope,
                    "reasons": list(reasons),
                },
            )
        )
        rt.audit.submit(
            AuditEvent(
                action="modelsec.extraction",
                decision=level.name.lower(),
                principal=principal,
                target=f"route:{ctx.policy.id}",
                findings=list(reasons),
                details={"stream": scope, "queries": n},
            )
        )


@guards.register
class ExtractionDegrade(Guard):
    """Coarser outputs for degraded streams, plus each route's always-on hardening."""

    name: ClassVar[str] = "extraction_degrade"
    stage: ClassVar[Stage] = Stage.OUTPUT

    async def filter(self, ctx: GuardContext, payload: Any) -> Any:
        settings = _settings(ctx.request.app.state)
        options = list(settings.modelsec_output_hardening.get(ctx.policy.id, []))
        level = ctx.extra.get(_STATE_KEY, Level.OK)
        if level >= Level.DEGRADE:
            options += ["round:1", "top_k:3"]
        if not options:
            return payload
        return harden(payload, options)
