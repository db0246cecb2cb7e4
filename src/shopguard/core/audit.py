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
import queue
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shopguard.core import crypto
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


def scrub_personal_data(text: str, pseudonym: Callable[[str], str]) -> str:
    """Replace e-mails, Luhn-valid card numbers and IPv4 addresses with ``pii:<pseudonym>``."""

    def card(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return f"pii:{pseudonym(digits)}" if _luhn_ok(digits) else m.group(0)

    text = _EMAIL.sub(lambda m: f"pii:{pseudonym(m.group(0).lower())}", text)
    text = _CARD.sub(card, text)
    return _IPV4.sub(lambda m: f"pii:{pseudonym(m.group(0))}", text)


@dataclass(frozen=True)
class AuditEvent:
    """One decision to record. ``principal`` is a key *id*, never a secret."""

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


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


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


@dataclass
class _Pending:
    event: AuditEvent
    future: concurrent.futures.Future[AuditRecord]


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
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self._clock = clock or (lambda: datetime.now(UTC))
        self._batch_max = batch_max
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    # -- writing ----------------------------------------------------------------
    def pseudonym(self, value: str) -> str:
        """The keyed pseudonym the log uses for ``value`` (to look entries up by customer)."""
        return self._keyring.pseudonym(_PSEUDONYM_PURPOSE, value)

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
        return await asyncio.wrap_future(self.submit(event))

    def submit(self, event: AuditEvent) -> concurrent.futures.Future[AuditRecord]:
        """Queue ``event``; the future resolves when it is committed."""
        if self._closed:
            raise AuditSinkError("audit log is closed")
        self._ensure_writer()
        fut: concurrent.futures.Future[AuditRecord] = concurrent.futures.Future()
        self._queue.put(_Pending(event, fut))
        return fut

    def close(self) -> None:
        """Flush what is queued and stop the writer."""
        self._closed = True
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join(timeout=30)
            self._writer = None

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
            first = self._queue.get()
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
        try:
            records = self._write(batch)
        except Exception as exc:  # fail closed: every caller in the batch learns it failed
            logger.error("audit commit failed: %s", type(exc).__name__)
            err = AuditSinkError(f"audit entry could not be committed ({type(exc).__name__})")
            for p in batch:
                p.future.set_exception(err)
            return
        for p, rec in zip(batch, records, strict=True):
            p.future.set_result(rec)

    def _lock_head(self, conn: Connection) -> tuple[int, str]:
        q = sa.select(audit_head.c.seq, audit_head.c.entry_hash).where(audit_head.c.id == _HEAD_ID)
        if is_postgres(self._engine):
            q = q.with_for_update()
        else:
            # Take SQLite's write lock now so no other process interleaves in the chain.
            conn.exec_driver_sql("UPDATE audit_head SET seq = seq WHERE id = 1")
        row = conn.execute(q).first()
        if row is None:
            raise AuditSinkError("audit head missing; run 'shopguard init'")
        return int(row.seq), str(row.entry_hash)

    def _write(self, batch: list[_Pending]) -> list[AuditRecord]:
        # Everything that may touch the key ring (and so the database) happens
        # before the chain's write lock is taken.
        key = self._keyring.active(_PURPOSE)
        prepared: list[dict[str, Any]] = []
        for p in batch:
            ev = p.event
            details = json.dumps(
                dict(ev.details), sort_keys=True, separators=(",", ":"), default=str
            )
            prepared.append(
                {
                    "event_id": uuid.uuid4().hex,
                    "at": self._clock().astimezone(UTC).isoformat(timespec="microseconds"),
                    "request_id": self._scrub(ev.request_id),
                    "principal": self._scrub(ev.principal),
                    "action": self._scrub(ev.action) or ev.action,
                    "target": self._scrub(ev.target),
                    "decision": ev.decision,
                    "findings": json.dumps(
                        [self._scrub(f) for f in ev.findings], separators=(",", ":")
                    ),
                    "input_digest": ev.input_digest,
                    "details": self._scrub(details) or "{}",
                }
            )
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
            conn.execute(audit_log.insert(), rows)
            head_tag = crypto.mac(key.secret, _head_bytes(seq, prev))
            conn.execute(
                audit_head.update()
                .where(audit_head.c.id == _HEAD_ID)
                .values(seq=seq, entry_hash=prev, mac=head_tag.hex(), mac_key_id=key.key_id)
            )
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
