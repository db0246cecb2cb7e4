"""Fixtures for the operations side of governance: a movable clock and a fast argon2 profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from shopguard.core.runtime import Runtime
from shopguard.governance.staff import StaffDirectory


class FrozenClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


#: Tests need argon2id, not its cost: the production profile takes ~0.4 s a hash here.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def staff(runtime: Runtime, clock: FrozenClock) -> StaffDirectory:
    return StaffDirectory.from_runtime(runtime, clock=clock, hasher=FAST_HASHER)
