"""The gateway's edge, one pure-ASGI layer: body limit, security headers, audit and metrics.

Pure ASGI rather than ``BaseHTTPMiddleware`` (which costs FastAPI most of its
throughput, see STYLE.md), and one layer rather than three: every layer adds
its own call and ``send`` wrapper to every request.

* **Body limit.** A declared ``Content-Length`` over the limit is refused with
  413 before the app runs; a chunked body is counted as it streams.
* **Security headers** (and ``RateLimit-*`` headers, HSTS over HTTPS) on every
  response; any ``Server`` header the app set is dropped.
* **Audit.** Every request's decision is appended to the audit log and is
  durable before its response starts (group-committed with concurrent ones).
  If it cannot be made durable the client gets a 503 instead of the response
  (fail closed). Every decision is counted in ``/metrics``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shopguard.core.audit import AuditEvent, AuditLog
from shopguard.core.errors import AuditSinkError
from shopguard.gateway.hardening import HSTS, SECURITY_HEADERS, TooLarge, problem_response
from shopguard.gateway.metrics import GatewayMetrics

__all__ = ["AuditMiddleware"]

logger = logging.getLogger(__name__)
_UNAUDITED = frozenset({"/healthz"})
_DENY = frozenset({401, 403, 429})


def _decision(status: int) -> str:
    return "allow" if status < 400 else ("deny" if status in _DENY else "error")


class AuditMiddleware:
    """The edge layer. ``max_bytes=None`` and ``harden=False`` leave out those parts."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        audit: AuditLog,
        metrics: GatewayMetrics | None = None,
        max_bytes: int | None = None,
        harden: bool = False,
    ) -> None:
        self.app = app
        self.audit = audit
        self.metrics = metrics
        self.max_bytes = max_bytes
        self.harden = harden

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        max_bytes = self.max_bytes
        audited = scope["path"] not in _UNAUDITED
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        request_id = ""
        if audited:
            # Unique per log without a getrandom() call per request (see AuditLog.new_id).
            request_id = self.audit.new_id()
            state["request_id"] = request_id
        failed = False
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal failed, response_started
            if message["type"] == "http.response.start":
                response_started = True
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"server"]
                if self.harden:
                    # A sub-app's own policy (the console's CSP, cache-control) wins.
                    own = {h[0].lower() for h in headers}
                    headers.extend(h for h in self._extra(scope) if h[0] not in own)
                if audited:
                    if not await self._record(scope, int(message["status"]), started, request_id):
                        failed = True
                        await _send_503(send, self._extra(scope) if self.harden else [])
                        return
                    headers.append((b"x-request-id", request_id.encode()))
                elif self.metrics is not None:
                    self._count(scope, int(message["status"]), started)
                message = {**message, "headers": headers}
            elif failed:  # the audit failed: swallow the original response
                return
            await send(message)

        chunked = False
        if max_bytes is not None:
            for name, value in scope["headers"]:
                if name == b"content-length":
                    try:
                        declared = int(value)
                    except ValueError:
                        await problem_response(send_wrapper, 400, "Bad request")
                        return
                    if declared > max_bytes:
                        await problem_response(send_wrapper, 413, "Request body too large")
                        return
                elif name == b"transfer-encoding":
                    chunked = True
        if chunked and max_bytes is not None:
            seen = 0

            async def limited_receive() -> Message:
                nonlocal seen
                message = await receive()
                if message["type"] == "http.request":
                    seen += len(message.get("body", b""))
                    if seen > max_bytes:
                        raise TooLarge
                return message

            try:
                await self.app(scope, limited_receive, send_wrapper)
            except TooLarge:
                if not response_started:
                    await problem_response(send_wrapper, 413, "Request body too large")
            return
        await self.app(scope, receive, send_wrapper)

    @staticmethod
    def _extra(scope: Scope) -> list[tuple[bytes, bytes]]:
        headers = list(SECURITY_HEADERS)
        if scope.get("scheme") == "https":
            headers.append(HSTS)
        rl = scope.get("state", {}).get("ratelimit")
        if rl is not None and rl.limit:
            headers.append((b"ratelimit-limit", str(rl.limit).encode()))
            headers.append((b"ratelimit-remaining", str(rl.remaining).encode()))
            headers.append((b"ratelimit-reset", str(rl.reset_s).encode()))
        return headers

    def _count(self, scope: Scope, status: int, started: float) -> None:
        assert self.metrics is not None
        st = scope.get("state", {})
        route = st.get("route_id") or getattr(scope.get("route"), "path", None) or "<unmatched>"
        self.metrics.observe(route, _decision(status), time.perf_counter() - started)

    async def _record(self, scope: Scope, status: int, started: float, request_id: str) -> bool:
        path_template = getattr(scope.get("route"), "path", None) or "<unmatched>"
        decision = _decision(status)
        st = scope["state"]
        route_id = st.get("route_id", path_template)
        latency = time.perf_counter() - started
        if self.metrics is not None:
            self.metrics.observe(route_id, decision, latency)
        event = AuditEvent(
            f"{scope['method']} {path_template}",
            decision,
            st.get("principal"),
            st.get("audit_target"),
            request_id,
            tuple(st.get("findings", ())),
            st.get("input_digest"),
            {
                "status": status,
                "route": route_id,
                "tenant": st.get("tenant"),
                "reason": st.get("reason"),
                "client": st.get("client_pseudonym"),
                "latency_ms": round(latency * 1000, 3),
            },
        )
        try:
            await self.audit.append_durable(event)
        except AuditSinkError:
            logger.error("audit sink failed; refusing response")
            return False
        return True


async def _send_503(send: Send, extra: list[tuple[bytes, bytes]]) -> None:
    body: dict[str, Any] = {"type": "about:blank", "title": "Audit log unavailable", "status": 503}
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"retry-after", b"1"),
                (b"content-length", str(len(data)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
