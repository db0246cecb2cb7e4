"""Helpers for the console tests: staff of every role with MFA, a test-only quarantine fake."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import pyotp
from argon2 import PasswordHasher

from shopguard.core.audit import AuditEvent, AuditLog
from shopguard.core.errors import DataValidationError, NotFoundError
from shopguard.core.runtime import Runtime
from shopguard.governance.roles import PRIVILEGED, Role
from shopguard.governance.staff import StaffDirectory

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


@dataclass
class Record:
    id: int
    kind: str
    source: str
    key: str
    text: str
    status: str = "quarantined"
    score: float = 0.93
    reasons: tuple[str, ...] = ("burst", "near_duplicate")
    received_at: str = "2026-11-26T10:00:00+00:00"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "source": self.source,
            "key": self.key,
            "status": self.status,
            "score": self.score,
            "reasons": list(self.reasons),
            "received_at": self.received_at,
        }


@dataclass
class FakeQuarantine:
    """Test-only stand-in with the interface of ``shopguard.integrity.quarantine.Quarantine``
    (that module is merged from another branch); decisions are audited like the real one."""

    audit: AuditLog
    records: dict[int, Record] = field(default_factory=dict)

    def list(self, *, limit: int = 100) -> list[Record]:
        return [r for r in self.records.values() if r.status == "quarantined"][:limit]

    def payload(self, record_id: int) -> dict[str, Any]:
        if record_id not in self.records:
            raise NotFoundError("no such record")
        return {"text": self.records[record_id].text}

    def _decide(self, record_id: int, to: str, reviewer: str, reason: str) -> Record:
        rec = self.records.get(record_id)
        if rec is None:
            raise NotFoundError("no such record")
        if rec.status != "quarantined":
            raise DataValidationError(f"record is {rec.status}, not quarantined")
        self.audit.append(
            AuditEvent(
                action=f"integrity.quarantine.{to}",
                decision=to,
                principal=reviewer,
                target=f"{rec.kind}:{rec.source}:{rec.key}",
                details={"record_id": record_id, "reason": reason},
            )
        )
        rec.status = "released" if to == "release" else "rejected"
        return rec

    def release(self, record_id: int, *, reviewer: str, reason: str) -> Record:
        return self._decide(record_id, "release", reviewer, reason)

    def reject(self, record_id: int, *, reviewer: str, reason: str) -> Record:
        return self._decide(record_id, "reject", reviewer, reason)


def fake_quarantine(rt: Runtime) -> FakeQuarantine:
    q = FakeQuarantine(rt.audit)
    q.records[1] = Record(1, "review", "storefront", "r-1001", "Great blender, works as described.")
    q.records[2] = Record(2, "review", "storefront", "r-1002", "BEST PRODUCT EVER buy now!!!")
    return q


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
