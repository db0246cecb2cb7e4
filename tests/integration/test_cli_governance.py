"""Supply-chain and compliance commands through main(argv): outputs and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import shopguard.cli as cli
from shopguard.governance.vendors import QUESTIONS, Answer

FIXTURES = Path(__file__).resolve().parents[1] / "unit" / "governance" / "fixtures"
ADVISORIES = FIXTURES / "osv-real-advisories.json"
GOOD = {q.id: (Answer.YES if q.good is Answer.YES else Answer.NO).value for q in QUESTIONS}


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / ".shopguard"
    monkeypatch.setenv("SHOPGUARD_HOME", str(home))
    assert cli.main(["init"]) == 0
    return home


def _fake_dist(root: Path, name: str, version: str) -> None:
    info = root / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text(f"{name}-{version}.dist-info/METADATA,,\n")


def test_sbom_when_run_then_valid_file_and_validate_accepts_it(home, tmp_path, capsys):
    out = tmp_path / "bom.json"
    assert cli.main(["sbom", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["specVersion"] == "1.6"
    assert any(c.get("purl", "").startswith("pkg:pypi/pip-audit@") for c in doc["components"])
    assert cli.main(["sbom", "--validate", str(out)]) == 0


def test_sbom_validate_when_malformed_then_exit_2_one_line(home, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"bomFormat": "SPDX"}')
    assert cli.main(["sbom", "--validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json" in err[0] and "CycloneDX" in err[0]


def test_audit_deps_when_vulnerable_requests_installed_then_exit_1_with_fix(
    home, tmp_path, monkeypatch, capsys
):
    site = tmp_path / "site"
    _fake_dist(site, "requests", "2.19.0")
    monkeypatch.syspath_prepend(str(site))
    report = tmp_path / "deps.json"
    code = cli.main(["audit", "deps", "--advisories", str(ADVISORIES), "--json", str(report)])
    assert code == 1
    [finding] = json.loads(report.read_text())["findings"]
    assert finding["package"] == "requests" and finding["version"] == "2.19.0"
    assert finding["fix_versions"] == ["2.20.0"] and finding["severity"] == "critical"
    assert "GHSA-x84v-xcm2-53pg" in {finding["id"], *finding["aliases"]}
    assert "1 at or above high" in capsys.readouterr().out


def test_audit_deps_when_installed_versions_fixed_then_exit_0(home, capsys):
    # The real environment: requests and urllib3 are far past both advisories' fixes.
    assert cli.main(["audit", "deps", "--advisories", str(ADVISORIES)]) == 0
    assert "0 known vulnerabilities" in capsys.readouterr().out


def test_audit_deps_when_bar_above_finding_then_exit_0(home, tmp_path, monkeypatch):
    site = tmp_path / "site"
    _fake_dist(site, "urllib3", "1.26.4")  # a high (7.5) finding
    monkeypatch.syspath_prepend(str(site))
    args = ["audit", "deps", "--advisories", str(ADVISORIES)]
    assert cli.main([*args, "--fail-on", "critical"]) == 0
    assert cli.main([*args, "--fail-on", "high"]) == 1


def test_audit_deps_when_advisory_file_wrong_format_then_exit_2(home, tmp_path, capsys):
    bad = tmp_path / "advisories.json"
    bad.write_text('{"advisories": 3}')
    assert cli.main(["audit", "deps", "--advisories", str(bad)]) == 2
    assert "advisories.json" in capsys.readouterr().err
    assert cli.main(["audit", "deps", "--advisories", str(ADVISORIES), "--fail-on", "x"]) == 2


def test_audit_config_when_default_state_then_clean_and_wildcard_cors_fails(
    home, monkeypatch, capsys
):
    assert cli.main(["audit", "config"]) == 0
    monkeypatch.setenv("SHOPGUARD_GATEWAY_CORS_ORIGINS", '["*"]')
    assert cli.main(["audit", "config"]) == 1
    assert "cors.wildcard" in capsys.readouterr().out


def test_vendors_when_added_assessed_and_incident_then_rating_rises(home, tmp_path, capsys):
    add = [
        "vendors", "add", "llm", "--name", "Example LLM API", "--supplies", "hosted LLM",
        "--personal-data", "free_text", "--model", "assistant",
        "--breach-notification-hours", "48", "--cert", "ISO/IEC 27001:2099-01-01",
        *[x for c in ("security_requirements", "breach_notification", "data_processing_agreement",
                      "audit_rights", "subprocessor_approval", "deletion_on_exit")
          for x in ("--clause", c)],
    ]  # fmt: skip
    assert cli.main(add) == 0
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(GOOD))
    assert cli.main(["vendors", "assess", "llm", "--answers", str(answers)]) == 0
    capsys.readouterr()
    assert cli.main(["vendors", "list", "--json"]) == 0
    before = json.loads(capsys.readouterr().out)[0]["rating"]["risk"]
    assert (
        cli.main(["vendors", "incident", "llm", "--severity", "critical", "--summary", "leak"]) == 0
    )
    capsys.readouterr()
    assert cli.main(["vendors", "show", "llm"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["rating"]["risk"] > before
    assert len(shown["risk_history"]) >= 2


def test_vendors_assess_when_answers_missing_then_exit_1_and_named(home, tmp_path, capsys):
    assert cli.main(["vendors", "add", "x", "--name", "X", "--supplies", "data"]) == 0
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"ac.mfa": "yes"}))
    assert cli.main(["vendors", "assess", "x", "--answers", str(answers)]) == 1
    captured = capsys.readouterr()
    assert "INCOMPLETE" in captured.out and "enc.transit" in captured.err


def test_vendors_when_bad_input_then_exit_2(home, tmp_path):
    assert cli.main(["vendors", "add", "x", "--name", "X", "--supplies", "d", "--cert", "bad"]) == 2
    assert cli.main(["vendors", "show", "ghost"]) == 2
    answers = tmp_path / "a.json"
    answers.write_text("[1]")
    assert cli.main(["vendors", "add", "x", "--name", "X", "--supplies", "d"]) == 0
    assert cli.main(["vendors", "assess", "x", "--answers", str(answers)]) == 2


def test_vendors_monitor_when_vendor_never_assessed_then_exit_1(home, capsys):
    assert cli.main(["vendors", "add", "x", "--name", "X", "--supplies", "data"]) == 0
    assert cli.main(["vendors", "monitor"]) == 1
    assert "never assessed" in capsys.readouterr().err


def test_report_evidence_when_run_then_bundle_with_manifest_hashes(home, tmp_path):
    card = tmp_path / "scorecard.json"
    card.write_text(
        json.dumps(
            {
                "version": 1,
                "checks": [
                    {"id": "api.no_credentials_refused", "area": "api", "status": "pass",
                     "title": "t", "figure": None, "evidence": "401"},
                ],
            }
        )
    )  # fmt: skip
    out = tmp_path / "evidence"
    code = cli.main(
        ["report", "evidence", "--out", str(out), "--scorecard", str(card),
         "--advisories", str(ADVISORIES)]
    )  # fmt: skip
    assert code == 0
    manifest = json.loads((out / "MANIFEST.json").read_text())
    for name in (
        "sbom.cdx.json",
        "ropa.json",
        "ropa.md",
        "controls-matrix.csv",
        "dependency-audit.json",
        "config-audit.json",
        "vendors.json",
        "scorecard.json",
    ):
        assert name in manifest["files"], name  # fmt: skip
    import hashlib

    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    matrix = {r["control"]: r for r in json.loads((out / "controls-matrix.json").read_text())}
    assert matrix["SG-AUTHN"]["evidence"] == "evidenced"
    assert any(p.name.startswith("dpia-fraud") for p in out.iterdir())
    shutil.rmtree(out)


def test_report_evidence_when_scorecard_malformed_then_exit_2(home, tmp_path):
    card = tmp_path / "scorecard.json"
    card.write_text('{"checks": 5}')
    assert (
        cli.main(["report", "evidence", "--out", str(tmp_path / "e"), "--scorecard", str(card)])
        == 2
    )


def test_report_group_when_registered_twice_then_one_group_shared():
    # Another command module may own ``report``; evidence attaches to it instead of clashing.
    from shopguard.cli.evidence import _report_group, report_group

    assert _report_group() is report_group
    assert sum(1 for g in cli.app.registered_groups if g.name == "report") == 1
