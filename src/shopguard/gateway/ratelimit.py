"""Rate limiting: per key, per client IP and per key-and-route, sustained and burst.

Limits are written in the ``limits`` library's notation (``"50/second;2000/minute"``)
and parsed by it. In process, the ``limits`` moving-window strategy over its
memory storage counts hits. With ``SHOPGUARD_REDIS_URL`` every worker shares the
counters in Redis through **one** Lua script per request that checks and
increments every applicable limit atomically (a sliding-window counter, as the
``limits`` library's own ``SlidingWindowCounter`` does). One round trip instead
of one per limit: a redis-py call costs about 70 µs here (STYLE.md), and a
request checks up to six limits.

Redis unreachable: fail closed (503) by default, or fail open when configured;
an alert is published either way (at most once per 30 s).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import limits
import redis.asyncio as aioredis
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from shopguard.core.errors import ShopguardError
from shopguard.core.events import Alert, EventBus, Severity

__all__ = ["RateDecision", "RateLimitUnavailable", "RateLimiter", "parse_limits"]

logger = logging.getLogger(__name__)


class RateLimitUnavailable(ShopguardError):
    """The shared rate-limit store cannot be reached and the limiter fails closed."""

    http_status = 503
    title = "Rate limiting unavailable"


def parse_limits(text: str) -> list[limits.RateLimitItem]:
    try:
        return list(limits.parse_many(text))
    except ValueError:
        from shopguard.core.errors import ConfigError

        raise ConfigError(
            f"rate limit {text!r} is not in the form '50/second;2000/minute'"
        ) from None


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int
    retry_after: int = 0


# KEYS: one per limit (the counter prefix). ARGV: now_ms, then (amount, window_ms) per limit.
# Sliding-window counter: weight the previous window's count by the part of it
# still inside the sliding window. Check all first; increment all only if allowed.
_LUA = """
local now = tonumber(ARGV[1])
local n = #KEYS
local best_remaining = -1
local best_limit = 0
local best_reset = 0
local retry = 0
local cur_keys = {}
for i = 1, n do
  local amount = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  local idx = math.floor(now / window)
  local cur_key = KEYS[i] .. ':' .. idx
  local prev_key = KEYS[i] .. ':' .. (idx - 1)
  cur_keys[i] = {cur_key, window}
  local cur = tonumber(redis.call('GET', cur_key) or '0')
  local prev = tonumber(redis.call('GET', prev_key) or '0')
  local elapsed = now - idx * window
  local weighted = prev * (window - elapsed) / window + cur
  local remaining = math.floor(amount - weighted - 1)
  local reset = math.ceil((window - elapsed) / 1000)
  if weighted + 1 > amount then
    local wait = reset
    if prev > 0 then
      wait = math.ceil(((weighted + 1 - amount) / prev) * window / 1000)
    end
    if wait < 1 then wait = 1 end
    if wait > retry then retry = wait end
  end
  if best_remaining < 0 or remaining < best_remaining then
    best_remaining = remaining
    best_limit = amount
    best_reset = reset
  end
end
if retry > 0 then
  return {0, best_limit, 0, best_reset, retry}
end
for i = 1, n do
  local k = cur_keys[i][1]
  redis.call('INCR', k)
  redis.call('PEXPIRE', k, cur_keys[i][2] * 2)
