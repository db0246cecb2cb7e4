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
import concurrent.futures
import hashlib
import json
import logging
import os
import queue
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shopguard.core import crypto
from shopguard.core.audit_spool import AuditSpool
from shopguard.core.db import is_postgres
from shopguard.core.errors import AuditSinkError, InvalidCiphertext
from shopguard.core.keyring import KeyRing
from shopguard.core.tables import audit_head, audit_log

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


_NOT_DIGITS = bytes(b for b in range(128) if not 48 <= b <= 57)


def _may_hold_card(text: str) -> bool:
    # A card match has at least 13 digits. For ASCII text count them in C; other
    # text may hold non-ASCII digits, which ``\d`` matches: let the regex decide.
    if not text.isascii():
        return True
    return len(text.encode().translate(None, _NOT_DIGITS)) >= 13


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


def _head_bytes(seq: int, entry_hash: str) -> bytes:
    return f"shopguard/audit/head/{seq}/{entry_hash}".encode()


_ROW_COLUMNS = tuple(c.name for c in audit_log.columns)
_ROWS_PER_INSERT = 999 // len(_ROW_COLUMNS)
_HEAD_COLUMNS = ("seq", "entry_hash", "mac", "mac_key_id")


@dataclass(frozen=True)
class _DriverSql:
    """A statement compiled for the engine's driver, and how to pass its parameters."""

    sql: str
    positions: tuple[str, ...] | None  # None: the driver takes named parameters
    fixed: Mapping[str, Any]  # values compiled into the statement (the head's id)

    def params(self, values: Mapping[str, Any]) -> Any:
        merged = {**self.fixed, **values} if self.fixed else values
        if self.positions is None:
            return dict(merged)
        return tuple(merged[k] for k in self.positions)


@dataclass(frozen=True)
class _Statements:
    lock: _DriverSql | None
    select_head: _DriverSql
    insert: _DriverSql
    update_head: _DriverSql


def _driver_sql(stmt: Any, dialect: Any, columns: Sequence[str]) -> _DriverSql:
    compiled = stmt.compile(dialect=dialect, column_keys=list(columns) or None)
    fixed = {k: v for k, v in compiled.params.items() if k not in columns}
    positions = compiled.positiontup
    return _DriverSql(str(compiled), tuple(positions) if positions is not None else None, fixed)


@dataclass
class _Pending:
    """A queued entry and who to tell: a thread's future, or an asyncio future and its loop."""

    event: AuditEvent
    future: concurrent.futures.Future[AuditRecord] | None = None
    waiter: asyncio.Future[AuditRecord] | None = None
    loop: asyncio.AbstractEventLoop | None = None


