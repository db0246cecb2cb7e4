"""Incident notifications reach a real local SMTP server (aiosmtpd) and HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from shopguard.core.events import Alert, Severity
from shopguard.governance.incidents import IncidentDesk
from shopguard.governance.notify import AlertRouter, EmailSink, WebhookSink

CANARY_EMAIL = "canary.shopper.7731@example.org"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode("utf-8"))
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Mailbox]]:
    box = _Mailbox()
    port = _port()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield port, box
    finally:
        ctl.stop()


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict, bytes, str]]]]:
    got: list[tuple[dict, bytes, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            got.append((json.loads(body), body, self.headers.get("x-shopguard-signature", "")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/hooks/shopguard", got
    finally:
        srv.shutdown()
        srv.server_close()


def test_routing_when_high_incident_opens_then_email_and_signed_webhook_delivered(
    runtime, smtp, receiver
):
    port, box = smtp
    url, got = receiver
    key = b"k" * 32
    router = AlertRouter(
        [
            WebhookSink(url, signing_key=key),
            EmailSink(
                "127.0.0.1",
                port,
                sender="shopguard@store.test",
                recipients=["oncall@store.test"],
                starttls=False,
            ),
        ],
        min_severity=Severity.HIGH,
    )
    desk = IncidentDesk.from_runtime(runtime, router=router, group_window=timedelta(hours=1))
    desk.attach(runtime.bus)
    runtime.bus.publish(
        Alert(
            "modelsec.extraction.suspected",
            Severity.HIGH,
            "modelsec",
            "extraction suspected",
            details={"key_id": "k1"},
        )
    )
    assert all(d.ok for d in desk.deliveries), desk.deliveries
    (payload, body, sig) = got[0]
    assert payload["threat"] == "extraction" and payload["steps"][0]["id"] == "revoke-key"
    assert sig == "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    assert box.messages[0][0] == "shopguard@store.test"
    _, rcpts, content = box.messages[0]
    assert rcpts == ["oncall@store.test"] and "extraction" in content
    assert "[ ] contain: Revoke the API key" in content
    kinds = [e.kind for e in desk.timeline(payload["id"])]
    assert kinds.count("routed") == 2


def test_routing_when_receiver_down_then_failure_recorded_not_raised(runtime):
    dead = f"http://127.0.0.1:{_port()}/nothing-listens"
    router = AlertRouter([WebhookSink(dead, timeout=1)], min_severity=Severity.INFO)
    desk = IncidentDesk.from_runtime(runtime, router=router)
    desk.attach(runtime.bus)
    runtime.bus.publish(Alert("gateway.guard.failed", Severity.HIGH, "gateway", "guard failed"))
    assert desk.deliveries[0].ok is False
    (inc,) = desk.incidents()
    assert any("FAILED" in e.summary for e in desk.timeline(inc.id))


def test_routing_when_smtp_relay_lacks_starttls_then_email_not_sent_in_clear(runtime, smtp):
    port, box = smtp
    sink = EmailSink("127.0.0.1", port, sender="a@b.test", recipients=["c@d.test"])
    router = AlertRouter([sink], min_severity=Severity.INFO)
    out = router.route("subject", {"id": 1})
    assert out[0].ok is False and box.messages == []


def test_canary_when_alert_details_hold_personal_data_then_not_in_audit(runtime, receiver):
    url, got = receiver
    desk = IncidentDesk.from_runtime(runtime, router=AlertRouter([WebhookSink(url)]))
    desk.attach(runtime.bus)
    runtime.bus.publish(
        Alert("privacy.leak", Severity.HIGH, "privacy", f"leak of {CANARY_EMAIL}", details={})
    )
    runtime.audit.close()
    assert all(CANARY_EMAIL not in json.dumps(r.to_json()) for r in runtime.audit.records())
    assert got and all(CANARY_EMAIL not in body.decode() for _, body, _ in got)
    (inc,) = desk.incidents()
    assert CANARY_EMAIL not in desk.report(inc.id)