end
if best_remaining < 0 then best_remaining = 0 end
return {1, best_limit, best_remaining, best_reset, 0}
"""


class RateLimiter:
    """Check and count one request against every limit that applies to it."""

    def __init__(
        self,
        *,
        key_limits: Sequence[limits.RateLimitItem],
        ip_limits: Sequence[limits.RateLimitItem],
        route_limits: dict[str, Sequence[limits.RateLimitItem]],
        redis_url: str | None = None,
        fail_open: bool = False,
        bus: EventBus | None = None,
        namespace: str = "sg:rl",
    ) -> None:
        self._key_limits = list(key_limits)
        self._ip_limits = list(ip_limits)
        self._route_limits = {k: list(v) for k, v in route_limits.items()}
        self._fail_open = fail_open
        self._bus = bus
        self._ns = namespace
        self._last_alert = 0.0
        self._redis: aioredis.Redis | None = None
        self._script: Any = None
        self._memory: MovingWindowRateLimiter | None = None
        if redis_url:
            self._redis = aioredis.from_url(
                redis_url, socket_connect_timeout=1.0, socket_timeout=1.0, health_check_interval=30
            )
            self._script = self._redis.register_script(_LUA)
        else:
            self._memory = MovingWindowRateLimiter(MemoryStorage())

    @property
    def backend(self) -> str:
        return "redis" if self._redis is not None else "memory"

    def _applicable(
        self, principal: str | None, ip: str, route: str
    ) -> list[tuple[limits.RateLimitItem, tuple[str, ...]]]:
        out: list[tuple[limits.RateLimitItem, tuple[str, ...]]] = [
            (i, ("ip", ip)) for i in self._ip_limits
        ]
        if principal is not None:
            out += [(i, ("key", principal)) for i in self._key_limits]
            out += [(i, ("route", route, principal)) for i in self._route_limits.get(route, ())]
        return out

    async def hit(self, *, principal: str | None, ip: str, route: str) -> RateDecision:
        items = self._applicable(principal, ip, route)
        if not items:
            return RateDecision(True, 0, 0, 0)
        if self._memory is not None:
            return self._hit_memory(items)
        return await self._hit_redis(items)

    def _hit_memory(
        self, items: list[tuple[limits.RateLimitItem, tuple[str, ...]]]
    ) -> RateDecision:
        assert self._memory is not None
        for item, ids in items:
            if not self._memory.test(item, *ids):
                reset, _ = self._memory.get_window_stats(item, *ids)
                retry = max(1, math.ceil(reset - time.time()))
                return RateDecision(False, item.amount, 0, retry, retry)
        best: RateDecision | None = None
        for item, ids in items:
            self._memory.hit(item, *ids)
        for item, ids in items:  # headers describe the tightest limit
            reset, remaining = self._memory.get_window_stats(item, *ids)
            d = RateDecision(True, item.amount, remaining, max(0, math.ceil(reset - time.time())))
            if best is None or d.remaining < best.remaining:
                best = d
        assert best is not None
        return best

    async def _hit_redis(
        self, items: list[tuple[limits.RateLimitItem, tuple[str, ...]]]
    ) -> RateDecision:
        keys = [f"{self._ns}:{item.key_for(*ids)}" for item, ids in items]
        argv: list[int] = [int(time.time() * 1000)]
        for item, _ in items:
            argv += [item.amount, item.get_expiry() * 1000]
        try:
            res = await self._script(keys=keys, args=argv)
        except (aioredis.RedisError, OSError) as exc:
            return self._unavailable(exc)
        allowed, limit, remaining, reset, retry = (int(x) for x in res)
        return RateDecision(bool(allowed), limit, remaining, reset, retry)

    def _unavailable(self, exc: BaseException) -> RateDecision:
        now = time.monotonic()
        if self._bus is not None and now - self._last_alert > 30:
            self._last_alert = now
            self._bus.publish(
                Alert(
                    topic="gateway.rate_limit.unavailable",
                    severity=Severity.HIGH,
                    source="gateway.ratelimit",
                    summary="rate-limit store unreachable; "
                    + (
                        "letting requests through (fail open)"
                        if self._fail_open
                        else "refusing requests (fail closed)"
                    ),
                    details={"error": type(exc).__name__},
                )
            )
        logger.error("rate-limit store unreachable: %s", type(exc).__name__)
        if self._fail_open:
            return RateDecision(True, 0, 0, 0)
        raise RateLimitUnavailable("rate limiting is unavailable")

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
