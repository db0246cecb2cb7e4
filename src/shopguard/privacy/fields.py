"""Field-level encryption at rest with a data key per customer, and crypto-shredding.

Key hierarchy (three tiers, so every rotation touches as little as possible)::

    master KEK (core key ring)            rotated by KeyRing.rewrap: re-wraps a handful of keys
      -> wrapping key, purpose "privacy.subject-wrap"  rotated by FieldCipher.rewrap_subject_keys
           -> subject key per (tenant, customer, generation)   in ``privacy_subject_keys``
                -> AES-256-GCM field tokens                    in the store's tables

Subject keys live in their own table rather than as key-ring purposes: there is
one per customer (millions), they must be destroyable one by one, and neither the
key ring's id space (64 characters) nor its unbounded in-memory caches fit that.
Their ids are random, so a token or a log line never carries a customer id.

Every field token binds ``(table, column, tenant, row id)`` as associated data, so
a ciphertext copied into another row or column fails to open with the one opaque
:class:`~shopguard.core.errors.InvalidCiphertext`; a wrong key fails the same way
(GCM verifies the tag before anything is decrypted).

Crypto-shredding (:meth:`FieldCipher.shred`) deletes the wrapped bytes of every
key of a customer: each copy of that customer's fields, in the table, in a dump or
in a backup of the table, is unreadable from then on, while other customers are
untouched. A backup of ``privacy_subject_keys`` itself would still hold the key:
keep that table out of long-lived backups, or expire them within the erasure deadline.

Token layout: ``version(1) || generation(4, big endian) || crypto.seal token``.

References
----------
NIST SP 800-38D (GCM); NIST SP 800-57 part 1 section 8.3.4 (key destruction);
GDPR art. 17 (erasure).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine

from shopguard.core import crypto
from shopguard.core.db import is_postgres, metadata
from shopguard.core.errors import (
    DataValidationError,
    InvalidCiphertext,
    KeyRingError,
    NotFoundError,
)
from shopguard.core.keyring import KeyRing

__all__ = [
    "PERSONAL_COLUMNS",
    "WRAP_PURPOSE",
    "CustomerRecord",
    "EncryptedCustomers",
    "FieldCipher",
    "FieldRef",
    "SealedBytes",
    "SubjectKey",
    "customers",
    "subject_keys",
]

logger = logging.getLogger(__name__)

#: Key-ring purpose of the key that wraps subject keys.
WRAP_PURPOSE = "privacy.subject-wrap"
PERSONAL_COLUMNS = ("name", "email", "phone", "address", "date_of_birth", "card_number")

_VERSION = b"\x01"
_HEADER = 1 + 4
# The inner token's version byte (crypto.seal's format), which also starts its AAD.
_SEAL_VERSION = crypto.TOKEN_VERSION
# version(1) + nonce(12) + tag(16) of the inner crypto.seal token.
_MIN_TOKEN = _HEADER + 1 + 12 + 16
_ACTIVE, _RETIRED, _DESTROYED = "active", "retired", "destroyed"
_WRITE_ATTEMPTS = 50

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SealedBytes(sa.types.TypeDecorator[bytes]):
    """A ``LargeBinary`` column that only accepts field tokens, never plaintext.

    Binding a ``str`` or bytes that are not shaped like a token raises
    :class:`DataValidationError`: writing clear text into an encrypted column is
    a bug that must fail loudly, not a value to store.
    """

    impl = sa.LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        if not isinstance(value, bytes) or len(value) < _MIN_TOKEN or value[:1] != _VERSION:
            raise DataValidationError("an encrypted column takes a sealed field token")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else bytes(value)


subject_keys = sa.Table(
    "privacy_subject_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("customer_id", sa.String(64), nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("wrap_key_id", sa.String(64), nullable=True),
    sa.Column("wrapped", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("destroyed_at", sa.String(40), nullable=True),
    sa.UniqueConstraint(
        "tenant", "customer_id", "generation", name="uq_privacy_subject_keys_generation"
    ),
)

customers = sa.Table(
    "privacy_customers",
    metadata,
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("customer_id", sa.String(64), nullable=False),
    sa.Column("key_generation", sa.Integer, nullable=False),
    sa.Column("row_version", sa.Integer, nullable=False),
    *(sa.Column(name, SealedBytes, nullable=True) for name in PERSONAL_COLUMNS),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.PrimaryKeyConstraint("tenant", "customer_id", name="pk_privacy_customers"),
)


@dataclass(frozen=True, repr=False)
class SubjectKey:
    """One generation of a customer's data key. ``repr`` never shows the secret."""

    key_id: str
    tenant: str
    customer_id: str
    generation: int
    secret: bytes
    sealer: crypto.Sealer = field(init=False, compare=False)
    header: bytes = field(init=False, compare=False)

    def __post_init__(self) -> None:
        # One AES-GCM object per key, reused for every field it seals (hot path).
        object.__setattr__(self, "sealer", crypto.Sealer(self.secret))
        object.__setattr__(
            self, "header", _VERSION + self.generation.to_bytes(4, "big") + _SEAL_VERSION
        )

    def __repr__(self) -> str:
        return f"SubjectKey(key_id={self.key_id!r}, generation={self.generation})"


