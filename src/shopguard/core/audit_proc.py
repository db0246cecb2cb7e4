"""The audit writer in its own process, for the gateway's one-entry-per-request appends.

In the gateway every request appends an audit entry that must be durable
before its response starts. The entry's scrubbing, hashing, MAC and database
commit cost more CPU than the rest of the request's guards; done in a thread,
that work shares the interpreter lock with the event loop, so the loop waits
for it (and pays for every hand-over of the lock). :class:`ProcessAuditWriter`
moves it to a child process (``python -m shopguard.core.audit_proc``): the
event loop only encodes each entry (one ``orjson`` call per loop iteration
for all the entries that iteration produced), writes it to a socket pair, and
awaits the child's acknowledgement. The child runs the same
:meth:`~shopguard.core.audit.AuditLog._persist` as the thread writer: entries
that arrive while it commits are group-committed together, so the chain, MAC,
spool and fail-closed behaviour are the thread writer's.

Wire format (one local socket pair, parent and child only):

* parent -> child: frames of a 4-byte big-endian length and an ``orjson``
  array. The first frame carries the settings (secrets included: the socket is
  private to the two processes, like an inherited environment); each later
  frame a list of entries ``[action, decision, principal, target, request_id,
  findings, input_digest, details]``.
* child -> parent: acknowledgements of 5 bytes, ``(count, ok)``: the next
  ``count`` entries, in the order they were sent, were committed (``ok`` 1) or
  were not (0: their callers get :class:`~shopguard.core.errors.AuditSinkError`
  and refuse, as with the thread writer).

If the child dies, every entry waiting for it fails (fail closed) and the next
append starts a new child, at most once a second. Closing the socket ends the
child after it has committed what it received.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import select
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import SecretStr

from shopguard.core.audit import _GROW_STEP_S, AuditEvent  # the thread writer's step
from shopguard.core.errors import AuditSinkError

if TYPE_CHECKING:
    from shopguard.core.settings import Settings

__all__ = ["ProcessAuditWriter", "main"]

logger = logging.getLogger(__name__)

_LEN = struct.Struct("!I")
_ACK = struct.Struct("!IB")
#: How long a failed child keeps the next one from starting (appends fail closed meanwhile).
_RESTART_BACKOFF_S = 1.0


def _settings_payload(settings: Settings) -> bytes:
    data = settings.model_dump(mode="json")
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
    return orjson.dumps(data)


def _encode(event: AuditEvent) -> list[Any]:
    return [
        event.action,
        event.decision,
        event.principal,
        event.target,
        event.request_id,
        list(event.findings),
        event.input_digest,
        event.details,
    ]


class ProcessAuditWriter:
    """Sends audit entries to a writer child process and awaits their durability.

    Bound to the first event loop that appends; :meth:`append` returns False
    when called from another loop (the caller then uses the thread writer).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected = False
        self._outbuf = bytearray()
        self._inbuf = b""
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._queue: list[list[Any]] = []
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._flush_scheduled = False
        self._failed_at = -_RESTART_BACKOFF_S
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The writer child's process id while one runs."""
        return self._proc.pid if self._proc is not None else None

    async def append(self, event: AuditEvent) -> bool:
        """Queue ``event`` and return True once it is durable; False if not this loop's writer.

        Raises
        ------
        AuditSinkError
            The entry was not committed (the caller must not act on its decision).
        """
        if self._closed:
            raise AuditSinkError("audit log is closed")
        loop = asyncio.get_running_loop()
        if not self._connected or self._loop is not loop:
            if self._loop is not None and self._loop is not loop and not self._loop.is_closed():
                return False
            self._start(loop)
        waiter: asyncio.Future[None] = loop.create_future()
        self._queue.append(_encode(event))
        self._waiters.append(waiter)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        await waiter
        return True

    def _flush(self) -> None:
        self._flush_scheduled = False
        queue, self._queue = self._queue, []
        if not queue:
            return
        payload = orjson.dumps(queue, default=str)
        if not self._connected:
            self._fail(len(queue), from_end=True)
            return
        self._write(_LEN.pack(len(payload)) + payload)

    def _write(self, data: bytes) -> None:
        if self._outbuf:  # earlier bytes still wait for room in the socket
            self._outbuf += data
            return
        assert self._sock is not None and self._loop is not None
        try:
            sent = self._sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._lost()
            return
        if sent < len(data):
            self._outbuf += data[sent:]
            self._loop.add_writer(self._sock.fileno(), self._writable)

    def _writable(self) -> None:
        assert self._sock is not None and self._loop is not None
        try:
            sent = self._sock.send(self._outbuf)
        except BlockingIOError:
            return
        except OSError:
            self._lost()
            return
        del self._outbuf[:sent]
        if not self._outbuf:
            self._loop.remove_writer(self._sock.fileno())

    def _readable(self) -> None:
        assert self._sock is not None
        try:
            data = self._sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._lost()
            return
        buf = self._inbuf + data if self._inbuf else data
        size = _ACK.size
        end = len(buf) - len(buf) % size
        for off in range(0, end, size):
            count, ok = _ACK.unpack_from(buf, off)
            self._settle(count, bool(ok))
        self._inbuf = buf[end:]

    def _settle(self, count: int, ok: bool) -> None:
        waiters = self._waiters
        err = None if ok else AuditSinkError("audit entry could not be committed")
        for _ in range(min(count, len(waiters))):
            w = waiters.popleft()
            if w.done():  # the caller was cancelled
                continue
            if err is None:
                w.set_result(None)
            else:
                w.set_exception(err)

    def _fail(self, count: int | None = None, *, from_end: bool = False) -> None:
        waiters = self._waiters
        n = len(waiters) if count is None else min(count, len(waiters))
        for _ in range(n):
            w = waiters.pop() if from_end else waiters.popleft()
            if not w.done():
                w.set_exception(AuditSinkError("audit writer process unavailable"))

    def _lost(self) -> None:
        if not self._connected:
            return
        self._connected = False
        self._queue = []
        self._outbuf = bytearray()
        self._inbuf = b""
        sock, loop = self._sock, self._loop
        if sock is not None and loop is not None and not loop.is_closed():
            loop.remove_reader(sock.fileno())
            loop.remove_writer(sock.fileno())
        if sock is not None:
            sock.close()
            self._sock = None
        self._fail()
        if not self._closed:
            logger.error("audit writer process exited; entries waiting for it were refused")
            self._failed_at = time.monotonic()
        self._reap(timeout=0)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        if time.monotonic() - self._failed_at < _RESTART_BACKOFF_S:
            raise AuditSinkError("audit writer process unavailable")
        if self._sock is not None:  # a writer bound to a loop that has ended
            self._retire()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ)
        # The child imports the very package this process runs (a checkout on sys.path too).
        src = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
        try:
            self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "shopguard.core.audit_proc", str(child.fileno())],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except OSError as exc:
            parent.close()
            self._failed_at = time.monotonic()
            raise AuditSinkError(f"audit writer process could not start ({exc.strerror})") from None
        finally:
            child.close()
        settings = _settings_payload(self._settings)
        parent.sendall(_LEN.pack(len(settings)) + settings)
        parent.setblocking(False)
        self._sock, self._loop, self._connected = parent, loop, True
        loop.add_reader(parent.fileno(), self._readable)

    def _retire(self) -> None:
        sock, self._sock = self._sock, None
        self._connected = False
        self._queue, self._outbuf, self._inbuf = [], bytearray(), b""
        self._fail()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
            self._reap(timeout=10.0)
            sock.close()

    def _reap(self, *, timeout: float) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            if timeout > 0:
                proc.kill()
                proc.wait()
            else:
                return
        self._proc = None

    def close(self, timeout: float = 30.0) -> None:
        """Stop accepting entries; the child commits what it received and exits."""
        self._closed = True
        sock, loop = self._sock, self._loop
        if sock is not None:
            if self._connected and loop is not None and not loop.is_closed():
                # From the loop's own thread only; elsewhere the loop is gone or stopping.
                with contextlib.suppress(Exception):
                    loop.remove_reader(sock.fileno())
                    loop.remove_writer(sock.fileno())
            if self._outbuf:
                with contextlib.suppress(OSError):
                    sock.setblocking(True)
                    sock.sendall(self._outbuf)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
        self._connected = False
        self._reap(timeout=timeout)
        if sock is not None:
            sock.close()
            self._sock = None


