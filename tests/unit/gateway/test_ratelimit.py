from __future__ import annotations

import asyncio
import uuid

import pytest

from shopguard.core.errors import ShopguardError
from shopguard.core.events import EventBus
from shopguard.gateway.ratelimit import RateLimiter, RateLimitUnavailable, parse_limits

REDIS = "redis://127.0.0.1:6379/0"


def _limiter(**kw) -> RateLimiter:
    base = dict(
        key_limits=parse_limits("5/second;8/minute"),
        ip_limits=parse_limits("100/second"),
        route_limits={},
    )
    base.update(kw)
    return RateLimiter(namespace=f"t:{uuid.uuid4().hex}", **base)


async def _count_allowed(lim: RateLimiter, n: int, **who) -> int:
    ok = 0
    for _ in range(n):
        d = await lim.hit(**who)
        ok += d.allowed
    return ok


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_hit_when_burst_exceeded_then_refused_with_retry_after(backend) -> None:
    lim = _limiter(redis_url=REDIS if backend == "redis" else None)
    assert lim.backend == backend

    async def go():
        allowed = await _count_allowed(lim, 5, principal="k1", ip="1.1.1.1", route="r")
        d = await lim.hit(principal="k1", ip="1.1.1.1", route="r")
        other = await lim.hit(principal="k2", ip="1.1.1.1", route="r")
        await lim.close()
        return allowed, d, other

    allowed, refused, other = asyncio.run(go())
    assert allowed == 5
    assert not refused.allowed and refused.retry_after >= 1
    assert other.allowed  # limits are per key


def test_hit_when_per_route_limit_then_other_routes_unaffected() -> None:
    lim = _limiter(route_limits={"fraud.score": parse_limits("2/second")})

    async def go():
        a = await _count_allowed(lim, 4, principal="k", ip="i", route="fraud.score")
        b = await _count_allowed(lim, 2, principal="k", ip="i", route="reviews.read")
        return a, b

    assert asyncio.run(go()) == (2, 2)


def test_hit_when_redis_down_and_fail_closed_then_unavailable_and_alert() -> None:
    bus = EventBus()
    seen = []
    bus.subscribe("*", seen.append)
    lim = _limiter(redis_url="redis://127.0.0.1:1/0", bus=bus)
    with pytest.raises(RateLimitUnavailable) as info:
        asyncio.run(lim.hit(principal="k", ip="i", route="r"))
    assert info.value.http_status == 503
    assert seen and seen[0].topic == "gateway.rate_limit.unavailable"


def test_hit_when_redis_down_and_fail_open_then_allowed_and_alert() -> None:
    bus = EventBus()
    seen = []
    bus.subscribe("*", seen.append)
    lim = _limiter(redis_url="redis://127.0.0.1:1/0", bus=bus, fail_open=True)
    assert asyncio.run(lim.hit(principal="k", ip="i", route="r")).allowed
    assert seen and "fail open" in seen[0].summary


def test_parse_limits_when_garbage_then_config_error() -> None:
    with pytest.raises(ShopguardError):
        parse_limits("lots per hour")


def test_memory_counters_when_idle_for_two_windows_then_swept() -> None:
    from shopguard.gateway.ratelimit import _SlidingWindowCounters

    counters = _SlidingWindowCounters(sweep_ms=1_000)
    assert counters.hit([("a", 5, 1_000), ("b", 5, 60_000)], now_ms=10_000)[0]
    assert len(counters) == 2
    counters.hit([("b", 5, 60_000)], now_ms=13_000)  # 'a' is three 1-s windows old: swept
    assert len(counters) == 1


def test_memory_counters_when_window_slides_then_previous_window_weighs_in() -> None:
    from shopguard.gateway.ratelimit import _SlidingWindowCounters

    counters = _SlidingWindowCounters()
    spec = [("k", 4, 1_000)]
    assert all(counters.hit(spec, now_ms=5_000 + i)[0] for i in range(4))
    assert not counters.hit(spec, now_ms=5_500)[0]  # still inside the first window
    # Half-way into the next window, half of the previous 4 still count: 2 more fit.
    assert counters.hit(spec, now_ms=6_500)[0] and counters.hit(spec, now_ms=6_501)[0]
    assert not counters.hit(spec, now_ms=6_502)[0]


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_hit_when_concurrent_requests_share_a_call_then_limit_exact_and_in_order(
    backend,
) -> None:
    # Concurrent checks are sent to Redis together; each must still count atomically.
    lim = _limiter(redis_url=REDIS if backend == "redis" else None)

    async def go():
        first = await asyncio.gather(
            *[lim.hit(principal="k1", ip="1.1.1.1", route="r") for _ in range(12)]
        )
        other = await lim.hit(principal="k2", ip="1.1.1.1", route="r")
        await lim.close()
        return first, other

    decisions, other = asyncio.run(go())
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 7
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert all(d.retry_after >= 1 for d in decisions[5:])
    assert other.allowed