def _settle(items: list[tuple[asyncio.Future[AuditRecord], AuditRecord | BaseException]]) -> None:
    """Resolve a batch's asyncio futures (runs on their loop)."""
    for waiter, outcome in items:
        if waiter.done():  # the caller was cancelled
            continue
        if isinstance(outcome, BaseException):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)


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
    """

    def __init__(
        self,
        engine: Engine,
        keyring: KeyRing,
        *,
        clock: Clock | None = None,
        batch_max: int = 256,
        spool: AuditSpool | None = None,
    ) -> None:
        self._spool = spool  # local durable buffer for commits the database refused
        self._spool_retry_at = 0.0
        self._engine = engine
        self._keyring = keyring
        self._clock = clock or (lambda: datetime.now(UTC))
        self._batch_max = batch_max
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self._pseudonyms: dict[str, str] = {}
        self._stmts: _Statements | None = None
        self._multi_sql: dict[int, str] = {}
        self._pseudonym_lock = threading.Lock()

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
        """A random 32-hex-digit id (event ids; callers may use it for request ids)."""
        return os.urandom(16).hex()

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
        self._ensure_writer()
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[AuditRecord] = loop.create_future()
        self._queue.put(_Pending(event, waiter=waiter, loop=loop))
        return await waiter

    def submit(self, event: AuditEvent) -> concurrent.futures.Future[AuditRecord]:
        """Queue ``event``; the future resolves when it is committed."""
        if self._closed:
            raise AuditSinkError("audit log is closed")
        self._ensure_writer()
        fut: concurrent.futures.Future[AuditRecord] = concurrent.futures.Future()
        self._queue.put(_Pending(event, future=fut))
        return fut

    def close(self) -> None:
        """Flush what is queued and stop the writer."""
        self._closed = True
        if self._writer is not None:
            self._queue.put(None)
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
                self._writer = threading.Thread(
                    target=self._run, name="shopguard-audit-writer", daemon=True
                )
                self._writer.start()

    def _run(self) -> None:
        while True:
            try:  # wake once a second while spooled entries wait for the database
                first = self._queue.get(timeout=1.0 if self._spool_pending() else None)
            except queue.Empty:
                self._replay_spool()
                continue
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._batch_max:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._commit(batch)
            if stop:
                return

    def _scrub(self, value: str | None) -> str | None:
        if value is None:
            return None
        return scrub_personal_data(value, self.pseudonym)

    def _commit(self, batch: list[_Pending]) -> None:
        outcomes: list[AuditRecord | BaseException]
        prepared: list[dict[str, Any]] = []
        try:
            prepared = self._prepare(batch)
            self._replay_spool(force=True)  # spooled entries land first, in their order
            outcomes = list(self._chain(prepared))
        except Exception as exc:  # fail closed: every caller in the batch learns it failed
            logger.error("audit commit failed: %s", type(exc).__name__)
            err = AuditSinkError(
                f"audit entry could not be committed ({type(exc).__name__})"
                + ("; spooled locally" if self._spool_failed(prepared) else "")
            )
            outcomes = [err] * len(batch)
        by_loop: dict[
            asyncio.AbstractEventLoop,
            list[tuple[asyncio.Future[AuditRecord], AuditRecord | BaseException]],
        ] = {}
        for p, outcome in zip(batch, outcomes, strict=True):
            if p.future is not None:
                if isinstance(outcome, BaseException):
                    p.future.set_exception(outcome)
                else:
                    p.future.set_result(outcome)
            elif p.waiter is not None and p.loop is not None:
                by_loop.setdefault(p.loop, []).append((p.waiter, outcome))
        for loop, items in by_loop.items():  # one wake-up per loop per batch
            try:
                loop.call_soon_threadsafe(_settle, items)
            except RuntimeError:  # the loop is closed; nobody is waiting any more
                logger.debug("audit: event loop closed before %d entries were settled", len(items))

    def _statements(self) -> _Statements:
        # Compiled once per log: building and compiling the statements on every
        # commit cost more than the rows they write.
        if self._stmts is None:
            dialect = self._engine.dialect
            q = sa.select(audit_head.c.seq, audit_head.c.entry_hash).where(
                audit_head.c.id == _HEAD_ID
            )
            if is_postgres(self._engine):
                q = q.with_for_update()
            head = audit_head.update().where(audit_head.c.id == _HEAD_ID)
            self._stmts = _Statements(
                lock=None
                if is_postgres(self._engine)
                else _driver_sql(
                    sa.text("UPDATE audit_head SET seq = seq WHERE id = 1"), dialect, ()
                ),
                select_head=_driver_sql(q, dialect, ()),
                insert=_driver_sql(audit_log.insert(), dialect, _ROW_COLUMNS),
                update_head=_driver_sql(head, dialect, _HEAD_COLUMNS),
            )
        return self._stmts

    def _multi_insert(self, n: int) -> str:
        sql = self._multi_sql.get(n)
        if sql is None:
            st = self._statements()
            head, _, one = st.insert.sql.partition(" VALUES ")
            sql = f"{head} VALUES {', '.join([one] * n)}"
            self._multi_sql[n] = sql
        return sql

    def _lock_head(self, conn: Connection) -> tuple[int, str]:
        st = self._statements()
        if st.lock is not None:
            # Take SQLite's write lock now so no other process interleaves in the chain.
            conn.exec_driver_sql(st.lock.sql, st.lock.params({}))
        row = conn.exec_driver_sql(st.select_head.sql, st.select_head.params({})).first()
        if row is None:
            raise AuditSinkError("audit head missing; run 'shopguard init'")
        return int(row[0]), str(row[1])

    # -- the local spool (see audit_spool.py) ------------------------------------------
    def _spool_pending(self) -> bool:
        return self._spool is not None and self._spool.has_pending()

    def _spool_failed(self, prepared: list[dict[str, Any]]) -> bool:
        # The callers are refused (their entries did not commit); keep the record of
        # what they asked for, marked as spooled, to land when the database is back.
        if self._spool is None or not prepared:
            return False
        marked = []
        for fields in prepared:
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
        import time

        if self._spool is None or (not force and time.monotonic() < self._spool_retry_at):
            return
        if not self._spool.has_pending():
            return
        try:
            self._spool.replay(self._present, self._chain)
        except Exception as exc:
            self._spool_retry_at = time.monotonic() + 1.0
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

    def _write(self, batch: list[_Pending]) -> list[AuditRecord]:
        return self._chain(self._prepare(batch))

    def _prepare(self, batch: list[_Pending]) -> list[dict[str, Any]]:
        prepared: list[dict[str, Any]] = []
        for p in batch:
            ev = p.event
            details = _DETAILS.encode(dict(ev.details))
            prepared.append(
                {
                    "event_id": self.new_id(),
                    "at": self._clock().astimezone(UTC).isoformat(timespec="microseconds"),
                    "request_id": ev.request_id,
                    "principal": self._scrub(ev.principal),
                    "action": self._scrub(ev.action) or ev.action,
                    "target": self._scrub(ev.target),
                    "decision": ev.decision,
                    "findings": _COMPACT.encode([self._scrub(f) for f in ev.findings]),
                    "input_digest": ev.input_digest,
                    "details": self._scrub(details) or "{}",
                }
            )
        return prepared

    def _chain(self, prepared: list[dict[str, Any]]) -> list[AuditRecord]:
        # Everything that may touch the key ring (and so the database) happens
        # before the chain's write lock is taken.
        key = self._keyring.active(_PURPOSE)
        rows: list[dict[str, Any]] = []
        with self._engine.begin() as conn:
            seq, prev = self._lock_head(conn)
            for fields in prepared:
                seq += 1
                h = _entry_hash(seq=seq, prev_hash=prev, **fields)
                tag = crypto.mac(key.secret, bytes.fromhex(h))
                rows.append(
                    {
                        **fields,
                        "seq": seq,
                        "prev_hash": prev,
                        "entry_hash": h,
                        "mac": tag.hex(),
                        "mac_key_id": key.key_id,
                    }
                )
                prev = h
            st = self._statements()
            if st.insert.positions is None:
                conn.exec_driver_sql(st.insert.sql, [st.insert.params(r) for r in rows])
            else:
                # One multi-row INSERT per chunk: the driver steps (and gives up the
                # GIL) once per statement instead of once per row. 66 rows x 15
                # columns stays under SQLite's oldest variable limit (999).
                for i in range(0, len(rows), _ROWS_PER_INSERT):
                    chunk = rows[i : i + _ROWS_PER_INSERT]
                    conn.exec_driver_sql(
                        self._multi_insert(len(chunk)),
                        tuple(v for r in chunk for v in st.insert.params(r)),
                    )
            head_tag = crypto.mac(key.secret, _head_bytes(seq, prev))
            head = {"seq": seq, "entry_hash": prev, "mac": head_tag.hex(), "mac_key_id": key.key_id}
            conn.exec_driver_sql(st.update_head.sql, st.update_head.params(head))
        return [_record(r) for r in rows]

    # -- reading ----------------------------------------------------------------
    def records(self, *, batch: int = 1000) -> Iterator[AuditRecord]:
        """Every entry in sequence order (streamed)."""
        last = 0
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
