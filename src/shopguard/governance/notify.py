"""Alert routing: incidents to webhooks (JSON over HTTPS, signed) and e-mail (SMTP).

A webhook body is JSON describing the incident (ids, threat, severity, counts,
deadlines: never personal data). When a signing key is given the request
carries ``X-Shopguard-Signature: sha256=<hex HMAC of the body>`` so the receiver
can check it came from shopguard. E-mail goes through ``smtplib`` with STARTTLS
required unless turned off explicitly (a local test relay). A delivery that fails
is reported in the result, never raised: one broken route does not stop the others.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

from shopguard.core.errors import ConfigError
from shopguard.core.events import Severity
from shopguard.core.settings import Settings

__all__ = ["AlertRouter", "Delivery", "EmailSink", "Sink", "WebhookSink", "severity_rank"]

logger = logging.getLogger(__name__)

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


def severity_rank(severity: str) -> int:
    return _RANK[Severity(severity)]


@dataclass(frozen=True)
class Delivery:
    sink: str
    ok: bool
    error: str | None = None


class Sink(Protocol):
    name: str

    def send(self, subject: str, payload: Mapping[str, Any]) -> None: ...


class WebhookSink:
    """POST the payload as JSON to ``url`` (HTTP 2xx is success)."""

    def __init__(
        self,
        url: str,
        *,
        signing_key: bytes | None = None,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("https", "http") or not parsed.host:
            raise ConfigError("webhook URL must be https://host/...")
        if parsed.scheme == "http" and parsed.host not in _LOOPBACK:
            # SECURITY: incident details go over TLS unless the receiver is on this machine.
            raise ConfigError(f"webhook to {parsed.host} must use https")
        self.url = url
        self.name = f"webhook:{parsed.host}"
        self._key = signing_key
        self._timeout = timeout
        self._transport = transport

    def send(self, subject: str, payload: Mapping[str, Any]) -> None:
        body = json.dumps({"subject": subject, **payload}, sort_keys=True, default=str).encode()
        headers = {"content-type": "application/json", "user-agent": "shopguard-alerts"}
        if self._key is not None:
            sig = hmac.new(self._key, body, hashlib.sha256).hexdigest()
            headers["x-shopguard-signature"] = f"sha256={sig}"
        with httpx.Client(
            timeout=self._timeout, transport=self._transport, follow_redirects=False
        ) as client:
            resp = client.post(self.url, content=body, headers=headers)
        if not 200 <= resp.status_code < 300:
            raise RuntimeError(f"webhook answered HTTP {resp.status_code}")


class EmailSink:
    """Send a plain-text e-mail through an SMTP relay."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        recipients: Sequence[str],
        starttls: bool = True,
        timeout: float = 10.0,
    ) -> None:
        if not recipients:
            raise ConfigError("e-mail routing needs at least one recipient")
        self.host, self.port = host, port
        self.sender = sender
        self.recipients = list(recipients)
        self.starttls = starttls
        self.timeout = timeout
        self.name = f"email:{host}:{port}"

    def send(self, subject: str, payload: Mapping[str, Any]) -> None:
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        lines = [f"{k}: {v}" for k, v in payload.items() if not isinstance(v, (list, dict))]
        steps = payload.get("steps") or []
        if steps:
            lines.append("")
            lines.append("playbook:")
            lines += [
                f"  [{'x' if s.get('done') else ' '}] {s['phase']}: {s['title']}" for s in steps
            ]
        msg.set_content("\n".join(lines) + "\n")
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                # SECURITY: refuse to send incident details over a relay without TLS.
                smtp.starttls(context=ssl.create_default_context())
            smtp.send_message(msg)


class AlertRouter:
    """Send incident notifications at or above ``min_severity`` to every sink."""

    def __init__(self, sinks: Sequence[Sink], *, min_severity: Severity = Severity.HIGH) -> None:
        self.sinks = list(sinks)
        self.min_severity = Severity(min_severity)

    @classmethod
    def from_settings(cls, settings: Settings, *, signing_key: bytes | None = None) -> AlertRouter:
        sinks: list[Sink] = [
            WebhookSink(u, signing_key=signing_key) for u in settings.ops_alert_webhooks
        ]
        if settings.ops_smtp_host and settings.ops_alert_email_to:
            sinks.append(
                EmailSink(
                    settings.ops_smtp_host,
                    settings.ops_smtp_port,
                    sender=settings.ops_smtp_from,
                    recipients=settings.ops_alert_email_to,
                    starttls=settings.ops_smtp_starttls,
                )
            )
        return cls(sinks, min_severity=Severity(settings.ops_alert_min_severity))

    def wants(self, severity: str) -> bool:
        return severity_rank(severity) >= _RANK[self.min_severity]

    def route(self, subject: str, payload: Mapping[str, Any]) -> list[Delivery]:
        out = []
        for sink in self.sinks:
            try:
                sink.send(subject, payload)
                out.append(Delivery(sink.name, True))
            except Exception as exc:  # one broken route never stops the others
                logger.warning("alert delivery to %s failed: %s", sink.name, type(exc).__name__)
                out.append(Delivery(sink.name, False, type(exc).__name__))
        return out
