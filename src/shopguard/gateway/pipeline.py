"""The guards pipeline: authN -> authZ -> rate limit -> input checks -> model -> output filters -> audit.

One explicit, configurable list of named guards (``gateway_guards``). Each
guard has a stage; the pipeline refuses a configuration that runs stages out
of order. Later capabilities register their guards here (extraction watch,
unusual-input detection, prompt-injection filter, PII output filter) and name
them in the setting. Audit and metrics are not guards: every decision is
recorded by the pure-ASGI recorder whatever the configuration.

Every route declares a :class:`RoutePolicy` (its id and the scopes it needs);
a route without one is denied. A guard that fails unexpectedly denies the
request (503) and raises an alert: fail closed.
"""

from __future__ import annotations

import logging
from abc import ABC
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar

from fastapi import Request
from starlette.types import Scope

from shopguard.core.errors import (
    AuthenticationError,
    AuthorizationError,
    ConfigError,
    RateLimitedError,
    ShopguardError,
)
from shopguard.core.events import Alert, EventBus, Severity
from shopguard.core.registry import Registry
from shopguard.gateway.jwt_auth import JwtVerifier
from shopguard.gateway.keys import ApiKeyStore
from shopguard.gateway.ratelimit import RateLimiter

__all__ = [
    "Guard",
    "GuardContext",
    "GuardFailed",
    "Pipeline",
    "Principal",
    "RoutePolicy",
    "Stage",
    "guards",
]

logger = logging.getLogger(__name__)


class Stage(IntEnum):
    AUTHN = 1
    AUTHZ = 2
    RATE_LIMIT = 3
    INPUT = 4
    OUTPUT = 6


class GuardFailed(ShopguardError):
    """A guard broke; the request is refused rather than let through unchecked."""

    http_status = 503
    title = "Guard unavailable"


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key id or a token subject, never a secret."""

    id: str
    kind: str
    tenant: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class RoutePolicy:
    """What a route needs. ``public`` routes skip authentication and rate limits by key."""

    id: str
    scopes: frozenset[str] = frozenset()
    public: bool = False


@dataclass
class GuardContext:
    """Per-request state shared by the guards and the handler."""

    request: Request
    policy: RoutePolicy
    pipeline: Pipeline
    principal: Principal | None = None
    findings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def client_ip(self) -> str:
        client = self.request.client
        return client.host if client else "unknown"

    @property
    def tenant(self) -> str:
        if self.principal is None:
            raise AuthenticationError("authentication required")
        return self.principal.tenant

    async def inputs(self, body: Any) -> None:
        """Run the input-check guards on the validated request body."""
        await self.pipeline.run_inputs(self, body)

    async def outputs(self, payload: Any) -> Any:
        """Run the output filters on what the model produced; returns what may be sent."""
        return await self.pipeline.run_outputs(self, payload)


@dataclass(frozen=True)
class GatewayDeps:
    """What guards may use."""

    keys: ApiKeyStore
    jwt: JwtVerifier | None
    limiter: RateLimiter
    bus: EventBus
    #: Staff sessions (``sgs_`` bearer tokens) -> principal; None: staff tokens are refused.
    staff: Callable[[str], Awaitable[Principal]] | None = None


class Guard(ABC):
    """A named step of the pipeline. Override the method of the guard's stage."""

    name: ClassVar[str]
    stage: ClassVar[Stage]

    def __init__(self, deps: GatewayDeps) -> None:
        self.deps = deps

    async def before(self, ctx: GuardContext) -> None:  # noqa: B027 - optional hook
        """AUTHN / AUTHZ / RATE_LIMIT stages: raise to refuse."""

    async def inspect(self, ctx: GuardContext, body: Any) -> None:  # noqa: B027 - optional hook
        """INPUT stage: raise to refuse; append findings to ``ctx.findings``."""

    async def filter(self, ctx: GuardContext, payload: Any) -> Any:
        """OUTPUT stage: return the payload to send (possibly changed)."""
        return payload


guards: Registry[Guard] = Registry("guard")


@guards.register
class Authenticate(Guard):
    """API key (``X-API-Key`` or ``Authorization: Bearer sgk_...``), a staff session
    (``Bearer sgs_...``) or a bearer JWT."""

    name = "authn"
    stage = Stage.AUTHN

    async def before(self, ctx: GuardContext) -> None:
        if ctx.policy.public:
            return
        api_key, auth = _credential_headers(ctx.request.scope)
        bearer = auth[7:].strip() if auth is not None and auth[:7].lower() == "bearer " else None
        if api_key is None and bearer is not None and bearer.startswith("sgk_"):
            api_key, bearer = bearer, None
        if api_key is not None:
            rec = self.deps.keys.authenticate(api_key)
            ctx.principal = Principal(rec.key_id, "api_key", rec.tenant, rec.scopes)
        elif bearer is not None and bearer.startswith("sgs_") and self.deps.staff is not None:
            ctx.principal = await self.deps.staff(bearer)
        elif bearer is not None:
            if self.deps.jwt is None:
                raise AuthenticationError("invalid bearer token")
            claims = self.deps.jwt.verify(bearer)
            ctx.principal = Principal(f"jwt:{claims.subject}", "jwt", claims.tenant, claims.scopes)
        else:
            raise AuthenticationError("authentication required")


