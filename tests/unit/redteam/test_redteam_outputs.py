"""The run's artefacts: SARIF 2.1.0 shape, JUnit, history and diff, the report, the CLI around them."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from shopguard.cli import main
from shopguard.core.scorecard import Area, CheckResult, Figure, Scorecard, Status
from shopguard.redteam._registry import Finding
from shopguard.redteam.outputs import diff, history, to_junit, to_sarif, write_outputs
from shopguard.redteam.runner import RunResult

# The parts of the SARIF 2.1.0 schema (docs.oasis-open.org/sarif/sarif/v2.1.0) that
# code-scanning uploads rely on: version, runs[].tool.driver.name, rules, results with
# ruleId, message.text, a level from the enum, and well-formed locations.
SARIF_MIN_SCHEMA = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "shortDescription": {
                                                    "type": "object",
                                                    "required": ["text"],
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": {
                                    "type": "object",
                                    "required": ["text"],
                                    "properties": {"text": {"type": "string"}},
                                },
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "required": ["uri"],
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "properties": {
                                                            "startLine": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            }
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _result(run_id: str, flood: Status, *, at: datetime = T0) -> RunResult:
    results = (
        CheckResult(
            "api.flood_rate_limited",
            Area.API,
            "Flood: 429",
            flood,
            Figure("served_in_first_window", 60 if flood is Status.FAIL else 20, 40),
            "burst",
        ),
        CheckResult(
            "api.no_credentials_refused", Area.API, "No credentials", Status.PASS, None, "401"
        ),
        CheckResult(
            "privacy.no_pii_in_logs",
            Area.PRIVACY,
            "No PII in logs",
            Status.SKIPPED,
            None,
            "needs runtime (local-only)",
        ),
        CheckResult(
            "attack.extraction.knockoff",
            Area.MODEL_THEFT,
            "Knockoff",
            Status.PASS,
            Figure("queries_to_block", 51, 400),
            "blocked",
        ),
    )
    finding = Finding(
        "extraction.knockoff",
        "modelsec.extraction_watch",
        "queries_to_block",
        51,
        400,
        True,
        {"alarm_at": 21, "blocked_at": 51, "fidelity_at_alarm": 0.33, "fidelity_at_stop": 0.35},
    )
    return RunResult(
        run_id=run_id,
        target="http://127.0.0.1:9",
        started_at=at,
        scorecard=Scorecard(at, results),
        findings={"extraction.knockoff": finding},
        queries=120,
        budget=500,
        seconds=3.0,
        extras={"roc_curves": {"injection detector": ([0, 0.1, 1], [0, 0.9, 1])}},
    )


def test_sarif_when_a_check_fails_then_valid_2_1_0_with_one_error_result() -> None:
    sarif = to_sarif(_result("rt-20261101T090000Z-aaaaaa", Status.FAIL))
    jsonschema.validate(sarif, SARIF_MIN_SCHEMA)
    (run,) = sarif["runs"]
    assert [r["ruleId"] for r in run["results"]] == ["api.flood_rate_limited"]
    assert run["results"][0]["level"] == "error"
    assert "rate_limit" in run["results"][0]["message"]["text"]  # the recommended fix
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= {"api.no_credentials_refused"}


def test_sarif_min_schema_when_level_invalid_then_rejected() -> None:
    sarif = to_sarif(_result("rt-20261101T090000Z-aaaaaa", Status.FAIL))
    sarif["runs"][0]["results"][0]["level"] = "catastrophic"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(sarif, SARIF_MIN_SCHEMA)


def test_junit_when_fail_and_skip_then_counted_per_area_suite() -> None:
    root = ET.fromstring(to_junit(_result("rt-20261101T090000Z-aaaaaa", Status.FAIL)))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert suites["api"].get("failures") == "1" and suites["api"].get("tests") == "2"
    assert suites["privacy"].get("skipped") == "1"
    assert root.find(".//testcase[@name='api.flood_rate_limited']/failure") is not None


def test_diff_when_check_regresses_then_reported_per_check_and_area() -> None:
    a = _result("rt-20261101T090000Z-aaaaaa", Status.PASS)
    b = _result("rt-20261102T090000Z-bbbbbb", Status.FAIL, at=T0 + timedelta(days=1))
    changes, per_area = diff(
        {"meta": a.meta(), "scorecard": a.scorecard.to_json()},
        {"meta": b.meta(), "scorecard": b.scorecard.to_json()},
    )
    kinds = {c.id: c.kind for c in changes}
    assert kinds["api.flood_rate_limited"] == "regression"
    assert kinds["api.no_credentials_refused"] == "same"
    assert per_area["api"]["regression"] == 1 and per_area["model_theft"]["regression"] == 0
    back, _ = diff(
        {"meta": b.meta(), "scorecard": b.scorecard.to_json()},
        {"meta": a.meta(), "scorecard": a.scorecard.to_json()},
    )
    assert {c.id: c.kind for c in back}["api.flood_rate_limited"] == "improvement"


def _two_runs(tmp_path: Path) -> tuple[Path, Path]:
    hist = tmp_path / "home" / "redteam"
    write_outputs(
        _result("rt-20261101T090000Z-aaaaaa", Status.PASS), tmp_path / "a", history_dir=hist
    )
    write_outputs(
        _result("rt-20261102T090000Z-bbbbbb", Status.FAIL, at=T0 + timedelta(days=1)),
        tmp_path / "b",
        history_dir=hist,
    )
    return hist, tmp_path / "b" / "report.html"


def test_report_when_history_then_one_page_with_areas_fix_plots_and_trend(tmp_path: Path) -> None:
    hist, report = _two_runs(tmp_path)
    assert [r["meta"]["run_id"] for r in history(hist)] == [
        "rt-20261101T090000Z-aaaaaa",
        "rt-20261102T090000Z-bbbbbb",
    ]
    page = report.read_text()
    assert "Fix: " in page and "regression" in page
    assert page.count("data:image/png;base64,") == 3  # extraction, ROC, over time
    assert "@media print" in page
    card = json.loads((tmp_path / "b" / "scorecard.json").read_text())
    assert card["version"] == 1 and len(card["checks"]) == 4


def test_cli_diff_when_regression_then_exit_1_and_unknown_run_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hist, _ = _two_runs(tmp_path)
    args = ["redteam", "diff", "--history", str(hist)]
    assert main([*args, "rt-20261101T090000Z-aaaaaa", "rt-20261102T090000Z-bbbbbb"]) == 1
    assert "regression" in capsys.readouterr().out
    assert main([*args, "rt-20261102T090000Z-bbbbbb", "rt-20261101T090000Z-aaaaaa"]) == 0
    assert main([*args, "previous", "latest"]) == 1
    assert main([*args, "../../etc/passwd", "latest"]) == 2


def test_cli_run_when_usage_wrong_then_exit_2(tmp_path: Path) -> None:
    assert main(["redteam", "run", "--target", "ftp://x", "--key", "k"]) == 2
    assert main(["redteam", "run", "--target", "http://x", "--key", "k", "--only", "nope"]) == 2
    assert main(["redteam", "run", "--target", "http://x"]) == 2  # no key
    assert main(["redteam", "run", "--target", "http://x", "--key", "k", "--budget", "0"]) == 2
    bad = tmp_path / "keys.json"
    bad.write_text("{not json")
    assert main(["redteam", "run", "--target", "http://x", "--keys-file", str(bad)]) == 2


def test_cli_list_when_json_then_attacks_and_checks_with_area_control_bar(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["redteam", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in rows}
    assert by_name["extraction.knockoff"]["control"] == "modelsec.extraction_watch"
    assert by_name["api.flood_rate_limited"]["kind"] == "check"
    assert all(r["area"] and r["bar"] for r in rows)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _chromium(*args: str) -> None:
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.slow
def test_report_when_opened_in_headless_chromium_then_renders_and_prints_to_pdf(
    tmp_path: Path,
) -> None:
    from PIL import Image

    _, report = _two_runs(tmp_path)
    shot, pdf = tmp_path / "shot.png", tmp_path / "report.pdf"
    _chromium(f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri())
    _chromium(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", report.as_uri())
    img = Image.open(shot).convert("RGB")
    assert img.size == (1200, 1600)
    colours = img.getcolors(maxcolors=1_000_000) or []
    # Rendered, not blank: many colours, and the status badges' red and green are on screen.
    assert len(colours) > 50
    near = {
        name: any(abs(c[1][0] - r) + abs(c[1][1] - g) + abs(c[1][2] - b) < 30 for c in colours)
        for name, (r, g, b) in {"fail": (198, 40, 40), "pass": (46, 125, 50)}.items()
    }
    assert near == {"fail": True, "pass": True}
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000
