"""Pure-ASGI hardening: request body limit (413) and response security headers.

Pure ASGI rather than ``BaseHTTPMiddleware`` (STYLE.md: the latter costs most of
FastAPI's throughput).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "HSTS",
    "SECURITY_HEADERS",
    "BodyLimit",
    "SecurityHeaders",
    "TooLarge",
    "problem_response",
]

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"interest-cohort=()"),
]
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class TooLarge(Exception):
    """The request body grew past the limit while streaming."""


async def problem_response(send: Send, status: int, title: str) -> None:
    """A problem+json response that closes the connection (the body may not have been read)."""
    data = json.dumps({"type": "about:blank", "title": title, "status": status}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(data)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, by header or while streaming."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await problem_response(send, 400, "Bad request")
                    return
                if declared > self.max_bytes:
                    await problem_response(send, 413, "Request body too large")
                    return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except TooLarge:
            if not started:
                await problem_response(send, 413, "Request body too large")


class SecurityHeaders:
    """Add security headers, ``RateLimit-*`` headers and HSTS (over HTTPS) to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"server"]
                own = {h[0].lower() for h in headers}  # a sub-app's own policy (the console) wins
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in own)
                if scope.get("scheme") == "https":
                    headers.append(HSTS)
                rl = scope.get("state", {}).get("ratelimit")
                if rl is not None and rl.limit:
                    headers.append((b"ratelimit-limit", str(rl.limit).encode()))
                    headers.append((b"ratelimit-remaining", str(rl.remaining).encode()))
                    headers.append((b"ratelimit-reset", str(rl.reset_s).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_wrapper)