@dataclass(frozen=True)
class FieldRef:
    """Where a value lives; bound to its ciphertext as associated data."""

    table: str
    column: str
    row_id: str


_PREFIXES: dict[tuple[str, str, str], bytes] = {}


def _lp(part: str) -> bytes:
    raw = part.encode("utf-8")
    return len(raw).to_bytes(2, "big") + raw


def _context(tenant: str, ref: FieldRef) -> bytes:
    # Length-prefixed, so no choice of names can make two places share a context.
    # (table, column, tenant) repeat across rows: their encoding is cached.
    slot = (ref.table, ref.column, tenant)
    prefix = _PREFIXES.get(slot)
    if prefix is None:
        if len(_PREFIXES) >= 4096:
            _PREFIXES.clear()
        prefix = _PREFIXES[slot] = b"shopguard/privacy/field/v1" + b"".join(map(_lp, slot))
    return prefix + _lp(ref.row_id)


_AAD_PREFIXES: dict[tuple[str, str, str], bytes] = {}


def _aad(tenant: str, ref: FieldRef) -> bytes:
    """``crypto.TOKEN_VERSION || _context(tenant, ref)`` in one concatenation (hot path)."""
    slot = (ref.table, ref.column, tenant)
    prefix = _AAD_PREFIXES.get(slot)
    if prefix is None:
        if len(_AAD_PREFIXES) >= 4096:
            _AAD_PREFIXES.clear()
        prefix = _AAD_PREFIXES[slot] = (
            _SEAL_VERSION + _context(tenant, FieldRef(*slot[:2], ""))[:-2]
        )
    # A row's fields share its id: its encoding is cached too (bounded).
    suffix = _ROW_SUFFIXES.get(ref.row_id)
    if suffix is None:
        if len(_ROW_SUFFIXES) >= 65536:
            _ROW_SUFFIXES.clear()
        suffix = _ROW_SUFFIXES[ref.row_id] = _lp(ref.row_id)
    return prefix + suffix


_ROW_SUFFIXES: dict[str, bytes] = {}


def _wrap_aad(key_id: str, tenant: str, customer_id: str, generation: int) -> bytes:
    return _context(tenant, FieldRef("privacy_subject_keys", key_id, f"{customer_id}/{generation}"))


