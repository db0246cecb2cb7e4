"""``shopguard staff|ops|incident|risk|monitor`` through ``main(argv)`` and exit codes."""

from __future__ import annotations

import io
import json
import re
import sys

import pyotp
import pytest

from shopguard.cli import main
from shopguard.core.events import Alert, Severity
from shopguard.core.runtime import Runtime
from shopguard.core.settings import load_settings
from shopguard.gateway.keys import ApiKeyStore
from shopguard.governance.gateway_hook import desk_for

PW = "tulip-harbour-47-quietly"


def _stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text + "\n"))


@pytest.fixture
def home(capsys):
    assert main(["init"]) == 0
    capsys.readouterr()


def test_staff_when_admin_enrols_mfa_then_login_needs_code_and_replay_refused(
    home, capsys, monkeypatch
):
    _stdin(monkeypatch, PW)
    assert (
        main(["staff", "add", "root", "--name", "Root", "--role", "admin", "--password-stdin"]) == 0
    )
    _stdin(monkeypatch, PW)
    assert main(["staff", "login", "root", "--password-stdin"]) == 2
    assert "multi-factor" in capsys.readouterr().err
    assert main(["staff", "enable-mfa", "root"]) == 0
    out = capsys.readouterr().out
    secret = re.search(r"secret: (\S+)", out).group(1)
    assert len(re.search(r"recovery codes: (.+)", out).group(1).split()) == 10
    totp = pyotp.TOTP(secret)
    assert (
        main(["staff", "confirm-mfa", "root", "000000" if totp.now() != "000000" else "111111"])
        == 2
    )
    assert main(["staff", "confirm-mfa", "root", totp.now()]) == 0
    capsys.readouterr()
    # The confirming code was used: the same code is a replay.
    _stdin(monkeypatch, PW)
    assert main(["staff", "login", "root", "--code", totp.now(), "--password-stdin"]) == 2
    assert "already used" in capsys.readouterr().err
    assert main(["staff", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["mfa"] is True and row["role"] == "admin"
    assert main(["staff", "disable", "root"]) == 2  # the last admin
    assert "last enabled admin" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "stdin"),
    [
        (
            ["staff", "add", "bob", "--name", "Bob", "--role", "analyst", "--password-stdin"],
            "password1234",
        ),
        (["staff", "add", "bob", "--name", "Bob", "--role", "wizard", "--password-stdin"], PW),
        (["staff", "add", "Bob!", "--name", "Bob", "--role", "analyst", "--password-stdin"], PW),
        (["staff", "confirm-mfa", "nobody", "123456"], ""),
    ],
)
def test_staff_when_bad_input_then_exit_2_one_line(home, capsys, monkeypatch, argv, stdin):
    _stdin(monkeypatch, stdin)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "password1234" not in err


def test_access_review_when_key_unowned_then_flagged_and_revoke_recorded(home, capsys, monkeypatch):
    _stdin(monkeypatch, PW)
    assert (
        main(["staff", "add", "sam", "--name", "Sam", "--role", "analyst", "--password-stdin"]) == 0
    )
    rt = Runtime.open(load_settings())
    try:
        key = ApiKeyStore(rt.engine, rt.keyring).create(
            name="batch", tenant="default", scopes=["*"]
        )
    finally:
        rt.close()
    capsys.readouterr()
    assert main(["ops", "access-review", "--json"]) == 0
    entries = {e["subject"]: e for e in json.loads(capsys.readouterr().out)}
    k = entries[f"key:{key.record.key_id}"]
    assert {"orphaned", "over_privileged"} <= set(k["flags"]) and k["last_used"] is None
    assert "staff:sam" in entries
    assert (
        main(
            [
                "ops",
                "access-review",
                "decide",
                f"key:{key.record.key_id}",
                "revoke",
                "--reviewer",
                "sam",
            ]
        )
        == 0
    )
    assert (
        main(["ops", "access-review", "decide", "staff:sam", "approve", "--reviewer", "sam"]) == 2
    )
    assert "own access" in capsys.readouterr().err
    assert main(["keys", "list"]) == 0
    assert "revoked" in capsys.readouterr().out


