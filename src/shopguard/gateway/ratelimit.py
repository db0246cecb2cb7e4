"""Rate limiting: per key, per client IP and per key-and-route, sustained and burst.

Limits are written in the ``limits`` library's notation (``"50/second;2000/minute"``)
and parsed by it. Both backends count with the same **sliding-window counter**
(as the ``limits`` library's own ``SlidingWindowCounter`` does): the current
fixed window's count plus the previous window's count weighted by the part of
it still inside the sliding window. With ``SHOPGUARD_REDIS_URL`` every worker
shares the counters in Redis through **one** Lua script call that checks and
increments every applicable limit of a request atomically. One round trip
instead of one per limit: a redis-py call costs about 70 µs here (STYLE.md), and
a request checks up to six limits. Requests that arrive while a call is in
flight are checked together by the next call (each still atomically and in
order), so under load a round trip and redis-py's cost are shared by many
requests: about 150 µs of CPU per request alone became about 45 µs.

In process the same algorithm runs on a dict (two integers per limit and
caller, stale ones swept once a minute). It replaced the ``limits`` moving window over its
``MemoryStorage``, which keeps one entry per hit (a list insert at the front,
so O(hits in the window) per request), starts a timer thread every 10 ms and
cost the gateway most of its throughput (bench/gateway.py). The sliding-window
counter may let a burst at a window boundary exceed a strict moving window by
the weighting error; it never lets the sustained rate exceed the limit, and
both backends now decide identically.

Redis unreachable: fail closed (503) by default, or fail open when configured;
an alert is published either way (at most once per 30 s).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import limits
import redis.asyncio as aioredis

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


# One call checks the requests of a whole batch, each atomically and in order.
# KEYS: one per limit of each request, in order (the counter prefixes). ARGV:
# now_ms, the number of requests, then per request its number of limits n and n
# (amount, window_ms) pairs. Returns 5 integers per request: allowed, limit,
# remaining, reset s, retry after s.
# Sliding-window counter: weight the previous window's count by the part of it
# still inside the sliding window. Check all of a request's limits first;
# increment them all only if every one allows it.
_LUA = """
local now = tonumber(ARGV[1])
local nreq = tonumber(ARGV[2])
local out = {}
local ki = 0
local ai = 3
for r = 1, nreq do
  local n = tonumber(ARGV[ai])
  ai = ai + 1
  local best_remaining = -1
  local best_limit = 0
  local best_reset = 0
  local retry = 0
  local cur_keys = {}
  for i = 1, n do
    local amount = tonumber(ARGV[ai])
    local window = tonumber(ARGV[ai + 1])
    ai = ai + 2
    local idx = math.floor(now / window)
    local cur_key = KEYS[ki + i] .. ':' .. idx
    local prev_key = KEYS[ki + i] .. ':' .. (idx - 1)
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
  ki = ki + n
  if retry > 0 then
    out[#out + 1] = 0
    out[#out + 1] = best_limit
    out[#out + 1] = 0
    out[#out + 1] = best_reset
    out[#out + 1] = retry
  else
    for i = 1, n do
      redis.call('INCR', cur_keys[i][1])
      redis.call('PEXPIRE', cur_keys[i][1], cur_keys[i][2] * 2)
    end
    if best_remaining < 0 then best_remaining = 0 end
    out[#out + 1] = 1
    out[#out + 1] = best_limit
    out[#out + 1] = best_remaining
    out[#out + 1] = best_reset
    out[#out + 1] = 0
  end
end
return out
"""


#: One limit to check: (counter key, amount, window in ms).
_Spec = tuple[str, int, int]
#: Most (caller, IP, route) combinations whose counter keys are kept built.
_SPEC_CACHE = 4096


class _SlidingWindowCounters:
    """In-process sliding-window counters: the Redis script's algorithm on a dict.

    Each counter is ``[window index, count in that window, count in the window
    before, window ms]``. Counters not touched for two windows are dropped by a
    sweep that runs at most once per ``sweep_ms``.
    """

    def __init__(self, *, sweep_ms: int = 60_000) -> None:
        self._counters: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._sweep_ms = sweep_ms
        self._next_sweep = 0

    def __len__(self) -> int:
        return len(self._counters)

    def hit(self, specs: Sequence[_Spec], now_ms: int) -> tuple[bool, int, int, int, int]:
        """(allowed, limit, remaining, reset s, retry after s), as the Lua script returns."""
        with self._lock:
            if now_ms >= self._next_sweep:
                self._sweep(now_ms)
            counters = self._counters
            best_remaining = -1
            best_limit = best_reset = retry = 0
            current: list[tuple[str, int, int, int, int]] = []
            for key, amount, window in specs:
                idx = now_ms // window
                c = counters.get(key)
                if c is None or c[0] < idx - 1:
                    cur = prev = 0
                elif c[0] == idx:
                    cur, prev = c[1], c[2]
                else:  # the counter is of the previous window
                    cur, prev = 0, c[1]
                current.append((key, idx, cur, prev, window))
                elapsed = now_ms - idx * window
                weighted = prev * (window - elapsed) / window + cur
                remaining = math.floor(amount - weighted - 1)
                reset = math.ceil((window - elapsed) / 1000)
                if weighted + 1 > amount:
                    wait = reset
                    if prev > 0:
                        wait = math.ceil(((weighted + 1 - amount) / prev) * window / 1000)
                    retry = max(retry, wait, 1)
                if best_remaining < 0 or remaining < best_remaining:
                    best_remaining, best_limit, best_reset = remaining, amount, reset
            if retry > 0:
                return False, best_limit, 0, best_reset, retry
            for key, idx, cur, prev, window in current:
                counters[key] = [idx, cur + 1, prev, window]
            return True, best_limit, max(best_remaining, 0), best_reset, 0

    def _sweep(self, now_ms: int) -> None:
        stale = [k for k, c in self._counters.items() if c[0] < now_ms // c[3] - 1]
        for k in stale:
            del self._counters[k]
        self._next_sweep = now_ms + self._sweep_ms


def _suffix(item: limits.RateLimitItem) -> str:
    # The tail of ``item.key_for(...)``, precomputed: key_for costs ~4 µs a call.
    return f"{item.amount}/{item.multiples}/{item.GRANULARITY.name}"


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
        self._key_limits = [(_suffix(i), i.amount, i.get_expiry() * 1000) for i in key_limits]
        self._ip_limits = [(_suffix(i), i.amount, i.get_expiry() * 1000) for i in ip_limits]
        self._route_limits = {
            r: [(_suffix(i), i.amount, i.get_expiry() * 1000) for i in v]
            for r, v in route_limits.items()
        }
        self._fail_open = fail_open
        self._bus = bus
        self._ns = namespace
        self._last_alert = 0.0
        self._redis: aioredis.Redis | None = None
        self._script: Any = None
        self._memory: _SlidingWindowCounters | None = None
        self._queued: list[tuple[list[_Spec], int, asyncio.Future[Any]]] = []
        self._specs: dict[tuple[str | None, str, str], list[_Spec]] = {}
        self._sending = False
        self._sender: asyncio.Future[None] | None = None
        if redis_url:
            self._redis = aioredis.from_url(
                redis_url, socket_connect_timeout=1.0, socket_timeout=1.0, health_check_interval=30
            )
            self._script = self._redis.register_script(_LUA)
        else:
            self._memory = _SlidingWindowCounters()

    @property
    def backend(self) -> str:
        return "redis" if self._redis is not None else "memory"

    def _applicable(self, principal: str | None, ip: str, route: str) -> list[_Spec]:
        # The same callers come back: their limits' keys are built once (bounded cache).
        who = (principal, ip, route)
        specs = self._specs.get(who)
        if specs is None:
            if len(self._specs) >= _SPEC_CACHE:
                self._specs.clear()
            specs = self._specs[who] = self._build_specs(principal, ip, route)
        return specs

    def _build_specs(self, principal: str | None, ip: str, route: str) -> list[_Spec]:
        # Keys as ``limits``' ``item.key_for(kind, *ids)`` spells them, under our namespace.
        ns = self._ns
        out = [(f"{ns}:LIMITER/ip/{ip}/{sfx}", n, w) for sfx, n, w in self._ip_limits]
        if principal is not None:
            out += [(f"{ns}:LIMITER/key/{principal}/{sfx}", n, w) for sfx, n, w in self._key_limits]
            out += [
                (f"{ns}:LIMITER/route/{route}/{principal}/{sfx}", n, w)
                for sfx, n, w in self._route_limits.get(route, ())
            ]
        return out

    async def hit(self, *, principal: str | None, ip: str, route: str) -> RateDecision:
        specs = self._applicable(principal, ip, route)
        if not specs:
            return RateDecision(True, 0, 0, 0)
        now_ms = int(time.time() * 1000)
        if self._memory is not None:
            return RateDecision(*self._memory.hit(specs, now_ms))
        return await self._hit_redis(specs, now_ms)

    async def _hit_redis(self, specs: list[_Spec], now_ms: int) -> RateDecision:
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queued.append((specs, now_ms, waiter))
        if not self._sending:
            self._sending = True
            self._sender = asyncio.ensure_future(self._send_queued())
        try:
            allowed, limit, remaining, reset, retry = await waiter
        except (aioredis.RedisError, OSError) as exc:
            return self._unavailable(exc)
        return RateDecision(bool(allowed), limit, remaining, reset, retry)

    async def _send_queued(self) -> None:
        """Check every queued request in one script call; repeat while more were queued.

        One round trip per request at most, and usually fewer: the requests that
        arrive while a call is in flight share the next one (and redis-py's
        per-call cost) instead of queueing for connections one by one. Each
        request is still checked and counted atomically, in arrival order.
        """
        try:
            while self._queued:
                batch, self._queued = self._queued, []
                keys: list[str] = []
                argv: list[int] = [max(now for _, now, _ in batch), len(batch)]
                for specs, _, _ in batch:
                    argv.append(len(specs))
                    for key, amount, window in specs:
                        keys.append(key)
                        argv += (amount, window)
                try:
                    flat = await self._script(keys=keys, args=argv)
                except Exception as exc:  # every waiter learns of it (and fails closed or open)
                    for _, _, waiter in batch:
                        if not waiter.done():
                            waiter.set_exception(exc)
                    continue
                except BaseException:  # cancelled (shutting down): so are the waiters
                    for _, _, waiter in batch:
                        waiter.cancel()
                    raise
                for i, (_, _, waiter) in enumerate(batch):
                    if not waiter.done():
                        waiter.set_result([int(x) for x in flat[5 * i : 5 * i + 5]])
        finally:
            self._sending = False

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
