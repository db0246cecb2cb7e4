"""API keys: shown once, stored only as a keyed hash, looked up in constant time.

A key reads ``sgk_<key id>_<secret>``. The key id finds the row; the secret is
checked by comparing HMAC-SHA256 digests with :func:`hmac.compare_digest`
(key ring purpose ``gateway.apikey``). Argon2 is for passwords: an API key has
256 bits of entropy, so a keyed hash is both safe and fast (0.3 µs).

Revocation reaches every worker within ``cache_ttl`` seconds: each worker
caches a key's row for at most that long before reading it again from the
shared database.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core import crypto
from shopguard.core.db import metadata
from shopguard.core.errors import AuthenticationError, DataValidationError, NotFoundError
from shopguard.core.keyring import KeyRing

__all__ = ["ApiKeyStore", "IssuedKey", "KeyRecord", "api_keys", "parse_duration"]

_PURPOSE = "gateway.apikey"
_KEY_RE = re.compile(r"^sgk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_SCOPE_RE = re.compile(r"^(\*|[a-z][a-z0-9_.:*-]{0,63})$")
_TENANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

api_keys = sa.Table(
    "gateway_api_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("scopes", sa.String(1024), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("digest_key_id", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("expires_at", sa.String(40)),
    sa.Column("revoked_at", sa.String(40)),
)


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``15m`` or ``90s`` as a timedelta."""
    m = re.fullmatch(r"(\d{1,6})([dhms])", text.strip())
    if not m:
        raise DataValidationError("duration must look like 30d, 12h, 15m or 90s", column="expires")
    n = int(m.group(1))
    return {
        "d": timedelta(days=n),
        "h": timedelta(hours=n),
        "m": timedelta(minutes=n),
        "s": timedelta(seconds=n),
    }[m.group(2)]


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    name: str
    tenant: str
    scopes: frozenset[str]
    created_at: str
    expires_at: str | None
    revoked_at: str | None


@dataclass(frozen=True, repr=False)
class IssuedKey:
    """A freshly created key. ``secret`` is the only time the full key exists."""

    record: KeyRecord
    secret: str

    def __repr__(self) -> str:
        return f"IssuedKey(key_id={self.record.key_id!r})"


@dataclass(frozen=True)
class _Cached:
    record: KeyRecord
    digest: bytes
    mac: hmac.HMAC  # HMAC-SHA256 keyed with the key this row's digest was made with
    expires: datetime | None
    fetched: float


class ApiKeyStore:
    """Create, look up and revoke API keys (shared by every worker through the database)."""

    def __init__(
        self,
        engine: Engine,
        keyring: KeyRing,
        *,
        cache_ttl: float = 0.5,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self._ttl = cache_ttl
        self._clock = clock or (lambda: datetime.now(UTC))
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def _digest(self, secret: str, digest_key_id: str | None = None) -> tuple[str, bytes]:
        key = self._keyring.get(digest_key_id) if digest_key_id else self._keyring.active(_PURPOSE)
        return key.key_id, crypto.mac(key.secret, secret.encode())

    def create(
        self, *, name: str, tenant: str, scopes: list[str], expires_in: timedelta | None = None
    ) -> IssuedKey:
        if not name.strip() or len(name) > 128:
            raise DataValidationError("name must be 1-128 characters", column="name")
        if not _TENANT_RE.match(tenant):
            raise DataValidationError(
                "tenant must be 1-64 letters, digits, '.', '_' or '-'", column="tenant"
            )
        bad = [s for s in scopes if not _SCOPE_RE.match(s)]
        if not scopes or bad:
            raise DataValidationError(
                "scopes must be a non-empty list like fraud:score,reviews:read", column="scopes"
            )
        key_id = os.urandom(8).hex()
        secret = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
        digest_key_id, digest = self._digest(secret)
        now = self._clock()
        record = KeyRecord(
            key_id=key_id,
            name=name.strip(),
            tenant=tenant,
            scopes=frozenset(scopes),
            created_at=now.isoformat(),
            expires_at=(now + expires_in).isoformat() if expires_in else None,
            revoked_at=None,
        )
        with self._engine.begin() as conn:
            conn.execute(
                api_keys.insert().values(
                    key_id=key_id,
                    name=record.name,
                    tenant=tenant,
                    scopes=" ".join(sorted(record.scopes)),
                    digest=digest.hex(),
                    digest_key_id=digest_key_id,
                    created_at=record.created_at,
                    expires_at=record.expires_at,
                )
            )
        return IssuedKey(record, f"sgk_{key_id}_{secret}")

    def revoke(self, key_id: str) -> None:
        with self._engine.begin() as conn:
            n = conn.execute(
                api_keys.update()
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=self._clock().isoformat())
            ).rowcount
            if (
                n == 0
                and conn.execute(
                    sa.select(api_keys.c.key_id).where(api_keys.c.key_id == key_id)
                ).first()
                is None
            ):
                raise NotFoundError(f"no API key {key_id}")
        with self._lock:
            self._cache.pop(key_id, None)

    def list(self) -> list[KeyRecord]:
        with self._engine.connect() as conn:
            rows = (
                conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at)).mappings().all()
            )
        return [_record(r) for r in rows]

    def _load(self, key_id: str) -> _Cached | None:
        now = time.monotonic()
        hit = self._cache.get(key_id)  # a dict read is atomic; writers take the lock
        if hit is not None and now - hit.fetched < self._ttl:
            return hit
        with self._engine.connect() as conn:
            row = (
                conn.execute(sa.select(api_keys).where(api_keys.c.key_id == key_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        rec = _record(row)
        entry = _Cached(
            rec,
            bytes.fromhex(row["digest"]),
            hmac.new(self._keyring.get(row["digest_key_id"]).secret, digestmod="sha256"),
            datetime.fromisoformat(rec.expires_at) if rec.expires_at else None,
            now,
        )
        with self._lock:
            self._cache[key_id] = entry
        return entry

    def authenticate(self, presented: str) -> KeyRecord:
        """The key's record, or :class:`AuthenticationError` (one message for every reason)."""
        m = _KEY_RE.match(presented)
        if not m:
            raise AuthenticationError("invalid API key")
        key_id, secret = m.group(1), m.group(2)
        entry = self._load(key_id)
        # The same HMAC-SHA256 as crypto.mac, from a keyed copy: hmac.digest() would
        # release the GIL for every key checked, and the event loop would queue for it.
        mac = (
            entry.mac.copy()
            if entry
            else hmac.new(self._keyring.active(_PURPOSE).secret, digestmod="sha256")
        )
        mac.update(secret.encode())
        digest = mac.digest()
        # SECURITY: compare_digest; == leaks timing. Compare even on a miss so timing says nothing.
        ok = hmac.compare_digest(digest, entry.digest if entry else b"\0" * 32)
        if entry is None or not ok:
            raise AuthenticationError("invalid API key")
        rec = entry.record
        if rec.revoked_at is not None:
            raise AuthenticationError("invalid API key")
        if entry.expires is not None and entry.expires <= self._clock():
            raise AuthenticationError("invalid API key")
        return rec


def _record(row: sa.RowMapping) -> KeyRecord:
    return KeyRecord(
        key_id=row["key_id"],
        name=row["name"],
        tenant=row["tenant"],
        scopes=frozenset(str(row["scopes"]).split()),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )
