"""A local durable buffer for audit entries the database could not take.

When an audit commit fails (the database is down or restarting), the writer
hands the batch's prepared entries, each with the event id it was given, to
:class:`AuditSpool`. They are appended to this process's spool file as JSON
lines and ``fsync``-ed before the writer reports the failure, so the caller
can refuse its request (fail closed) knowing the record of that refusal is not
lost. On every later write, and once a second while entries are pending, the
writer replays the spool *before* new entries: it asks the database which of
the spooled event ids it already holds (a commit whose acknowledgement was
lost may have landed), appends only the others to the chain in one
transaction, and then empties the file. Entries therefore land exactly once,
in their original order, and the chain stays verifiable.

Several processes may share a spool directory (workers on one host). Each
process writes its own file, held under an exclusive ``flock`` for its
lifetime; a process may replay another file only if it can take that lock,
which is the case once its owner has exited (or was killed). A file is
deleted once replayed.

A spool is bounded (``max_bytes``): when full, entries are not spooled and
the caller's request is refused as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["AuditSpool"]

logger = logging.getLogger(__name__)

#: Field every spooled entry must carry (the replay deduplicates on it).
EVENT_ID = "event_id"


class AuditSpool:
    """Spool files of pending audit entries under ``directory`` (one per process)."""

    def __init__(self, directory: Path, *, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._dir = directory
        self._max_bytes = max_bytes
        self._own: IO[bytes] | None = None
        self._own_path: Path | None = None

    @property
    def directory(self) -> Path:
        return self._dir

    # -- writing ------------------------------------------------------------------
    def add(self, entries: list[dict[str, Any]]) -> bool:
        """Append ``entries`` durably (written and fsynced). False if the spool is full.

        Raises ``OSError`` when the file cannot be written (disk full, read-only).
        """
        if not entries:
            return True
        data = b"".join(
            json.dumps(e, sort_keys=True, separators=(",", ":")).encode() + b"\n" for e in entries
        )
        fh = self._own_file()
        if fh.tell() + len(data) > self._max_bytes:
            return False
        start = fh.tell()
        try:
            view = memoryview(data)
            while view:  # unbuffered: a failed write leaves nothing queued to flush later
                n = fh.write(view)
                view = view[n or 0 :]
            os.fsync(fh.fileno())
        except OSError:
            # Leave no half-written line behind: cut back to where this batch began.
            with contextlib.suppress(OSError):
                fh.truncate(start)
                fh.seek(start)
            raise
        return True

    def _own_file(self) -> IO[bytes]:
        if self._own is None or self._own_path is None or not self._own_path.exists():
            self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = self._dir / f"spool-{os.getpid()}-{os.urandom(4).hex()}.jsonl"
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            fh = os.fdopen(fd, "a+b", buffering=0)
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            fh.seek(0, os.SEEK_END)
            self._own, self._own_path = fh, path
        return self._own

    # -- replaying ----------------------------------------------------------------
    def has_pending(self) -> bool:
        """True if this process's file holds entries or another spool file exists."""
        if self._own is not None and self._own.tell() > 0:
            return True
        try:
            return any(
                p.name.startswith("spool-") and p != self._own_path for p in self._dir.iterdir()
            )
        except FileNotFoundError:
            return False

    def replay(
        self,
        present: Callable[[list[str]], set[str]],
        commit: Callable[[list[dict[str, Any]]], object],
    ) -> int:
        """Commit every spooled entry not yet ``present``; empty the files. Returns how many.

        ``present(ids)`` names the ids the log already holds; ``commit(entries)``
        appends entries to the chain in one transaction (raising if it cannot).
        A file is emptied only after its entries were committed, so a failure
        leaves it to be replayed again.
        """
        landed = 0
        for path, fh, own in self._replayable():
            try:
                entries = _read_entries(fh)
                if entries:
                    done = present([str(e[EVENT_ID]) for e in entries])
                    todo = [e for e in entries if e[EVENT_ID] not in done]
                    if todo:
                        commit(todo)
                    landed += len(todo)
                    logger.warning(
                        "audit spool: replayed %d entries (%d already present)",
                        len(todo),
                        len(entries) - len(todo),
                    )
                if own:
                    fh.truncate(0)
                    fh.seek(0)
                    os.fsync(fh.fileno())
                else:
                    path.unlink(missing_ok=True)
            finally:
                if not own:
                    fh.close()
        return landed

    def _replayable(self) -> Iterator[tuple[Path, IO[bytes], bool]]:
        if self._own is not None and self._own_path is not None and self._own.tell() > 0:
            yield self._own_path, self._own, True
        try:
            others = sorted(
                p
                for p in self._dir.iterdir()
                if p.name.startswith("spool-") and p.suffix == ".jsonl" and p != self._own_path
            )
        except FileNotFoundError:
            return
        for path in others:
            try:
                fh = path.open("r+b")
            except FileNotFoundError:  # another process replayed it first
                continue
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # its owner is alive; it replays its own file
                fh.close()
                continue
            if not path.exists():  # replayed and unlinked while we waited
                fh.close()
                continue
            yield path, fh, False

    def close(self) -> None:
        if self._own is not None:
            empty = self._own.tell() == 0
            with contextlib.suppress(OSError):
                self._own.close()
            self._own = None
            if empty and self._own_path is not None:
                self._own_path.unlink(missing_ok=True)


def _read_entries(fh: IO[bytes]) -> list[dict[str, Any]]:
    fh.seek(0)
    out: list[dict[str, Any]] = []
    for raw in fh.read().splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            # Only a torn final line can be malformed (each batch is fsynced whole).
            logger.error("audit spool: skipping a malformed line")
            continue
        if isinstance(entry, dict) and isinstance(entry.get(EVENT_ID), str):
            out.append(entry)
    fh.seek(0, os.SEEK_END)
    return out
