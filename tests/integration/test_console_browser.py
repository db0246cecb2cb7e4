"""The console in a real browser: Playwright drives Debian's headless Chromium (issue 13).

Logs in with password and TOTP, releases a quarantined review, revokes an API key
and sees the gateway refuse the next request with it, and saves screenshots under
``tests/artifacts/console/`` (checked in). The review quarantine is
``shopguard.integrity`` from another branch: until it is merged this test plugs a
test-only fake with the same interface into the console (see ``_console.py``).
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import uvicorn

from shopguard.core.events import Alert, Severity
from shopguard.core.runtime import Runtime, init_state
from shopguard.core.settings import load_settings
from shopguard.gateway.app import create_app
from shopguard.governance.roles import Role

from ._console import PASSWORD, USERS, add_staff, fake_quarantine

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "console"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    s = load_settings(home=tmp_path / ".shopguard", console_cookie_secure=False)
    init_state(s)
    rt = Runtime.open(s)
    app = create_app(s, runtime=rt)
    quarantine = fake_quarantine(rt)
    app.state.console.providers.quarantine = lambda _rt: quarantine
    secrets = add_staff(rt)
    key = app.state.keys.create(name="partner-feed", tenant="default", scopes=["metrics:read"])
    _seed(rt, s.home, app)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield {
            "base": f"http://127.0.0.1:{port}",
            "rt": rt,
            "app": app,
            "secrets": secrets,
            "key": key,
            "quarantine": quarantine,
        }
    finally:
        srv.should_exit = True
        thread.join(10)
        rt.close()


def _seed(rt: Runtime, home: Path, app: Any) -> None:
    """Something to look at: a scorecard, an incident, gateway traffic with denials."""
    (home / "scorecard.json").write_text(
        json.dumps(
            {
                "generated_at": "2026-11-26T12:00:00+00:00",
                "checks": [
                    {"id": f"{area}.check_{i}", "area": area, "status": status, "evidence": "-"}
                    for area, statuses in {
                        "api": ["pass", "pass", "pass", "fail"],
                        "privacy": ["pass", "pass"],
                        "operations": ["pass", "pass", "pass"],
                        "integrity": ["pass", "fail"],
                    }.items()
                    for i, status in enumerate(statuses)
                ],
            }
        )
    )
    rt.bus.publish(
        Alert(
            topic="monitor.extraction.enumeration",
            severity=Severity.HIGH,
            source="monitor",
            summary="one key enumerated 250 customers in 5 min",
            details={"key_id": "4f2a9c0d1e3b5a77"},
        )
    )


def _traffic(base: str, secret: str) -> None:
    with httpx.Client(base_url=base) as c:
        for i in range(12):
            c.get("/metrics", headers={"x-api-key": secret})
            if i % 3 == 0:
                c.get("/metrics", headers={"x-api-key": "sgk_0000000000000000_forged"})


def test_console_browser_when_logged_in_with_mfa_then_releases_review_and_revokes_key(
    server: dict[str, Any],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing (.ci/run installs it)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = server["base"]
    key = server["key"]
    assert httpx.get(f"{base}/metrics", headers={"x-api-key": key.secret}).status_code == 200
    _traffic(base, key.secret)
    user = USERS[Role.SECURITY_ENGINEER]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: d.accept())

        page.goto(f"{base}/console/")
        expect(page).to_have_url(f"{base}/console/login?reason=login")
        expect(page.get_by_label("User name")).to_be_focused()  # autofocus
        page.get_by_label("User name").fill(user)
        page.get_by_label("Password").fill(PASSWORD)
        page.screenshot(path=str(ARTIFACTS / "01-login.png"))
        page.get_by_label("Verification code (authenticator app)").fill(
            pyotp.TOTP(server["secrets"][Role.SECURITY_ENGINEER]).now()
        )
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{base}/console/")
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        page.keyboard.press("Tab")  # keyboard users land on the skip link first
        expect(page.locator("a.skip")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()
        page.screenshot(path=str(ARTIFACTS / "02-overview.png"), full_page=True)

        page.get_by_role("link", name="Incidents").click()
        page.get_by_role("link", name="one key enumerated", exact=False).first.click()
        expect(page.get_by_role("button", name="Revoke key")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "02b-incident.png"), full_page=True)

        page.get_by_role("link", name="Quarantine").click()
        expect(page.get_by_text("BEST PRODUCT EVER")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "03-quarantine.png"), full_page=True)
        page.get_by_label("Reason to release").first.fill("verified purchase, real customer")
        page.get_by_role("button", name="Release").first.click()
        expect(page.get_by_role("status")).to_contain_text("Record 1 released")
        page.screenshot(path=str(ARTIFACTS / "04-quarantine-released.png"), full_page=True)
        assert server["quarantine"].records[1].status == "released"

        page.get_by_role("link", name="API keys").click()
        page.get_by_role("button", name=f"Revoke key partner-feed ({key.record.key_id})").click()
        expect(page.get_by_role("status")).to_contain_text(f"Key {key.record.key_id} revoked")
        page.screenshot(path=str(ARTIFACTS / "05-key-revoked.png"), full_page=True)
        resp = httpx.get(f"{base}/metrics", headers={"x-api-key": key.secret})
        assert resp.status_code == 401

        page.get_by_role("link", name="Audit log").click()
        page.get_by_role("button", name="Verify the hash chain").click()
        expect(page.get_by_role("status")).to_contain_text("Audit chain verified")
        page.screenshot(path=str(ARTIFACTS / "06-audit-verified.png"))

        page.get_by_role("link", name="Risks").click()
        expect(page.get_by_role("img", name="Risk heat map: likelihood by impact")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "07-risks.png"), full_page=True)
        browser.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors
    actions = [r.action for r in server["rt"].audit.records() if r.principal == f"staff:{user}"]
    assert "console.quarantine_release" in actions and "console.key_revoke" in actions
    assert "console.audit_verify" in actions
