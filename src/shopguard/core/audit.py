"""The tamper-evident audit log.

Append-only and hash-chained: every entry carries the SHA-256 of the previous
entry and an HMAC (key ring purpose ``audit``) over its own hash. A separate
one-row *head* (the last sequence number and hash, also MAC'd) makes deleting
entries from the end detectable. :meth:`AuditLog.verify` walks the chain and
names the first entry that was edited, deleted, inserted or reordered.

Appends are group-committed: concurrent callers hand their entries to one
writer thread that commits them in one transaction and then releases every
caller. :meth:`AuditLog.append` returns only once its entry is durable, so a
decision is never acted on before it is recorded; a failed commit raises
:class:`~shopguard.core.errors.AuditSinkError` to every caller in the batch
(fail closed).

Personal data never enters the log in clear: string fields are scrubbed of
e-mail addresses, card numbers and IP addresses, which are replaced by keyed
pseudonyms.

Cost per entry matters (the gateway appends one per request, in the same
process): the scrubbing regexes run only on strings that could match them
(``@``; 13 digits; three dots), pseudonyms of repeated values come from a
bounded cache, and async callers are woken once per committed batch rather
than once per entry.

References
----------
Schneier & Kelsey, "Secure audit logs to support computer forensics", ACM TISSEC 1999.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.audit_spool import AuditSpool
from shopguard.core.db import is_postgres
from shopguard.core.errors import AuditSinkError, InvalidCiphertext
from shopguard.core.keyring import KeyRing
from shopguard.core.tables import audit_head, audit_log

if TYPE_CHECKING:
    from shopguard.core.audit_proc import ProcessAuditWriter

__all__ = ["AuditEvent", "AuditLog", "AuditRecord", "VerifyReport", "scrub_personal_data"]

logger = logging.getLogger(__name__)

SCHEMA = 1
GENESIS = "0" * 64
_PURPOSE = "audit"
_PSEUDONYM_PURPOSE = "audit.pseudonym"
_HEAD_ID = 1
#: Most pseudonyms :meth:`AuditLog.pseudonym` keeps cached.
PSEUDONYM_CACHE = 4096

Clock = Callable[[], datetime]

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


#: Digits become ``0``, everything else ``x``; spaces and dashes are deleted (see below).
_DIGITS_ONLY = bytes(48 if 48 <= b <= 57 else 120 for b in range(256))


def _may_hold_card(text: str) -> bool:
    # A card match is 13-19 digits with at most one space or dash between two of
    # them: with spaces and dashes deleted it is a run of 13 digits. For ASCII
    # text look for such a run in C; other text may hold non-ASCII digits, which
    # ``\d`` matches: let the regex decide.
    if not text.isascii():
        return True
    return b"0000000000000" in text.encode().translate(_DIGITS_ONLY, b" -")


def scrub_personal_data(text: str, pseudonym: Callable[[str], str]) -> str:
    """Replace e-mails, Luhn-valid card numbers and IPv4 addresses with ``pii:<pseudonym>``."""

    def card(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return f"pii:{pseudonym(digits)}" if _luhn_ok(digits) else m.group(0)

    # Each regex runs only where it could match (same result, a fraction of the cost).
    if "@" in text:
        text = _EMAIL.sub(lambda m: f"pii:{pseudonym(m.group(0).lower())}", text)
    if _may_hold_card(text):
        text = _CARD.sub(card, text)
    if text.count(".") >= 3:
        text = _IPV4.sub(lambda m: f"pii:{pseudonym(m.group(0))}", text)
    return text


@dataclass(frozen=True)
class AuditEvent:
    """One decision to record. ``principal`` is a key *id*, never a secret.

    ``request_id`` must be an opaque id minted by shopguard (it is stored as given);
    every other string field is scrubbed of personal data.
    """

    action: str
    decision: str
    principal: str | None = None
    target: str | None = None
    request_id: str | None = None
    findings: Sequence[str] = ()
    input_digest: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditRecord:
    """An entry as stored."""

    seq: int
    event_id: str
    at: str
    request_id: str | None
    principal: str | None
    action: str
    target: str | None
    decision: str
    findings: tuple[str, ...]
    input_digest: str | None
    details: dict[str, Any]
    prev_hash: str
    entry_hash: str
    mac: str
    mac_key_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "seq": self.seq,
            "event_id": self.event_id,
            "at": self.at,
            "request_id": self.request_id,
            "principal": self.principal,
            "action": self.action,
            "target": self.target,
            "decision": self.decision,
            "findings": list(self.findings),
            "input_digest": self.input_digest,
            "details": self.details,
            "prev_hash": self.prev_hash,
            "entry_hash": self.entry_hash,
            "mac": self.mac,
            "mac_key_id": self.mac_key_id,
        }


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of :meth:`AuditLog.verify`. ``ok`` is False with ``first_bad_seq`` and ``reason``."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str | None = None


# Built once: ``json.dumps`` with options builds a new encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_DETAILS = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
_COMPACT = json.JSONEncoder(separators=(",", ":"))
_ORJSON_DETAILS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def _details_json(details: Mapping[str, Any]) -> str:
    """``details`` as sorted, compact JSON (values it cannot encode become strings)."""
    try:
        return orjson.dumps(details, default=str, option=_ORJSON_DETAILS).decode()
    except (TypeError, orjson.JSONEncodeError):  # e.g. a lone surrogate, an int over 64 bits
        return _DETAILS.encode(dict(details))


# The string encoder ``_CANONICAL`` itself uses (the C one where available).
_quote: Callable[[str], str] = json.encoder.encode_basestring


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return _CANONICAL.encode(fields).encode()


def _entry_hash(
    *,
    seq: int,
    event_id: str,
    at: str,
    request_id: str | None,
    principal: str | None,
    action: str,
    target: str | None,
    decision: str,
    findings: str,
    input_digest: str | None,
    details: str,
    prev_hash: str,
) -> str:
    return hashlib.sha256(
        _canonical(
            {
                "schema": SCHEMA,
                "seq": seq,
                "event_id": event_id,
                "at": at,
                "request_id": request_id,
                "principal": principal,
                "action": action,
                "target": target,
                "decision": decision,
                "findings": findings,
                "input_digest": input_digest,
                "details": details,
                "prev_hash": prev_hash,
            }
        )
    ).hexdigest()


def _q(value: str | None) -> str:
    return "null" if value is None else _quote(value)


# The canonical form of an entry with its keys in sorted order, filled in by
# ``%``: byte for byte what ``_canonical`` makes of the same fields (a test
# checks it on arbitrary text), at a fraction of the cost of sorting a dict.
_CANONICAL_TEMPLATE = (
    '{"action":%s,"at":%s,"decision":%s,"details":%s,"event_id":%s,"findings":%s,'
    '"input_digest":%s,"prev_hash":%s,"principal":%s,"request_id":%s,"schema":'
    + str(SCHEMA)
    + ',"seq":%d,"target":%s}'
)


def _fast_entry_hash(seq: int, prev_hash: str, quoted: tuple[str, ...]) -> str:
    """:func:`_entry_hash` of an entry whose fields are already quoted (quoted as in ``_write``)."""
    (
        action,
        at,
        decision,
        details,
        event_id,
        findings,
        input_digest,
        principal,
        request_id,
        target,
    ) = quoted
    text = _CANONICAL_TEMPLATE % (
        action,
        at,
        decision,
        details,
        event_id,
        findings,
        input_digest,
        _quote(prev_hash),
        principal,
        request_id,
        seq,
        target,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _head_bytes(seq: int, entry_hash: str) -> bytes:
    return f"shopguard/audit/head/{seq}/{entry_hash}".encode()


#: How often a growing batch is looked at (see ``commit_delay_ms``).
_GROW_STEP_S = 0.0002
_ROW_COLUMNS = tuple(c.name for c in audit_log.columns)
#: 66 rows x 15 columns stays under SQLite's oldest variable limit (999).
_ROWS_PER_INSERT = 999 // len(_ROW_COLUMNS)


@dataclass(frozen=True)
class _Sql:
    """The writer's statements in the driver's own paramstyle (values always bound)."""

    lock: str | None
    select_head: str
    update_head: str
    insert_prefix: str
    row: str

    def insert(self, n: int) -> str:
        return self.insert_prefix + ", ".join([self.row] * n)


def _sql_for(engine: Engine) -> _Sql:
    # Constant SQL: table and column names come from the schema; every value is bound.
    ph = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    pg = is_postgres(engine)
    # SQLite: take the write lock first, so no other process interleaves in the chain;
    # with RETURNING (SQLite 3.35+) the same statement reads the head.
    returning = not pg and sqlite3.sqlite_version_info >= (3, 35, 0)
    lock = "UPDATE audit_head SET seq = seq WHERE id = 1"
    return _Sql(
        lock=None if pg or returning else lock,
        select_head=f"{lock} RETURNING seq, entry_hash"
        if returning
        else "SELECT seq, entry_hash FROM audit_head WHERE id = 1"  # noqa: S608
        + (" FOR UPDATE" if pg else ""),
        update_head=(
            f"UPDATE audit_head SET seq = {ph}, entry_hash = {ph}, mac = {ph}, mac_key_id = {ph}"  # noqa: S608
            " WHERE id = 1"
        ),
        insert_prefix=f"INSERT INTO audit_log ({', '.join(_ROW_COLUMNS)}) VALUES ",  # noqa: S608
        row="(" + ", ".join([ph] * len(_ROW_COLUMNS)) + ")",
    )


#: A queued entry: the event, and who to tell (a thread's future, or an asyncio
#: future and its loop). Tuples: one is built per request.
_Pending = tuple[
    AuditEvent,
    "concurrent.futures.Future[AuditRecord] | None",
    "asyncio.Future[AuditRecord] | None",
    "asyncio.AbstractEventLoop | None",
]


def _settle(items: list[tuple[asyncio.Future[AuditRecord], AuditRecord | BaseException]]) -> None:
    """Resolve a batch's asyncio futures (runs on their loop)."""
    for waiter, outcome in items:
        if waiter.done():  # the caller was cancelled
            continue
        if isinstance(outcome, BaseException):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)


