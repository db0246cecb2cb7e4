"""An HTTP client for live checks that waits out 429s.

A check judges one control (authentication, parsing, an image guard); the rate limit is judged
by its own check, which a red-team run may have just run on the same key. Waiting out the
429s it left behind keeps one control's verdict from being another's side effect.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

__all__ = ["PatientTransport", "patient_client"]

_RETRIES = 20
_MAX_WAIT_S = 2.0


class PatientTransport(httpx.HTTPTransport):
    """Resends a request answered 429, after its Retry-After (at most 20 retries of <= 2 s)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        for _ in range(_RETRIES):
            if response.status_code != 429:
                break
            try:
                wait = float(response.headers.get("retry-after") or 0.5)
            except ValueError:
                wait = 0.5
            response.read()
            response.close()
            time.sleep(min(max(wait, 0.05), _MAX_WAIT_S))
            response = super().handle_request(request)
        return response


def patient_client(base_url: str, **kwargs: Any) -> httpx.Client:
    """``httpx.Client`` on :class:`PatientTransport` (timeout 30 s unless given)."""
    kwargs.setdefault("timeout", 30)
    return httpx.Client(base_url=base_url, transport=PatientTransport(), **kwargs)
