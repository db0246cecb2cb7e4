"""The key ring: a key-encryption key (KEK) wrapping per-purpose data keys.

The KEK comes from ``SHOPGUARD_MASTER_KEY`` or from ``<home>/master.key``
(mode 0600, refused if group- or world-readable). Data keys are random, stored
in the ``keyring_keys`` table wrapped (AES-GCM) by the KEK with the key id and
purpose bound as associated data, and versioned per purpose: rotation makes a
new active version and keeps the old ones for reading. Rotating the KEK
re-wraps every data key in one transaction; a crash part-way leaves either the
old or the new wrapping, both of which load (``master.key.new`` is tried too).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core import crypto
from shopguard.core.errors import ConfigError, InvalidCiphertext, KeyRingError
from shopguard.core.settings import Settings
from shopguard.core.tables import keyring_keys

__all__ = ["DataKey", "KeyRing", "create_master_key_file", "kek_id", "load_keks"]

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, repr=False)
class DataKey:
    """A data key. ``repr`` never shows the secret."""

    key_id: str
    purpose: str
    version: int
    secret: bytes

    def __repr__(self) -> str:
        return f"DataKey(key_id={self.key_id!r}, purpose={self.purpose!r}, version={self.version})"


def kek_id(kek: bytes) -> str:
    """A public identifier of a KEK (a keyed digest; reveals nothing about it)."""
    return crypto.mac(kek, b"shopguard/kek-id").hex()[:16]


def _decode_key(text: str, *, source: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ConfigError(f"{source} is not urlsafe base64") from None
    if len(raw) != crypto.KEY_BYTES:
        raise ConfigError(f"{source} must decode to {crypto.KEY_BYTES} bytes")
    return raw


def _read_key_file(path: Path) -> bytes:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"key file {path} is missing; run 'shopguard init'") from None
    except OSError:
        raise ConfigError(f"key file {path} cannot be read") from None
    if os.name == "posix" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"key file {path} is readable by group or others; chmod 600 it")
    try:
        text = path.read_text("ascii")
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"key file {path} cannot be read") from None
    return _decode_key(text, source=f"key file {path}")


def create_master_key_file(path: Path) -> None:
    """Write a fresh KEK to ``path`` with mode 0600 (atomically; never overwrites)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = base64.urlsafe_b64encode(crypto.new_key()).decode("ascii")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def load_keks(settings: Settings) -> list[bytes]:
    """The KEKs to try, current first (``master.key.new`` from an interrupted rotation last)."""
    if settings.master_key is not None:
        return [_decode_key(settings.master_key.get_secret_value(), source="SHOPGUARD_MASTER_KEY")]
    keks = [_read_key_file(settings.master_key_path)]
    pending = settings.master_key_path.with_suffix(".key.new")
    if pending.exists():
        keks.append(_read_key_file(pending))
    return keks


