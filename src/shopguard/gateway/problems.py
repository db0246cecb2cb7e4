"""Map errors to ``application/problem+json`` (RFC 9457), once, at the edge.

Only the error's class title and its own message (which names identifiers,
never values) reach the client; unexpected exceptions become an opaque 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from shopguard.core.errors import RateLimitedError, ShopguardError

__all__ = ["install_problem_handlers", "problem"]

logger = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
#: Seconds a client is told to wait after a 503 (a dependency restarting).
RETRY_AFTER_S = 1


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches({**request.scope, "method": next(iter(route.methods))})
            if match is Match.FULL:
                methods |= route.methods
    return sorted(methods)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ShopguardError)
    async def _shopguard(_: Request, exc: ShopguardError) -> JSONResponse:
        if isinstance(exc, RateLimitedError):
            return problem(exc.http_status, exc.title, str(exc), retry_after=exc.retry_after)
        if exc.http_status == 503:  # a dependency is down: tell clients when to come back
            logger.error("request failed: %s", type(exc).__name__)
            return problem(503, exc.title, retry_after=RETRY_AFTER_S)
        if exc.http_status >= 500:
            logger.error("request failed: %s", type(exc).__name__)
            return problem(exc.http_status, exc.title)
        return problem(exc.http_status, exc.title, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Locations and messages only: never echo the submitted values back.
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        return problem(422, "Invalid request", "request does not match the schema", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}.get(
            exc.status_code, "HTTP error"
        )
        response = problem(exc.status_code, title)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        if exc.status_code == 405:
            # RFC 9110: Allow lists every method of the resource, across all routes on its path.
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(sa_exc.InterfaceError)
    async def _storage_down(_: Request, exc: Exception) -> JSONResponse:
        # The database is unreachable (restarting, failing over): retryable, not a bug.
        logger.error("storage unavailable: %s", type(exc).__name__)
        return problem(503, "Storage unavailable", retry_after=RETRY_AFTER_S)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.error("unhandled %s", type(exc).__name__)
        return problem(500, "Internal server error")