#: The stored fields of an entry, in the order ``_prepare`` builds their values.
_FIELDS = (
    "event_id",
    "at",
    "request_id",
    "principal",
    "action",
    "target",
    "decision",
    "findings",
    "input_digest",
    "details",
)
#: ``(values in _FIELDS order, the quoted JSON fields the hash covers, findings)``.
_Prepared = tuple[tuple[Any, ...], tuple[str, ...], tuple[str, ...]]


def _prepared_from(values: tuple[Any, ...]) -> _Prepared:
    """Rebuild what the chain needs from stored values (spool replay)."""
    (event_id, at, request_id, principal, action, target, decision, findings, digest,
     details) = values  # fmt: skip
    quoted = (
        _quote(action),
        _quote(at),
        _quote(decision),
        _quote(details),
        _quote(event_id),
        _quote(findings),
        _q(digest),
        _q(principal),
        _q(request_id),
        _q(target),
    )
    return values, quoted, tuple(json.loads(findings))


class AuditLog:
    """Append-only, hash-chained, MAC'd audit log with group commit.

    Parameters
    ----------
    engine, keyring:
        Storage and keys.
    clock:
        Injectable clock (UTC).
    batch_max:
        Most entries committed in one transaction.
    commit_delay_ms:
        When the previous batch had several entries, how long the writer may
        wait for a batch to grow before committing it (it stops waiting as soon
        as no new entry arrived for 0.2 ms). 0 commits at once.
    sqlite_synchronous:
        ``FULL`` (default): a SQLite commit is on disk before it returns, so an
        acknowledged entry survives a power loss. ``NORMAL`` (WAL mode): it is
        in the operating system's cache, so it survives the process crashing
        but not the machine losing power. Ignored for PostgreSQL.
    """

    def __init__(
        self,
        engine: Engine,
        keyring: KeyRing,
        *,
        clock: Clock | None = None,
        batch_max: int = 256,
        commit_delay_ms: float = 2.0,
        sqlite_synchronous: str = "FULL",
        spool: AuditSpool | None = None,
    ) -> None:
        if sqlite_synchronous not in ("FULL", "NORMAL"):
            raise ValueError("sqlite_synchronous must be FULL or NORMAL")
        self._spool = spool  # local durable buffer for commits the database refused
        self._spool_retry_at = 0.0
        self._engine = engine
        self._keyring = keyring
        self._clock = clock or (lambda: datetime.now(UTC))
        self._batch_max = batch_max
        self._delay = commit_delay_ms / 1000
        self._synchronous = sqlite_synchronous
        self._pending: collections.deque[_Pending] = collections.deque()
        self._wake = threading.Event()
        self._idle = False
        self._stopping = False
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self._pseudonyms: dict[str, str] = {}
        self._scrubbed: dict[str, str] = {}
        self._sql: _Sql | None = None
        self._conn: Any = None  # the writer thread's own DBAPI connection
        self._pseudonym_lock = threading.Lock()
        self._id_prefix = os.urandom(8).hex()
        self._process_writer: ProcessAuditWriter | None = None
        self._ids = itertools.count(1)

    # -- writing ----------------------------------------------------------------
    def pseudonym(self, value: str) -> str:
        """The keyed pseudonym the log uses for ``value`` (to look entries up by customer).

        Pseudonyms use the purpose's first key version, so they never change: the
        last :data:`PSEUDONYM_CACHE` values are served from a cache.
        """
        hit = self._pseudonyms.get(value)
        if hit is not None:
            return hit
        out = self._keyring.pseudonym(_PSEUDONYM_PURPOSE, value)
        with self._pseudonym_lock:
            if len(self._pseudonyms) >= PSEUDONYM_CACHE:
                self._pseudonyms.clear()  # bounded; a refill costs one HMAC per value
            self._pseudonyms[value] = out
        return out

    def new_id(self) -> str:
        """A 32-hex-digit id unique to this log object (callers use it for request ids).

        A random per-log prefix and a counter: unique without a ``getrandom()``
        call per request. Not a secret and not meant to be unguessable.
        """
        return f"{self._id_prefix}{next(self._ids):016x}"

    def input_digest(self, data: bytes) -> str:
        """Keyed digest of a request body: proves what was seen without storing it."""
        return self._keyring.mac(_PSEUDONYM_PURPOSE, data)[1].hex()

    def ensure_head(self) -> None:
        """Create the MAC'd head anchor of an empty log (idempotent)."""
        with self._engine.begin() as conn:
            if conn.execute(sa.select(audit_head.c.id)).first() is None:
                kid, tag = self._keyring.mac(_PURPOSE, _head_bytes(0, GENESIS))
                conn.execute(
                    audit_head.insert().values(
                        id=_HEAD_ID, seq=0, entry_hash=GENESIS, mac=tag.hex(), mac_key_id=kid
                    )
                )

    def append(self, event: AuditEvent, *, timeout: float = 30.0) -> AuditRecord:
        """Record ``event`` and return once it is durable.

        Raises
        ------
        AuditSinkError
            The entry could not be committed; the caller must not act on its decision.
        """
        fut = self.submit(event)
        try:
            return fut.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise AuditSinkError("audit entry not durable in time") from None

    async def append_async(self, event: AuditEvent) -> AuditRecord:
        """:meth:`append` for async code: awaits durability without blocking the loop."""
        if self._closed:
            raise AuditSinkError("audit log is closed")
        if self._writer is None:
            self._ensure_writer()
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[AuditRecord] = loop.create_future()
        self._pending.append((event, None, waiter, loop))
        if self._idle:
            self._wake.set()
        return await waiter

    async def append_durable(self, event: AuditEvent) -> None:
        """Record ``event`` and return once it is durable, by the fastest writer available.

        With a process writer attached (:meth:`use_process_writer`, the gateway's
        default) the entry is committed by the writer child process; otherwise, or
        from an event loop other than the one the child serves, by the writer thread.

        Raises
        ------
        AuditSinkError
            The entry could not be committed; the caller must not act on its decision.
        """
        proc = self._process_writer
        if proc is not None and await proc.append(event):
            return
        await self.append_async(event)

    @property
    def process_writer(self) -> ProcessAuditWriter | None:
        """The writer process client :meth:`append_durable` uses, if any."""
        return self._process_writer

    def use_process_writer(self, writer: ProcessAuditWriter) -> None:
        """Send :meth:`append_durable` entries to ``writer`` (closed with this log)."""
        self._process_writer = writer

    def submit(self, event: AuditEvent) -> concurrent.futures.Future[AuditRecord]:
        """Queue ``event``; the future resolves when it is committed."""
        if self._closed:
            raise AuditSinkError("audit log is closed")
        self._ensure_writer()
        fut: concurrent.futures.Future[AuditRecord] = concurrent.futures.Future()
        self._pending.append((event, fut, None, None))
        if self._idle:
            self._wake.set()
        return fut

    def close(self) -> None:
        """Flush what is queued and stop the writer."""
        self._closed = True
        if self._process_writer is not None:
            self._process_writer.close()
        if self._writer is not None:
            self._stopping = True
            self._wake.set()
            self._writer.join(timeout=30)
            self._writer = None
        if self._spool is not None:
            self._spool.close()

    def _ensure_writer(self) -> None:
        if self._writer is not None:
            return
        with self._start_lock:
            if self._writer is None:
                self.ensure_head()
                self._stopping = False
                self._writer = threading.Thread(
                    target=self._run, name="shopguard-audit-writer", daemon=True
                )
                self._writer.start()

    def _run(self) -> None:
        # Producers append to a deque and set the event only while the writer is
        # idle: no lock or wake-up per entry while it is busy committing. The
        # writer announces idleness *before* its last look at the deque, so an
        # entry appended meanwhile is either seen or wakes it.
        pending = self._pending
        last = 0
        try:
            while True:
                if not pending:
                    if self._stopping:
                        return
                    self._idle = True
                    # Wake once a second while spooled entries wait for the database.
                    if (
                        not pending
                        and not self._stopping
                        and not self._wake.wait(timeout=1.0 if self._spool_pending() else None)
                    ):
                        self._replay_spool()
                    self._wake.clear()
                    self._idle = False
                    continue
                if last > 1 and self._delay > 0:
                    # Concurrent appenders: let the batch grow while entries keep
                    # arriving (up to the delay), as PostgreSQL's commit_delay does.
                    # Fewer, larger commits cost less CPU and fsync per entry; a lone
                    # appender (last batch of one) never waits.
                    deadline = time.monotonic() + self._delay
                    seen = len(pending)
                    while seen < self._batch_max and time.monotonic() < deadline:
                        time.sleep(_GROW_STEP_S)
                        if len(pending) == seen:
                            break
                        seen = len(pending)
                last = n = min(len(pending), self._batch_max)
                self._commit([pending.popleft() for _ in range(n)])
        finally:
            self._drop_connection(broken=False)

    def _scrub(self, value: str | None) -> str | None:
        if value is None:
            return None
        return scrub_personal_data(value, self.pseudonym)

    def _scrub_cached(self, value: str) -> str:
        # For fields that repeat (actions, principals, targets, findings): the result
        # depends only on the text and the pseudonym key, which never changes.
        hit = self._scrubbed.get(value)
        if hit is None:
            hit = scrub_personal_data(value, self.pseudonym)
            if len(self._scrubbed) >= PSEUDONYM_CACHE:
                self._scrubbed.clear()
            self._scrubbed[value] = hit
        return hit

    def _persist(self, events: list[AuditEvent]) -> list[AuditRecord]:
        """Commit ``events`` in one transaction on the calling thread (the writer's).

        Raises
        ------
        AuditSinkError
            Nothing was committed (the entries were spooled if a spool is configured).
        """
        prepared: list[_Prepared] = []
        try:
            prepared = self._prepare(events)
            self._replay_spool(force=True)  # spooled entries land first, in their order
            return self._chain(prepared)
        except Exception as exc:  # fail closed: every caller in the batch learns it failed
            logger.error("audit commit failed: %s", type(exc).__name__)
            self._drop_connection()
            raise AuditSinkError(
                f"audit entry could not be committed ({type(exc).__name__})"
                + ("; spooled locally" if self._spool_failed(prepared) else "")
            ) from None

    def _commit(self, batch: list[_Pending]) -> None:
        outcomes: list[AuditRecord | BaseException]
        try:
            outcomes = list(self._persist([p[0] for p in batch]))
        except AuditSinkError as err:
            outcomes = [err] * len(batch)
        by_loop: dict[
            asyncio.AbstractEventLoop,
            list[tuple[asyncio.Future[AuditRecord], AuditRecord | BaseException]],
        ] = {}
        for (_, future, waiter, loop), outcome in zip(batch, outcomes, strict=True):
            if future is not None:
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
            elif waiter is not None and loop is not None:
                items = by_loop.get(loop)
                if items is None:
                    items = by_loop[loop] = []
                items.append((waiter, outcome))
        for loop, items in by_loop.items():  # one wake-up per loop per batch
            try:
                loop.call_soon_threadsafe(_settle, items)
            except RuntimeError:  # the loop is closed; nobody is waiting any more
                logger.debug("audit: event loop closed before %d entries were settled", len(items))

    # The writer keeps one DBAPI connection for its life: a pool checkout, a
    # SQLAlchemy transaction and five compiled executions per batch cost more
    # than the rows they wrote. Any error drops it; the next batch opens another.
    def _connection(self) -> Any:
        if self._conn is None:
            self._sql = self._sql or _sql_for(self._engine)
            conn = self._engine.raw_connection()
            if not is_postgres(self._engine):
                cur = conn.cursor()
                cur.execute(f"PRAGMA synchronous={self._synchronous}")
                cur.close()
            self._conn = conn
        return self._conn

    def _drop_connection(self, *, broken: bool = True) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):  # it is being thrown away
            if broken:
                conn.rollback()
                conn.invalidate()
            else:
                conn.close()

    # -- the local spool (see audit_spool.py) ------------------------------------------
    def _spool_pending(self) -> bool:
        return self._spool is not None and self._spool.has_pending()

    def _spool_failed(self, prepared: list[_Prepared]) -> bool:
        # The callers are refused (their entries did not commit); keep the record of
        # what they asked for, marked as spooled, to land when the database is back.
        if self._spool is None or not prepared:
            return False
        marked = []
        for values, _, _ in prepared:
            fields = dict(zip(_FIELDS, values, strict=True))
            details = json.loads(fields["details"])
            if isinstance(details, dict):
                details["audit_spooled"] = True
            marked.append({**fields, "details": _DETAILS.encode(details)})
        try:
            return self._spool.add(marked)
        except OSError as exc:
            logger.error("audit spool write failed: %s", type(exc).__name__)
            return False

    def _replay_spool(self, *, force: bool = False) -> None:
        if self._spool is None or (not force and time.monotonic() < self._spool_retry_at):
            return
        if not self._spool.has_pending():
            return
        try:
            self._spool.replay(self._present, self._chain_fields)
        except Exception as exc:
            self._spool_retry_at = time.monotonic() + 1.0
            self._drop_connection()
            if force:
                raise
            logger.warning("audit spool replay deferred: %s", type(exc).__name__)

    def _present(self, event_ids: list[str]) -> set[str]:
        found: set[str] = set()
        with self._engine.connect() as conn:
            for i in range(0, len(event_ids), 500):
                chunk = event_ids[i : i + 500]
                rows = conn.execute(
                    sa.select(audit_log.c.event_id).where(audit_log.c.event_id.in_(chunk))
                )
                found.update(str(r[0]) for r in rows)
        return found

    def _chain_fields(self, entries: list[dict[str, Any]]) -> list[AuditRecord]:
        """Commit spooled entries (dicts of the stored fields), keeping their ids and times."""
        return self._chain([_prepared_from(tuple(e[f] for f in _FIELDS)) for e in entries])

    def _write(self, events: list[AuditEvent]) -> list[AuditRecord]:
        return self._chain(self._prepare(events))

    def _prepare(self, events: list[AuditEvent]) -> list[_Prepared]:
        at = self._clock().astimezone(UTC).isoformat(timespec="microseconds")
        q_at = _quote(at)
        # Event ids as request ids are made (no getrandom() call, which gives up the GIL).
        prefix, counter = self._id_prefix, self._ids
        scrub, cached = self._scrub, self._scrub_cached
        prepared: list[_Prepared] = []
        for ev in events:
            event_id = f"{prefix}{next(counter):016x}"
            principal = None if ev.principal is None else cached(ev.principal)
            action = cached(ev.action) or ev.action
            target = None if ev.target is None else cached(ev.target)
            findings_list = [cached(f) for f in ev.findings]
            findings = _COMPACT.encode(findings_list)
            details = scrub(_details_json(ev.details)) or "{}"
            values = (
                event_id,
                at,
                ev.request_id,
                principal,
                action,
                target,
                ev.decision,
                findings,
                ev.input_digest,
                details,
            )
            quoted = (
                _quote(action),
                q_at,
                _quote(ev.decision),
                _quote(details),
                _quote(event_id),
                _quote(findings),
                _q(ev.input_digest),
                _q(principal),
                _q(ev.request_id),
                _q(target),
            )
            prepared.append((values, quoted, tuple(findings_list)))
        return prepared

    def _chain(self, prepared: list[_Prepared]) -> list[AuditRecord]:
        # Everything that may touch the key ring (and so the database) happens
        # before the chain's write lock is taken.
        key = self._keyring.active(_PURPOSE)
        # Copies of one keyed HMAC: hmac.digest() releases the GIL on every call, and
        # each release makes this thread queue behind the event loop to get it back.
        keyed, kid = hmac.new(key.secret, digestmod="sha256"), key.key_id
        conn = self._connection()
        sql = self._sql
        assert sql is not None
        cur = conn.cursor()
        try:
            if sql.lock is not None:
                cur.execute(sql.lock)
            cur.execute(sql.select_head)
            row = cur.fetchone()
            if row is None:
                raise AuditSinkError("audit head missing; run 'shopguard init'")
            seq, prev = int(row[0]), str(row[1])
            records: list[AuditRecord] = []
            flat: list[Any] = []
            for values, quoted_fields, findings_t in prepared:
                seq += 1
                h = _fast_entry_hash(seq, prev, quoted_fields)
                mac = keyed.copy()
                mac.update(bytes.fromhex(h))
                tag = mac.hexdigest()
                flat.append(seq)
                flat.extend(values)
                flat += (prev, h, tag, kid)
                records.append(
                    AuditRecord(
                        seq,
                        values[0],
                        values[1],
                        values[2],
                        values[3],
                        values[4],
                        values[5],
                        values[6],
                        findings_t,
                        values[8],
                        orjson.loads(values[9]),
                        prev,
                        h,
                        tag,
                        kid,
                    )
                )
                prev = h
            width = len(_ROW_COLUMNS)
            for i in range(0, len(records), _ROWS_PER_INSERT):
                n = min(_ROWS_PER_INSERT, len(records) - i)
                cur.execute(sql.insert(n), flat[i * width : (i + n) * width])
            mac = keyed.copy()
            mac.update(_head_bytes(seq, prev))
            head_tag = mac.hexdigest()
            cur.execute(sql.update_head, (seq, prev, head_tag, kid))
            conn.commit()
        finally:
            cur.close()
        return records

    # -- reading ----------------------------------------------------------------
    def records(self, *, batch: int = 1000, since: int = 0) -> Iterator[AuditRecord]:
        """Every entry after sequence number ``since`` in sequence order (streamed)."""
        last = since
        while True:
            with self._engine.connect() as conn:
                rows = (
                    conn.execute(
                        sa.select(audit_log)
                        .where(audit_log.c.seq > last)
                        .order_by(audit_log.c.seq)
                        .limit(batch)
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                return
            for r in rows:
                yield _record(dict(r))
            last = int(rows[-1]["seq"])

    def verify(self) -> VerifyReport:
        """Walk the chain; name the first entry that was edited, deleted, inserted or moved."""
        expected = 1
        prev = GENESIS
        n = 0
        with self._engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=2000).execute(
                sa.select(audit_log).order_by(audit_log.c.seq)
            )
            for raw in result.mappings():
                n += 1
                seq = int(raw["seq"])
                if seq != expected:
                    return VerifyReport(
                        False, n, expected, f"entry {expected} is missing (next is {seq})"
                    )
                fields = {k: raw[k] for k in _HASHED}
                fields["seq"] = seq
                if raw["prev_hash"] != prev:
                    return VerifyReport(False, n, seq, "chain broken: previous hash does not match")
                if _entry_hash(**fields) != raw["entry_hash"]:
                    return VerifyReport(False, n, seq, "entry content does not match its hash")
                try:
                    self._keyring.verify_mac(
                        raw["mac_key_id"],
                        bytes.fromhex(raw["entry_hash"]),
                        bytes.fromhex(raw["mac"]),
                    )
                except (InvalidCiphertext, ValueError):
                    return VerifyReport(False, n, seq, "entry MAC is invalid")
                prev = raw["entry_hash"]
                expected += 1
            head = (
                conn.execute(sa.select(audit_head).where(audit_head.c.id == _HEAD_ID))
                .mappings()
                .first()
            )
        last = expected - 1
        if head is None:
            return VerifyReport(False, n, last + 1 if n else 1, "audit head anchor is missing")
        try:
            self._keyring.verify_mac(
                head["mac_key_id"],
                _head_bytes(int(head["seq"]), head["entry_hash"]),
                bytes.fromhex(head["mac"]),
            )
        except (InvalidCiphertext, ValueError):
            return VerifyReport(False, n, int(head["seq"]), "audit head anchor MAC is invalid")
        if int(head["seq"]) != last or head["entry_hash"] != prev:
            return VerifyReport(
                False,
                n,
                last + 1,
                f"log truncated: head records entry {int(head['seq'])}, log ends at {last}",
            )
        return VerifyReport(True, n)

    def export_jsonl(self, fh: IO[str]) -> int:
        """Write every entry as one JSON line; returns the count."""
        n = 0
        for rec in self.records():
            fh.write(json.dumps(rec.to_json(), sort_keys=True) + "\n")
            n += 1
        return n


_HASHED = (
    "event_id",
    "at",
    "request_id",
    "principal",
    "action",
    "target",
    "decision",
    "findings",
    "input_digest",
    "details",
    "prev_hash",
)


def _record(row: Mapping[str, Any]) -> AuditRecord:
    return AuditRecord(
        seq=int(row["seq"]),
        event_id=row["event_id"],
        at=row["at"],
        request_id=row["request_id"],
        principal=row["principal"],
        action=row["action"],
        target=row["target"],
        decision=row["decision"],
        findings=tuple(json.loads(row["findings"])),
        input_digest=row["input_digest"],
        details=json.loads(row["details"]),
        prev_hash=row["prev_hash"],
        entry_hash=row["entry_hash"],
        mac=row["mac"],
        mac_key_id=row["mac_key_id"],
    )