class KeyRing:
    """Versioned data keys per purpose, wrapped by the KEK.

    Parameters
    ----------
    engine:
        Where wrapped keys live (shared by every worker).
    keks:
        Key-encryption keys; the first wraps new keys, all are tried for unwrapping.
    clock:
        Injectable clock.
    """

    def __init__(self, engine: Engine, keks: list[bytes], *, clock: Clock = _utcnow) -> None:
        if not keks:
            raise KeyRingError("no key-encryption key")
        self._engine = engine
        self._keks = {kek_id(k): k for k in keks}
        self._primary = keks[0]
        self._clock = clock
        self._lock = threading.Lock()
        self._by_id: dict[str, DataKey] = {}
        self._active: dict[str, DataKey] = {}
        self._first_cache: dict[str, DataKey] = {}

    @classmethod
    def open(cls, engine: Engine, settings: Settings) -> KeyRing:
        return cls(engine, load_keks(settings))

    # -- wrapping ---------------------------------------------------------------
    @staticmethod
    def _aad(key_id: str, purpose: str) -> bytes:
        return f"shopguard/keyring/{purpose}/{key_id}".encode()

    def _unwrap(self, row: sa.Row[tuple[str, str, int, str, str, bytes]]) -> DataKey:
        kek = self._keks.get(row.kek_id)
        if kek is None:
            raise KeyRingError(f"data key {row.key_id} is wrapped by an unknown master key")
        try:
            secret = crypto.open_(
                kek, bytes(row.wrapped), context=self._aad(row.key_id, row.purpose)
            )
        except InvalidCiphertext:
            raise KeyRingError(f"data key {row.key_id} failed to unwrap") from None
        return DataKey(row.key_id, row.purpose, row.version, secret)

    def _select(self) -> sa.Select[tuple[str, str, int, str, str, bytes]]:
        k = keyring_keys.c
        return sa.select(k.key_id, k.purpose, k.version, k.state, k.kek_id, k.wrapped)

    # -- reading ----------------------------------------------------------------
    def get(self, key_id: str) -> DataKey:
        """The data key ``key_id`` (any state but destroyed)."""
        with self._lock:
            cached = self._by_id.get(key_id)
        if cached is not None:
            return cached
        with self._engine.connect() as conn:
            row = conn.execute(self._select().where(keyring_keys.c.key_id == key_id)).first()
        if row is None or row.state == "destroyed":
            raise KeyRingError(f"data key {key_id} is not in the key ring")
        key = self._unwrap(row)
        with self._lock:
            self._by_id[key_id] = key
        return key

    def active(self, purpose: str) -> DataKey:
        """The active data key for ``purpose``, created on first use."""
        with self._lock:
            cached = self._active.get(purpose)
        if cached is not None:
            return cached
        with self._engine.connect() as conn:
            row = conn.execute(
                self._select()
                .where(keyring_keys.c.purpose == purpose, keyring_keys.c.state == "active")
                .order_by(keyring_keys.c.version.desc())
            ).first()
        key = self._unwrap(row) if row is not None else self._create(purpose)
        with self._lock:
            self._active[purpose] = key
            self._by_id[key.key_id] = key
        return key

    def _create(self, purpose: str) -> DataKey:
        for _ in range(5):
            with self._engine.begin() as conn:
                latest = conn.execute(
                    sa.select(sa.func.max(keyring_keys.c.version)).where(
                        keyring_keys.c.purpose == purpose
                    )
                ).scalar()
                version = int(latest or 0) + 1
                key_id = f"{purpose}.v{version}.{os.urandom(4).hex()}"
                secret = crypto.new_key()
                try:
                    conn.execute(
                        keyring_keys.update()
                        .where(keyring_keys.c.purpose == purpose, keyring_keys.c.state == "active")
                        .values(state="retired")
                    )
                    conn.execute(
                        keyring_keys.insert().values(
                            key_id=key_id,
                            purpose=purpose,
                            version=version,
                            state="active",
                            kek_id=kek_id(self._primary),
                            wrapped=crypto.seal(
                                self._primary, secret, context=self._aad(key_id, purpose)
                            ),
                            created_at=self._clock().isoformat(),
                        )
                    )
                except sa.exc.IntegrityError:
                    # Another worker made this version at the same moment: use theirs.
                    continue
            return DataKey(key_id, purpose, version, secret)
        raise KeyRingError(f"could not create a data key for purpose {purpose}")

    def rotate(self, purpose: str) -> DataKey:
        """Make a new active key for ``purpose``; older versions stay readable."""
        key = self._create(purpose)
        with self._lock:
            self._active[purpose] = key
            self._by_id[key.key_id] = key
        return key

    def purposes(self) -> list[tuple[str, int, str, str]]:
        """``(purpose, version, state, key_id)`` for every key (no secrets)."""
        k = keyring_keys.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(k.purpose, k.version, k.state, k.key_id).order_by(k.purpose, k.version)
            ).all()
        return [(r.purpose, r.version, r.state, r.key_id) for r in rows]

    def rewrap(self, new_kek: bytes) -> int:
        """Re-wrap every data key under ``new_kek`` in one transaction; returns how many."""
        with self._engine.begin() as conn:
            rows = conn.execute(self._select()).all()
            for row in rows:
                key = self._unwrap(row)
                conn.execute(
                    keyring_keys.update()
                    .where(keyring_keys.c.key_id == row.key_id)
                    .values(
                        kek_id=kek_id(new_kek),
                        wrapped=crypto.seal(
                            new_kek, key.secret, context=self._aad(key.key_id, key.purpose)
                        ),
                    )
                )
        self._keks[kek_id(new_kek)] = new_kek
        self._primary = new_kek
        return len(rows)

    # -- recipes bound to purposes -----------------------------------------------
    def seal(self, purpose: str, plaintext: bytes, *, context: bytes) -> bytes:
        """Encrypt under the active key of ``purpose``; the key id travels in the token."""
        key = self.active(purpose)
        kid = key.key_id.encode()
        return (
            len(kid).to_bytes(1, "big") + kid + crypto.seal(key.secret, plaintext, context=context)
        )

    def open_(self, token: bytes, *, context: bytes) -> bytes:
        """Decrypt a token from :meth:`seal` with whichever key version made it."""
        if not token:
            raise InvalidCiphertext()
        n = token[0]
        try:
            kid = token[1 : 1 + n].decode("ascii")
        except UnicodeDecodeError:
            raise InvalidCiphertext() from None
        try:
            key = self.get(kid)
        except KeyRingError:
            raise InvalidCiphertext() from None
        return crypto.open_(key.secret, token[1 + n :], context=context)

    def mac(self, purpose: str, data: bytes) -> tuple[str, bytes]:
        """``(key_id, tag)``: HMAC of ``data`` under the active key of ``purpose``."""
        key = self.active(purpose)
        return key.key_id, crypto.mac(key.secret, data)

    def verify_mac(self, key_id: str, data: bytes, tag: bytes) -> None:
        """Raise :class:`InvalidCiphertext` unless ``tag`` is right (unknown key id included)."""
        try:
            key = self.get(key_id)
        except KeyRingError:
            raise InvalidCiphertext("MAC key unknown") from None
        crypto.verify_mac(key.secret, data, tag)

    def pseudonym(self, purpose: str, value: str) -> str:
        """A stable keyed pseudonym of ``value`` for ``purpose`` (joins still work).

        Uses the *first* version of the purpose's key so pseudonyms survive rotation.
        """
        return crypto.keyed_digest(self.first(purpose).secret, value)

    def has(self, purpose: str) -> bool:
        """Whether ``purpose`` has a key yet (never creates one: for checks before first use)."""
        with self._lock:
            if purpose in self._active or purpose in self._first_cache:
                return True
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(keyring_keys.c.key_id).where(keyring_keys.c.purpose == purpose).limit(1)
            ).first()
        return row is not None

    def first(self, purpose: str) -> DataKey:
        """The first version of ``purpose``'s key (created on first use).

        For keyed values that must stay stable across rotation (pseudonyms, tokens).
        """
        with self._lock:
            first = self._first_cache.get(purpose)
        if first is None:
            first = self._first(purpose)
            with self._lock:
                self._first_cache[purpose] = first
        return first

    def _first(self, purpose: str) -> DataKey:
        self.active(purpose)
        with self._engine.connect() as conn:
            kid = conn.execute(
                sa.select(keyring_keys.c.key_id)
                .where(keyring_keys.c.purpose == purpose)
                .order_by(keyring_keys.c.version)
            ).scalar()
        if kid is None:  # pragma: no cover - active() just created one
            raise KeyRingError(f"no key for purpose {purpose}")
        return self.get(str(kid))


def digest_bytes(data: bytes) -> str:
    """Unkeyed SHA-256 hex digest (for content hashes, never for personal data)."""
    return hashlib.sha256(data).hexdigest()