class FieldCipher:
    """Encrypt and decrypt personal fields under per-customer data keys.

    Parameters
    ----------
    engine:
        Where subject keys live (shared by every worker).
    keyring:
        The core key ring; its ``privacy.subject-wrap`` key wraps subject keys.
    cache_size:
        How many unwrapped subject keys to keep in memory (oldest unwrapped go first).
    cache_ttl:
        Seconds an unwrapped key may be used from memory. Bounds how long a
        :meth:`shred` done by *another* worker takes to reach this one.
    clock:
        Wall clock for timestamps.
    monotonic:
        Clock for cache expiry.

    Warnings
    --------
    A shred is immediate in the worker that does it and reaches other workers
    within ``cache_ttl`` seconds.
    """

    def __init__(
        self,
        engine: Engine,
        keyring: KeyRing,
        *,
        cache_size: int = 10_000,
        cache_ttl: float = 60.0,
        clock: Clock = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self._cache_size = cache_size
        self._cache_ttl = cache_ttl
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._keys: OrderedDict[tuple[str, str, int], tuple[SubjectKey, float]] = OrderedDict()
        self._active: dict[tuple[str, str], int] = {}

    # -- cache ------------------------------------------------------------------
    def _cached(self, tenant: str, customer_id: str, generation: int | None) -> SubjectKey | None:
        # Hot path, lock-free: single dict reads are atomic under the GIL, and a
        # stale read at worst sends the caller to the table. Entries leave in
        # insertion order (refreshed on each unwrap), not strict LRU.
        if generation is None:
            generation = self._active.get((tenant, customer_id))
            if generation is None:
                return None
        slot = (tenant, customer_id, generation)
        hit = self._keys.get(slot)
        if hit is None:
            return None
        if hit[1] <= self._monotonic():
            with self._lock:
                self._keys.pop(slot, None)
            return None
        return hit[0]

    def _remember(self, key: SubjectKey, *, active: bool) -> None:
        expires = self._monotonic() + self._cache_ttl
        with self._lock:
            self._keys[(key.tenant, key.customer_id, key.generation)] = (key, expires)
            self._keys.move_to_end((key.tenant, key.customer_id, key.generation))
            if active:
                self._active[(key.tenant, key.customer_id)] = key.generation
            while len(self._keys) > self._cache_size:
                (t, c, g), _ = self._keys.popitem(last=False)
                if self._active.get((t, c)) == g:
                    del self._active[(t, c)]

    def forget(self, tenant: str, customer_id: str) -> None:
        """Drop every cached key of a customer (next use reads the table)."""
        with self._lock:
            self._active.pop((tenant, customer_id), None)
            for slot in [s for s in self._keys if s[0] == tenant and s[1] == customer_id]:
                del self._keys[slot]

    # -- subject keys -------------------------------------------------------------
    def _unwrap(self, row: Any) -> SubjectKey:
        if row.wrapped is None or row.wrap_key_id is None:
            raise KeyRingError(f"subject key {row.key_id} is destroyed")
        wrapping = self._keyring.get(row.wrap_key_id)
        aad = _wrap_aad(row.key_id, row.tenant, row.customer_id, row.generation)
        try:
            secret = crypto.open_(wrapping.secret, bytes(row.wrapped), context=aad)
        except InvalidCiphertext:
            raise KeyRingError(f"subject key {row.key_id} failed to unwrap") from None
        return SubjectKey(row.key_id, row.tenant, row.customer_id, row.generation, secret)

    def key(self, tenant: str, customer_id: str, generation: int) -> SubjectKey:
        """Generation ``generation`` of a customer's key; :class:`KeyRingError` if destroyed."""
        cached = self._cached(tenant, customer_id, generation)
        if cached is not None:
            return cached
        k = subject_keys.c
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(subject_keys).where(
                    k.tenant == tenant, k.customer_id == customer_id, k.generation == generation
                )
            ).first()
        if row is None or row.state == _DESTROYED:
            raise KeyRingError("subject key is not available")
        key = self._unwrap(row)
        self._remember(key, active=row.state == _ACTIVE)
        return key

    def active_key(self, tenant: str, customer_id: str) -> SubjectKey:
        """The customer's active key, created on first use."""
        cached = self._cached(tenant, customer_id, None)
        if cached is not None:
            return cached
        for _ in range(5):
            row = self._active_row(tenant, customer_id)
            if row is not None:
                key = self._unwrap(row)
            else:
                made = self._create(tenant, customer_id, only_if_none=True)
                if made is None:
                    continue
                key = made
            self._remember(key, active=True)
            return key
        raise KeyRingError("could not create a subject key")

    def _active_row(self, tenant: str, customer_id: str) -> Any:
        k = subject_keys.c
        with self._engine.connect() as conn:
            return conn.execute(
                sa.select(subject_keys)
                .where(k.tenant == tenant, k.customer_id == customer_id, k.state == _ACTIVE)
                .order_by(k.generation.desc())
            ).first()

    def _create(self, tenant: str, customer_id: str, *, only_if_none: bool) -> SubjectKey | None:
        """Insert the next generation as active and retire the others; ``None`` if another won."""
        k = subject_keys.c
        wrapping = self._keyring.active(WRAP_PURPOSE)
        for _ in range(5):
            try:
                with self._engine.begin() as conn:
                    if (
                        only_if_none
                        and conn.execute(
                            sa.select(k.key_id).where(
                                k.tenant == tenant, k.customer_id == customer_id, k.state == _ACTIVE
                            )
                        ).first()
                    ):
                        return None
                    latest = conn.execute(
                        sa.select(sa.func.max(k.generation)).where(
                            k.tenant == tenant, k.customer_id == customer_id
                        )
                    ).scalar()
                    generation = int(latest or 0) + 1
                    key_id = f"sk_{os.urandom(12).hex()}"
                    secret = crypto.new_key()
                    conn.execute(
                        subject_keys.update()
                        .where(k.tenant == tenant, k.customer_id == customer_id, k.state == _ACTIVE)
                        .values(state=_RETIRED)
                    )
                    conn.execute(
                        subject_keys.insert().values(
                            key_id=key_id,
                            tenant=tenant,
                            customer_id=customer_id,
                            generation=generation,
                            state=_ACTIVE,
                            wrap_key_id=wrapping.key_id,
                            wrapped=crypto.seal(
                                wrapping.secret,
                                secret,
                                context=_wrap_aad(key_id, tenant, customer_id, generation),
                            ),
                            created_at=self._clock().isoformat(),
                        )
                    )
            except sa.exc.IntegrityError:
                # Another worker made this generation at the same moment.
                if only_if_none:
                    return None
                continue
            return SubjectKey(key_id, tenant, customer_id, generation, secret)
        raise KeyRingError("could not create a subject key")

    def provision(self, tenant: str, customer_ids: Iterable[str]) -> dict[str, SubjectKey]:
        """Active keys of many customers at once, creating the missing ones in one transaction.

        For bulk imports: one commit instead of one per customer. A customer that
        already has keys (of any state) keeps them and gets its active key as usual.
        """
        wanted = list(dict.fromkeys(customer_ids))
        k = subject_keys.c
        known: set[str] = set()
        with self._engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                known.update(
                    conn.execute(
                        sa.select(k.customer_id)
                        .where(k.tenant == tenant, k.customer_id.in_(wanted[i : i + 500]))
                        .distinct()
                    ).scalars()
                )
        wrapping = self._keyring.active(WRAP_PURPOSE)
        now = self._clock().isoformat()
        made: dict[str, SubjectKey] = {}
        rows = []
        for cid in wanted:
            if cid in known:
                continue
            key_id = f"sk_{os.urandom(12).hex()}"
            secret = crypto.new_key()
            rows.append(
                {
                    "key_id": key_id,
                    "tenant": tenant,
                    "customer_id": cid,
                    "generation": 1,
                    "state": _ACTIVE,
                    "wrap_key_id": wrapping.key_id,
                    "wrapped": crypto.seal(
                        wrapping.secret, secret, context=_wrap_aad(key_id, tenant, cid, 1)
                    ),
                    "created_at": now,
                }
            )
            made[cid] = SubjectKey(key_id, tenant, cid, 1, secret)
        if rows:
            try:
                with self._engine.begin() as conn:
                    for i in range(0, len(rows), 1000):
                        conn.execute(subject_keys.insert(), rows[i : i + 1000])
            except sa.exc.IntegrityError:
                # A concurrent writer created some of them: fall back to one by one.
                made = {}
        out: dict[str, SubjectKey] = {}
        for cid in wanted:
            key = made.get(cid)
            if key is not None:
                self._remember(key, active=True)
                out[cid] = key
            else:
                out[cid] = self.active_key(tenant, cid)
        return out

    def rotate_subject_key(self, tenant: str, customer_id: str) -> SubjectKey:
        """Make a new active key for a customer; older generations become retired (still readable)."""
        key = self._create(tenant, customer_id, only_if_none=False)
        if key is None:  # pragma: no cover - only_if_none=False never yields None
            raise KeyRingError("could not create a subject key")
        self.forget(tenant, customer_id)
        self._remember(key, active=True)
        return key

    def shred(self, tenant: str, customer_id: str) -> int:
        """Destroy every key of a customer: the wrapped bytes are deleted. Returns how many.

        Warnings
        --------
        Irreversible. Every field encrypted for this customer, wherever a copy of
        it is kept, can never be decrypted again.
        """
        k = subject_keys.c
        with self._engine.begin() as conn:
            done = conn.execute(
                subject_keys.update()
                .where(k.tenant == tenant, k.customer_id == customer_id, k.state != _DESTROYED)
                .values(
                    state=_DESTROYED,
                    wrapped=None,
                    wrap_key_id=None,
                    destroyed_at=self._clock().isoformat(),
                )
            ).rowcount
        self.forget(tenant, customer_id)
        logger.info("shredded %d subject key(s)", done)
        return int(done)

    def destroy_retired(self, tenant: str, customer_id: str, *, referenced_by: sa.Table) -> int:
        """Destroy retired generations no row of ``referenced_by`` still uses.

        ``referenced_by`` needs ``tenant``, ``customer_id`` and ``key_generation``
        columns. The check and the destruction are one statement (after a row lock
        on PostgreSQL), so a concurrent write can never be left under a destroyed key.
        """
        k = subject_keys.c
        r = referenced_by.c
        in_use = sa.exists().where(
            r.tenant == k.tenant, r.customer_id == k.customer_id, r.key_generation == k.generation
        )
        mine = (k.tenant == tenant, k.customer_id == customer_id, k.state == _RETIRED)
        with self._engine.begin() as conn:
            if is_postgres(self._engine):
                # Waits for writers holding FOR SHARE; the UPDATE below then sees their rows.
                conn.execute(sa.select(k.key_id).where(*mine).with_for_update())
            done = conn.execute(
                subject_keys.update()
                .where(*mine, ~in_use)
                .values(
                    state=_DESTROYED,
                    wrapped=None,
                    wrap_key_id=None,
                    destroyed_at=self._clock().isoformat(),
                )
            ).rowcount
        self.forget(tenant, customer_id)
        return int(done)

    def rewrap_subject_keys(self, *, batch_size: int = 500, rotate: bool = True) -> int:
        """Re-wrap every live subject key under a new wrapping key, online, in batches.

        Each batch is one transaction and each row is swapped only if it still
        has the wrapping it was read with, so concurrent creation, shredding and
        reading go on. A crash part-way leaves rows under the old or the new
        wrapping key, both readable; call again with ``rotate=False`` to finish.
        Returns how many keys were re-wrapped.
        """
        new = self._keyring.rotate(WRAP_PURPOSE) if rotate else self._keyring.active(WRAP_PURPOSE)
        k = subject_keys.c
        total = 0
        while True:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    sa.select(subject_keys)
                    .where(k.wrapped.is_not(None), k.wrap_key_id != new.key_id)
                    .order_by(k.key_id)
                    .limit(batch_size)
                ).all()
            if not rows:
                return total
            with self._engine.begin() as conn:
                for row in rows:
                    key = self._unwrap(row)
                    aad = _wrap_aad(row.key_id, row.tenant, row.customer_id, row.generation)
                    total += conn.execute(
                        subject_keys.update()
                        .where(k.key_id == row.key_id, k.wrap_key_id == row.wrap_key_id)
                        .values(
                            wrap_key_id=new.key_id,
                            wrapped=crypto.seal(new.secret, key.secret, context=aad),
                        )
                    ).rowcount

    # -- fields ------------------------------------------------------------------
    def encrypt_with(self, key: SubjectKey, ref: FieldRef, plaintext: bytes) -> bytes:
        """Seal ``plaintext`` under ``key``, bound to ``ref`` and the key's tenant."""
        # One copy of the token: the field header and the inner seal's version byte
        # are written together (same bytes as header + crypto.seal token).
        return key.sealer.seal_framed(key.header, plaintext, aad=_aad(key.tenant, ref))

    def encrypt(self, tenant: str, customer_id: str, ref: FieldRef, plaintext: bytes) -> bytes:
        """Seal a field of a customer under their active key (created on first use)."""
        key = self._cached(tenant, customer_id, None) or self.active_key(tenant, customer_id)
        return key.sealer.seal_framed(key.header, plaintext, aad=_aad(tenant, ref))

    @staticmethod
    def generation_of(token: bytes) -> int:
        """The key generation a token was made under; :class:`InvalidCiphertext` if malformed."""
        if len(token) < _MIN_TOKEN or token[:1] != _VERSION:
            raise InvalidCiphertext()
        return int.from_bytes(token[1:_HEADER], "big")

    @staticmethod
    def decrypt_with(key: SubjectKey, ref: FieldRef, token: bytes) -> bytes:
        """Open a token under a given key; any failure is :class:`InvalidCiphertext`."""
        if token[: _HEADER + 1] != key.header:
            raise InvalidCiphertext()
        return key.sealer.open_framed(token, _HEADER + 1, aad=_aad(key.tenant, ref))

    def decrypt(self, tenant: str, customer_id: str, ref: FieldRef, token: bytes) -> bytes:
        """Open a field token; any failure (wrong place, wrong or destroyed key) is :class:`InvalidCiphertext`."""
        if len(token) < _MIN_TOKEN or token[:1] != _VERSION:
            raise InvalidCiphertext()
        generation = int.from_bytes(token[1:_HEADER], "big")
        key = self._cached(tenant, customer_id, generation)
        if key is None:
            try:
                key = self.key(tenant, customer_id, generation)
            except KeyRingError:
                raise InvalidCiphertext() from None
        if token[: _HEADER + 1] != key.header:
            raise InvalidCiphertext()
        return key.sealer.open_framed(token, _HEADER + 1, aad=_aad(tenant, ref))


