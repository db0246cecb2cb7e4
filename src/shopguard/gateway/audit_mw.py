"""Pure-ASGI audit guard: every request's decision is durable before its response starts.

Pure ASGI rather than ``BaseHTTPMiddleware`` (which costs FastAPI most of its
throughput, see STYLE.md). The entry is group-committed with concurrent ones;
if it cannot be made durable the client gets a 503 instead of the response
(fail closed).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shopguard.core.audit import AuditEvent, AuditLog
from shopguard.core.errors import AuditSinkError
from shopguard.gateway.metrics import GatewayMetrics

__all__ = ["AuditMiddleware"]

logger = logging.getLogger(__name__)
_UNAUDITED = frozenset({"/healthz"})


class AuditMiddleware:
    def __init__(
        self, app: ASGIApp, *, audit: AuditLog, metrics: GatewayMetrics | None = None
    ) -> None:
        self.app = app
        self.audit = audit
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNAUDITED:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # Unique per log without a getrandom() call per request (see AuditLog.new_id).
        request_id = self.audit.new_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        held: list[Message] = []
        recorded = False

        async def record(status: int) -> bool:
            route = scope.get("route")
            path_template = getattr(route, "path", None) or "<unmatched>"
            decision = (
                "allow" if status < 400 else ("deny" if status in (401, 403, 429) else "error")
            )
            st = scope.get("state", {})
            latency = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.observe(st.get("route_id", path_template), decision, latency)
            event = AuditEvent(
                action=f"{scope['method']} {path_template}",
                decision=decision,
                principal=st.get("principal"),
                target=st.get("audit_target"),
                request_id=request_id,
                findings=tuple(st.get("findings", ())),
                input_digest=st.get("input_digest"),
                details={
                    "status": status,
                    "route": st.get("route_id", path_template),
                    "tenant": st.get("tenant"),
                    "reason": st.get("reason"),
                    "client": st.get("client_pseudonym"),
                    "latency_ms": round(latency * 1000, 3),
                },
            )
            try:
                await self.audit.append_async(event)
            except AuditSinkError:
                logger.error("audit sink failed; refusing response")
                return False
            return True

        async def send_wrapper(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                if not await record(int(message["status"])):
                    await _send_503(send)
                    held.append({"type": "failed"})
                    return
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            if held:  # the audit failed: swallow the original response
                return
            await send(message)

        await self.app(scope, receive, send_wrapper)


async def _send_503(send: Send) -> None:
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
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
