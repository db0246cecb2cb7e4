"""``shopguard demo`` end to end (small store), then the commands a user runs afterwards."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from shopguard.cli import main

pytestmark = pytest.mark.slow

AREAS = {
    "api",
    "privacy",
    "integrity",
    "model_theft",
    "adversarial",
    "assistant",
    "supply_chain",
    "compliance",
    "fairness",
    "operations",
    "monitoring",
}


def test_demo_when_run_then_report_and_passing_scorecard_and_state_explorable(
    tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    code = main(["demo", "--customers", "1500", "--requests", "10", "--out", str(out)])
    captured = capsys.readouterr()
    assert (out / "scorecard.json").is_file(), captured.err[-3000:]
    card = json.loads((out / "scorecard.json").read_text())
    # 1,500 customers leave too few frauds after day 45 to measure evasion: that one check says
    # so and is skipped (it passes on the default store; tests/unit/adversarial/test_fraud_evasion)
    too_small = {
        c["id"]
        for c in card["checks"]
        if c["id"] == "adversarial.fraud_evasion_hardened"
        and c["status"] == "skipped"
        and c["evidence"].startswith("store too small to measure evasion")
    }
    failing = [
        (c["id"], c["status"], c["evidence"])
        for c in card["checks"]
        if c["status"] != "pass" and c["id"] not in too_small
    ]
    assert code == 0 and not failing, failing
    assert card["version"] == 1
    datetime.fromisoformat(card["generated_at"])
    ids = {c["id"] for c in card["checks"]}
    assert {"operations.audit_log_intact", "operations.audit_tamper_detected"} <= ids
    assert {
        "api.no_credentials_refused",
        "api.flood_rate_limited",
        "api.cross_tenant_read_refused",
    } <= ids
    for c in card["checks"]:
        assert set(c) == {"id", "area", "title", "status", "figure", "evidence"}
        assert c["area"] in AREAS
        assert c["status"] == "pass" or c["id"] in too_small, c
        if c["figure"] is not None:
            assert set(c["figure"]) == {"name", "value", "bar"}
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3 and "Scorecard" in html
    # The red-team suite ran against the demo's own gateway, attacks included.
    assert "Red team:" in html and (out / "redteam" / "report.html").is_file()
    assert {f"attack.extraction.{f}" for f in ("knockoff", "camouflaged")} <= ids
    # The demo's state stays in .shopguard/ for the commands a user runs next.
    assert main(["audit", "verify"]) == 0
    assert (tmp_path / ".shopguard" / "models" / "fraud").is_dir()
    for secret in ("sgk_",):
        assert secret not in html and secret not in (out / "scorecard.json").read_text()


def test_demo_when_out_is_a_file_then_exit_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["demo", "--out", str(tmp_path / "file")]) == 2
    assert "not a directory" in capsys.readouterr().err