def _credential_headers(scope: Scope) -> tuple[str | None, str | None]:
    """``(X-API-Key, Authorization)`` from the raw ASGI headers (first of each; latin-1)."""
    api_key = auth = None
    for name, value in scope["headers"]:
        if name == b"x-api-key" and api_key is None:
            api_key = value.decode("latin-1")
        elif name == b"authorization" and auth is None:
            auth = value.decode("latin-1")
    return api_key, auth


@guards.register
class Authorize(Guard):
    """Every scope the route declares must be granted (``*`` grants all)."""

    name = "authz"
    stage = Stage.AUTHZ

    async def before(self, ctx: GuardContext) -> None:
        if ctx.policy.public:
            return
        if ctx.principal is None:
            # SECURITY: without an authenticated principal nothing is authorised.
            raise AuthenticationError("authentication required")
        granted = ctx.principal.scopes
        if "*" in granted:
            return
        missing = ctx.policy.scopes - granted
        if missing or not ctx.policy.scopes:
            raise AuthorizationError(
                f"missing scope {sorted(missing)[0] if missing else '(undeclared)'}"
            )


@guards.register
class RateLimit(Guard):
    """Per key, per client IP and per key-and-route limits (429 with Retry-After)."""

    name = "rate_limit"
    stage = Stage.RATE_LIMIT

    async def before(self, ctx: GuardContext) -> None:
        decision = await self.deps.limiter.hit(
            principal=ctx.principal.id if ctx.principal else None,
            ip=ctx.client_ip,
            route=ctx.policy.id,
        )
        ctx.request.scope.setdefault("state", {})["ratelimit"] = decision
        if not decision.allowed:
            ctx.findings.append("rate_limited")
            raise RateLimitedError("rate limit exceeded", retry_after=decision.retry_after)


class Pipeline:
    """The configured guards, in order, and how a request goes through them."""

    def __init__(self, names: list[str], deps: GatewayDeps) -> None:
        instances = [guards.get(n)(deps) for n in names]
        stages = [g.stage for g in instances]
        if stages != sorted(stages):
            raise ConfigError(
                "gateway_guards must run in stage order: authn, authz, rate limit, input, output"
            )
        if instances and Stage.AUTHZ in stages and Stage.AUTHN not in stages:
            raise ConfigError("gateway_guards: authz needs authn before it")
        self.names = names
        self.deps = deps
        self._pre = [g for g in instances if g.stage < Stage.INPUT]
        self._inputs = [g for g in instances if g.stage == Stage.INPUT]
        self._outputs = [g for g in instances if g.stage == Stage.OUTPUT]

    async def _guarded(
        self, guard: Guard, ctx: GuardContext, call: Callable[[], Awaitable[Any]]
    ) -> Any:
        try:
            return await call()
        except Exception as exc:
            raise self._refusal(guard, ctx, exc) from None

    def _refusal(self, guard: Guard, ctx: GuardContext, exc: Exception) -> ShopguardError:
        """The error to answer with when ``guard`` raised ``exc`` (its own, or 503 and an alert)."""
        state = ctx.request.scope.setdefault("state", {})
        if isinstance(exc, ShopguardError):
            state["reason"] = f"{guard.name}: {type(exc).__name__}"
            return exc
        logger.exception("guard %s failed", guard.name)  # called while handling ``exc``
        self.deps.bus.publish(
            Alert(
                topic="gateway.guard.failed",
                severity=Severity.HIGH,
                source=f"gateway.{guard.name}",
                summary=f"guard {guard.name} failed; request refused (fail closed)",
                details={"route": ctx.policy.id, "error": type(exc).__name__},
            )
        )
        state["reason"] = f"{guard.name}: failed"
        return GuardFailed(f"guard {guard.name} is unavailable")

    async def run_pre(self, ctx: GuardContext) -> None:
        """AuthN, authZ and rate limits, in order; raises the first refusal."""
        state = ctx.request.scope.setdefault("state", {})
        try:
            for g in self._pre:
                try:
                    await g.before(ctx)
                except Exception as exc:
                    refusal = self._refusal(g, ctx, exc)
                    if refusal is exc:
                        raise
                    raise refusal from None
        finally:
            if ctx.principal is not None:
                state["principal"] = ctx.principal.id
                state["tenant"] = ctx.principal.tenant
            state["findings"] = ctx.findings

    @property
    def has_inputs(self) -> bool:
        return bool(self._inputs)

    @property
    def has_outputs(self) -> bool:
        return bool(self._outputs)

    async def run_inputs(self, ctx: GuardContext, body: Any) -> None:
        for g in self._inputs:
            await self._guarded(g, ctx, lambda g=g: g.inspect(ctx, body))  # type: ignore[misc]

    async def run_outputs(self, ctx: GuardContext, payload: Any) -> Any:
        for g in self._outputs:
            payload = await self._guarded(g, ctx, lambda g=g, p=payload: g.filter(ctx, p))  # type: ignore[misc]
        return payload