@dataclass(frozen=True, repr=False)
class CustomerRecord:
    """A customer's personal data in clear. ``repr`` shows only identifiers."""

    tenant: str
    customer_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    date_of_birth: str | None = None
    card_number: str | None = None

    def __repr__(self) -> str:
        return f"CustomerRecord(tenant={self.tenant!r}, customer_id={self.customer_id!r})"

    def personal(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in PERSONAL_COLUMNS}


class EncryptedCustomers:
    """The ``privacy_customers`` table: every personal column sealed under the customer's key.

    Parameters
    ----------
    engine:
        The database.
    cipher:
        The :class:`FieldCipher` holding the subject keys.
    clock:
        Wall clock for ``updated_at``.
    """

    table = customers

    def __init__(self, engine: Engine, cipher: FieldCipher, *, clock: Clock = _utcnow) -> None:
        self._engine = engine
        self._cipher = cipher
        self._clock = clock

    @staticmethod
    def _ref(customer_id: str, column: str) -> FieldRef:
        return FieldRef(customers.name, column, customer_id)

    def _seal_all(self, key: SubjectKey, values: dict[str, str | None]) -> dict[str, bytes | None]:
        return {
            col: None
            if value is None
            else self._cipher.encrypt_with(key, self._ref(key.customer_id, col), value.encode())
            for col, value in values.items()
        }

    def _guarded_write(
        self,
        conn: Connection,
        tenant: str,
        customer_id: str,
        values: dict[str, str | None],
        *,
        expect_version: int | None,
    ) -> bool:
        """Seal ``values`` under the active key and upsert, only while that key is active.

        Returns ``False`` when the key changed under us (the caller goes again).
        """
        k = subject_keys.c
        c = customers.c
        if is_postgres(self._engine):
            # SECURITY: a share lock on the active key row makes rotate / destroy wait
            # for this transaction, so no row is ever left under a destroyed key.
            generation = conn.execute(
                sa.select(k.generation)
                .where(k.tenant == tenant, k.customer_id == customer_id, k.state == _ACTIVE)
                .with_for_update(read=True)
            ).scalar()
            if generation is None:
                return False
            key = self._cipher.key(tenant, customer_id, int(generation))
        else:
            # SQLite serialises writers: the guarded statement below is the check.
            key = self._cipher.active_key(tenant, customer_id)
        sealed = self._seal_all(key, values)
        active = sa.exists().where(k.key_id == key.key_id, k.state == _ACTIVE)
        now = self._clock().isoformat()
        where = [c.tenant == tenant, c.customer_id == customer_id, active]
        if expect_version is not None:
            where.append(c.row_version == expect_version)
        updated = conn.execute(
            customers.update()
            .where(*where)
            .values(
                key_generation=key.generation,
                row_version=c.row_version + 1,
                updated_at=now,
                **sealed,
            )
        ).rowcount
        if updated > 0 or expect_version is not None:
            return updated > 0
        row: dict[str, Any] = {
            "tenant": tenant,
            "customer_id": customer_id,
            "key_generation": key.generation,
            "row_version": 1,
            "updated_at": now,
            **sealed,
        }
        names = list(row)
        select = sa.select(
            *(sa.literal(row[n], type_=customers.c[n].type).label(n) for n in names)
        ).where(active)
        # Not rowcount: psycopg reports -1 for INSERT ... SELECT, which reads as success.
        inserted = conn.execute(
            customers.insert().from_select(names, select).returning(customers.c.row_version)
        ).first()
        return inserted is not None

    def write(self, record: CustomerRecord) -> None:
        """Store (insert or replace) a customer's personal data, sealed field by field.

        Raises
        ------
        KeyRingError
            The customer's key kept changing for the whole retry budget (a rotation
            storm); nothing was written.
        """
        for attempt in range(_WRITE_ATTEMPTS):
            if attempt:
                self._cipher.forget(record.tenant, record.customer_id)
                time.sleep(min(0.001 * attempt, 0.02))
            # Creates the key on first use; a cache hit otherwise.
            self._cipher.active_key(record.tenant, record.customer_id)
            try:
                with self._engine.begin() as conn:
                    if self._guarded_write(
                        conn,
                        record.tenant,
                        record.customer_id,
                        record.personal(),
                        expect_version=None,
                    ):
                        return
            except sa.exc.IntegrityError:
                pass  # a concurrent first insert of this customer; go again as an update
        raise KeyRingError("customer record not written: its key kept changing")

    def write_many(self, records: Iterable[CustomerRecord]) -> int:
        """Insert many new customers in one transaction (bulk import); returns how many.

        Customers already in the table are written one by one with :meth:`write`.
        """
        recs = list(records)
        by_tenant: dict[str, list[CustomerRecord]] = {}
        for r in recs:
            by_tenant.setdefault(r.tenant, []).append(r)
        c = customers.c
        now = self._clock().isoformat()
        for tenant, group in by_tenant.items():
            ids = [r.customer_id for r in group]
            present: set[str] = set()
            with self._engine.connect() as conn:
                for i in range(0, len(ids), 500):
                    present.update(
                        conn.execute(
                            sa.select(c.customer_id).where(
                                c.tenant == tenant, c.customer_id.in_(ids[i : i + 500])
                            )
                        ).scalars()
                    )
            keys = self._cipher.provision(tenant, [i for i in ids if i not in present])
            rows = []
            for r in group:
                if r.customer_id in present:
                    self.write(r)
                    continue
                key = keys[r.customer_id]
                rows.append(
                    {
                        "tenant": tenant,
                        "customer_id": r.customer_id,
                        "key_generation": key.generation,
                        "row_version": 1,
                        "updated_at": now,
                        **self._seal_all(key, r.personal()),
                    }
                )
            with self._engine.begin() as conn:
                for i in range(0, len(rows), 1000):
                    conn.execute(customers.insert(), rows[i : i + 1000])
        return len(recs)

    def delete(self, tenant: str, customer_id: str) -> bool:
        """Remove a customer's row (erasure); returns whether there was one."""
        c = customers.c
        with self._engine.begin() as conn:
            n = conn.execute(
                customers.delete().where(c.tenant == tenant, c.customer_id == customer_id)
            ).rowcount
        return bool(n)

    def _row(self, tenant: str, customer_id: str) -> Any:
        c = customers.c
        with self._engine.connect() as conn:
            return conn.execute(
                sa.select(customers).where(c.tenant == tenant, c.customer_id == customer_id)
            ).first()

    def _open_row(self, row: Any) -> CustomerRecord:
        values: dict[str, str | None] = {}
        key: SubjectKey | None = None
        for col in PERSONAL_COLUMNS:
            token = row._mapping[col]
            if token is None:
                values[col] = None
                continue
            if key is None:
                # One key lookup per row; every field must be under the row's generation.
                try:
                    key = self._cipher.key(row.tenant, row.customer_id, int(row.key_generation))
                except KeyRingError:
                    raise InvalidCiphertext() from None
            plain = self._cipher.decrypt_with(key, self._ref(row.customer_id, col), token)
            values[col] = plain.decode("utf-8")
        return CustomerRecord(row.tenant, row.customer_id, **values)

    def read(self, tenant: str, customer_id: str) -> CustomerRecord:
        """A customer's personal data in clear.

        Raises
        ------
        NotFoundError
            No such customer.
        InvalidCiphertext
            A field does not open: tampered, moved, or the customer was shredded.
        """
        last: InvalidCiphertext | None = None
        seen: int | None = None
        for _ in range(3):
            row = self._row(tenant, customer_id)
            if row is None:
                raise NotFoundError("customer not found")
            if seen is not None and row.row_version == seen:
                break
            try:
                return self._open_row(row)
            except InvalidCiphertext as exc:
                # A rotation may have re-encrypted the row and destroyed the old key
                # between our read and the key lookup: read the row again.
                last, seen = exc, row.row_version
        raise last or InvalidCiphertext()

    def read_rows(self, rows: Iterable[Any]) -> list[CustomerRecord]:
        """Open rows copied out of the table (a dump or a backup): same checks as :meth:`read`."""
        return [self._open_row(row) for row in rows]

    def rotate_key(self, tenant: str, customer_id: str) -> SubjectKey:
        """Rotate a customer's key and re-encrypt their record online; old keys are destroyed.

        Concurrent writers and readers keep working: writers only write under the
        active key, the re-encryption swaps the row only if it is unchanged, and an
        old key is destroyed only when no row uses it (checked atomically).
        """
        new = self._cipher.rotate_subject_key(tenant, customer_id)
        for _ in range(20):
            row = self._row(tenant, customer_id)
            key = self._cipher.active_key(tenant, customer_id)
            if row is not None and row.key_generation != key.generation:
                record = self._open_row(row)
                with self._engine.begin() as conn:
                    self._guarded_write(
                        conn, tenant, customer_id, record.personal(), expect_version=row.row_version
                    )
                continue
            self._cipher.destroy_retired(tenant, customer_id, referenced_by=customers)
            if not self._retired_left(tenant, customer_id):
                return new
        raise KeyRingError("customer key rotation did not settle")

    def _retired_left(self, tenant: str, customer_id: str) -> bool:
        k = subject_keys.c
        with self._engine.connect() as conn:
            return (
                conn.execute(
                    sa.select(k.key_id).where(
                        k.tenant == tenant, k.customer_id == customer_id, k.state == _RETIRED
                    )
                ).first()
                is not None
            )