# -- the child -------------------------------------------------------------------------
def _read_frames(buf: bytearray) -> list[bytes]:
    frames = []
    off = 0
    size = _LEN.size
    while len(buf) - off >= size:
        (n,) = _LEN.unpack_from(buf, off)
        if len(buf) - off - size < n:
            break
        frames.append(bytes(buf[off + size : off + size + n]))
        off += size + n
    del buf[:off]
    return frames


def _event(item: list[Any]) -> AuditEvent:
    action, decision, principal, target, request_id, findings, digest, details = item
    return AuditEvent(
        action, decision, principal, target, request_id, tuple(findings), digest, details
    )


def serve(sock: socket.socket) -> None:
    """Run the writer: read the settings, then commit entries until the socket closes."""
    from shopguard.core.runtime import Runtime
    from shopguard.core.settings import Settings

    buf = bytearray()
    frames: list[bytes] = []
    while not frames:
        data = sock.recv(1 << 16)
        if not data:
            return
        buf += data
        frames = _read_frames(buf)
    settings = Settings(**{**orjson.loads(frames.pop(0)), "audit_writer": "thread"})
    rt = Runtime.open(settings, migrate_schema=False)
    audit = rt.audit
    batch_max = settings.audit_batch_max
    delay = settings.audit_commit_delay_ms / 1000
    pending: collections.deque[AuditEvent] = collections.deque()
    for frame in frames:
        pending.extend(_event(i) for i in orjson.loads(frame))
    last = 0
    eof = False
    try:
        while True:
            if not pending:
                if eof:
                    return
                sock.setblocking(True)
                data = sock.recv(1 << 20)
                if not data:
                    return
                buf += data
            # Take what else has arrived, without waiting.
            sock.setblocking(False)
            while True:
                try:
                    data = sock.recv(1 << 20)
                except BlockingIOError:
                    break
                if not data:
                    eof = True
                    break
                buf += data
            for frame in _read_frames(buf):
                pending.extend(_event(i) for i in orjson.loads(frame))
            if not pending:
                continue
            if last > 1 and delay > 0 and not eof:
                # Let the batch grow while entries keep arriving (as the thread writer does).
                deadline = time.monotonic() + delay
                while len(pending) < batch_max and time.monotonic() < deadline:
                    ready, _, _ = select.select([sock], [], [], _GROW_STEP_S)
                    if not ready:
                        break
                    data = sock.recv(1 << 20)
                    if not data:
                        eof = True
                        break
                    buf += data
                    for frame in _read_frames(buf):
                        pending.extend(_event(i) for i in orjson.loads(frame))
            last = n = min(len(pending), batch_max)
            batch = [pending.popleft() for _ in range(n)]
            try:
                audit._persist(batch)
                ok = 1
            except AuditSinkError:
                ok = 0
            sock.setblocking(True)
            sock.sendall(_ACK.pack(n, ok))
    except (BrokenPipeError, ConnectionResetError):
        return  # the gateway is gone; what was committed stays committed
    finally:
        audit._drop_connection(broken=False)
        rt.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -m shopguard.core.audit_proc FD", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    sock = socket.socket(fileno=int(args[0]))
    try:
        serve(sock)
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