def test_incident_when_alert_then_listed_contained_reported(home, capsys, tmp_path):
    rt = Runtime.open(load_settings())
    try:
        key = ApiKeyStore(rt.engine, rt.keyring).create(
            name="s", tenant="default", scopes=["fraud:score"]
        )
        desk_for(rt)
        rt.bus.publish(
            Alert(
                "modelsec.extraction.suspected",
                Severity.HIGH,
                "test",
                "scraping",
                details={"key_id": key.record.key_id},
            )
        )
    finally:
        rt.close()
    assert main(["incident", "list", "--json"]) == 0
    (inc,) = json.loads(capsys.readouterr().out)
    assert inc["threat"] == "extraction" and inc["steps"][0]["id"] == "revoke-key"
    assert (
        main(["incident", "act", str(inc["id"]), "revoke-key", "--target", key.record.key_id]) == 0
    )
    assert main(["incident", "act", str(inc["id"]), "review-limits", "--target", "x"]) == 2
    assert main(["incident", "done", str(inc["id"]), "review-limits"]) == 0
    assert main(["incident", "show", str(inc["id"])]) == 0
    assert "[x] contain: Revoke" in capsys.readouterr().out
    report = tmp_path / "report.md"
    assert main(["incident", "report", str(inc["id"]), "--out", str(report)]) == 0
    assert "revoked API key" in report.read_text()
    assert main(["incident", "overdue"]) == 0
    assert main(["incident", "report", "999"]) == 2


def test_risk_assess_when_scorecard_given_then_ranked_with_heatmap(home, capsys, tmp_path):
    card = tmp_path / "scorecard.json"
    card.write_text(json.dumps({"checks": [{"id": "operations.privileged_mfa", "status": "fail"}]}))
    out = tmp_path / "risk"
    assert main(["risk", "assess", "--scorecard", str(card), "--out", str(out), "--json"]) == 0
    ranked = json.loads(capsys.readouterr().out)
    assert ranked[0]["residual"] >= ranked[-1]["residual"]
    insider = next(r for r in ranked if r["risk_id"] == "R-INSIDER")
    assert insider["controls"][0]["failing"] == ["operations.privileged_mfa"]
    assert (out / "risk-heatmap.png").exists() and (out / "risk-register.html").exists()
    bad = tmp_path / "bad.json"
    bad.write_text("nope")
    assert main(["risk", "assess", "--scorecard", str(bad)]) == 2


def test_monitor_check_rules_when_malformed_then_exit_2_naming_rule(home, capsys, tmp_path):
    assert main(["monitor", "check-rules"]) == 0
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m])\n"
        "        labels: {severity: high}\n        annotations: {summary: s}\n"
    )
    capsys.readouterr()
    assert main(["monitor", "check-rules", str(bad)]) == 2
    assert "rule Broken: expr" in capsys.readouterr().err
    rt = Runtime.open(load_settings())
    try:
        rt.audit.close()
        (rec,) = [r for r in rt.audit.records() if r.action == "monitor.rules.load"]
    finally:
        rt.close()
    assert rec.decision == "deny" and "Broken" in rec.findings[0]


def test_training_status_when_missing_then_exit_1_and_recorded_then_ok(home, capsys, monkeypatch):
    _stdin(monkeypatch, PW)
    assert (
        main(["staff", "add", "ann", "--name", "Ann", "--role", "auditor", "--password-stdin"]) == 0
    )
    assert main(["ops", "training", "status"]) == 1
    for course in ("security-awareness", "privacy-gdpr"):
        assert main(["ops", "training", "record", "ann", course]) == 0
    assert main(["ops", "training", "record", "ann", "juggling"]) == 2
    assert main(["ops", "drill", "tabletop", "data_breach", "--record"]) == 0
    assert "72 hours" in capsys.readouterr().out
    # The live drill has never run: still overdue.
    assert main(["ops", "training", "status", "--json"]) == 1
    status = json.loads(capsys.readouterr().out)
    assert all(s["state"] == "ok" for s in status["training"])
    assert status["drills"]["live"]["overdue"] is True


def test_monitor_run_when_gateway_metrics_served_then_rounds_evaluated(home, capsys, monkeypatch):
    import http.server
    import threading

    body = (
        b"# TYPE shopguard_gateway_requests counter\n"
        b'shopguard_gateway_requests_total{route="fraud.score",decision="allow"} 10\n'
    )
    seen_keys: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen_keys.append(self.headers.get("x-api-key", ""))
            self.send_response(200)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        assert main(["monitor", "run", "--url", url, "--rounds", "1"]) == 2
        assert "SHOPGUARD_METRICS_KEY" in capsys.readouterr().err
        monkeypatch.setenv("SHOPGUARD_METRICS_KEY", "sgk_test")
        assert main(["monitor", "run", "--url", url, "--rounds", "2", "--interval", "0.5"]) == 0
        assert "round 2: 0 alerts firing" in capsys.readouterr().err
        assert seen_keys == ["sgk_test", "sgk_test"]
    finally:
        srv.shutdown()
        srv.server_close()
