"""Encryption in transit to the stores is taken from the URLs and fails closed.

The servers here speak plain TCP, so a client told to verify TLS must refuse them
rather than fall back to clear text.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from shopguard.core.db import create_engine
from shopguard.core.errors import StorageError
from shopguard.core.events import EventBus
from shopguard.core.settings import load_settings
from shopguard.gateway.ratelimit import RateLimiter, RateLimitUnavailable, parse_limits


@pytest.mark.postgres
def test_postgres_when_verify_full_against_plain_server_then_refused(tmp_path: Path) -> None:
    plain = load_settings(home=tmp_path, database_url="postgresql://127.0.0.1:5432/test")
    create_engine(plain).dispose()  # the server is up: what follows is TLS, not reachability
    strict = load_settings(
        home=tmp_path, database_url="postgresql://127.0.0.1:5432/test?sslmode=verify-full"
    )
    with pytest.raises(StorageError, match="cannot connect to the postgresql database"):
        create_engine(strict)


def test_redis_when_rediss_against_plain_server_then_fail_closed() -> None:
    alerts: list[object] = []
    bus = EventBus()
    bus.subscribe("*", alerts.append)

    async def hit(url: str) -> bool:
        lim = RateLimiter(key_limits=parse_limits("5/second"), ip_limits=[], route_limits={},
                          redis_url=url, fail_open=False, bus=bus)  # fmt: skip
        try:
            return (await lim.hit(principal="k", ip="203.0.113.1", route="r")).allowed
        finally:
            await lim.close()

    assert asyncio.run(hit("redis://127.0.0.1:6379/0")) is True
    with pytest.raises(RateLimitUnavailable) as info:
        asyncio.run(hit("rediss://127.0.0.1:6379/0?ssl_cert_reqs=required"))
    assert info.value.http_status == 503
    assert alerts, "an unreachable (or untrusted) Redis raises an alert"
