"""Helpers for the console tests: staff of every role with MFA, reviews really quarantined."""

from __future__ import annotations

import functools
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyotp
from argon2 import PasswordHasher
from threadpoolctl import threadpool_limits

from shopguard.core.runtime import Runtime
from shopguard.governance.roles import PRIVILEGED, Role
from shopguard.governance.staff import StaffDirectory
from shopguard.integrity import Ingestor, Kind, Quarantine

PASSWORD = "violet-harbour-engine-42"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
USERS = {role: role.value.replace("_", "-") for role in Role}


def add_staff(rt: Runtime) -> dict[Role, str]:
    """One account per role; privileged ones enrol MFA (confirmed with the previous step's
    code, so a login with the current code is not a replay). Returns role -> TOTP secret."""
    staff = StaffDirectory.from_runtime(rt, hasher=FAST_HASHER)
    secrets: dict[Role, str] = {}
    for role, user in USERS.items():
        staff.add(user, display_name=role.value, role=role, password=PASSWORD, actor="test")
        if role in PRIVILEGED:
            enrol = staff.begin_mfa(user, actor="test")
            staff.confirm_mfa(user, pyotp.TOTP(enrol.secret).at(time.time() - 30))
            secrets[role] = enrol.secret
    return secrets


def session_token(rt: Runtime, role: Role, secrets: dict[Role, str]) -> str:
    staff = StaffDirectory.from_runtime(rt, hasher=FAST_HASHER)
    code = pyotp.TOTP(secrets[role]).now() if role in secrets else None
    return staff.login(USERS[role], PASSWORD, code=code).token


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "page has no CSRF field"
    return m.group(1)


def login_client(client: Client, token: str) -> None:
    client.cookies.set("sg_console", token)


CAMPAIGN = (
    "Absolutely the best blender I have ever bought, five stars, it changed my life and "
    "everyone in my family loves it, buy it now before it sells out"
)


@functools.cache
def _shipped_scorer() -> Any:
    """The shipped fake-review scorer, loaded once per test session (it takes seconds)."""
    from shopguard.integrity.reviews import ReviewScorer

    return ReviewScorer.load_default().score_frame


def quarantine_campaign(
    rt: Runtime, n: int = 3, *, product: str = "P00002", text: str = CAMPAIGN
) -> list[int]:
    """Ingest a copy-paste review campaign as one batch through the real integrity
    pipeline (``Ingestor.ingest_frame``, source ``api``): the first review is accepted,
    the next ``n - 1`` are near-duplicates and land in quarantine. Returns the held
    record ids. (One batch: one call of the scorer, whose cost is per call, not per row.)"""
    # as the API path stores it (naive UTC); publishing a released review needs it
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    frame = pd.DataFrame(
        [
            {
                "id": f"R-camp-{product}-{i}",
                "text": text.replace("five", ["five", "5", "FIVE", "five!", "5!"][i % 5]),
                "rating": 5,
                "title": f"BEST PRODUCT EVER {i}",
                "product_id": product,
                "reviewer_id": f"C{100 + i:06d}",
                "created_at": now,
            }
            for i in range(n)
        ]
    )
    ing = Ingestor(rt.engine, tenant="default", review_scorer=_shipped_scorer())
    batch = f"campaign-{uuid.uuid4().hex}"
    # One OpenMP thread: the scorer's 600 boosting iterations on 3 rows spend their time
    # waking threads (15 s wall on a busy 2-core machine, under 1 s with one thread).
    with threadpool_limits(limits=1, user_api="openmp"):
        ing.ingest_frame(frame, kind=Kind.REVIEW, source="api", batch_id=batch, file_hash=batch)
    held = [r.id for r in Quarantine(rt.engine, rt.audit).list(kind="review")]
    assert len(held) == n - 1, held
    return held


def record_status(rt: Runtime, record_id: int) -> str:
    """A record's status through the quarantine's public listing."""
    q = Quarantine(rt.engine, rt.audit)
    for status in ("quarantined", "released", "rejected", "accepted"):
        if any(r.id == record_id for r in q.list(status=status, limit=10_000)):
            return status
    raise AssertionError(f"record {record_id} not found")


class Client:
    """A synchronous cookie-keeping client over httpx's ASGI transport (its own event loop)."""

    def __init__(self, app: Any) -> None:
        import asyncio

        import httpx

        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
        self._client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")
        self.cookies = self._client.cookies

    def request(self, method: str, url: str, **kw: Any) -> Any:
        return self._loop.run_until_complete(self._client.request(method, url, **kw))

    def get(self, url: str, **kw: Any) -> Any:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.request("POST", url, **kw)

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()
