"""`shopguard privacy scan-text` through main(argv): output, exit codes, bad lines."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

import shopguard.cli as cli

CANARY_EMAIL = "canary.7f3e91@example.org"
CANARY_CARD = "4000 0566 5566 5556"


@pytest.fixture(autouse=True)
def only_privacy_commands(monkeypatch):
    # Register just the command group under test; sibling modules may not exist yet.
    importlib.import_module("shopguard.cli.privacy")
    monkeypatch.setattr(cli, "_register", lambda: None)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_scan_text_when_valid_jsonl_then_exit_0_and_exact_offsets(tmp_path):
    texts = {
        "a": f"Hi, I'm Lucia Ferrari, mail {CANARY_EMAIL} or call +44 7700 900123.",
        7: "Great kettle, boils fast.",
        "c": f"card {CANARY_CARD} and order O0001234",
    }
    src = _write(
        tmp_path / "in.jsonl", [json.dumps({"id": k, "text": v}) for k, v in texts.items()]
    )
    out = tmp_path / "out.jsonl"
    assert cli.main(["privacy", "scan-text", str(src), "--out", str(out)]) == 0
    rows = _rows(out)
    assert [r["id"] for r in rows] == ["a", 7, "c"]
    by_id = {r["id"]: r["entities"] for r in rows}
    assert by_id[7] == []
    a = texts["a"]
    got_a = {(e["type"], a[e["start"] : e["end"]]) for e in by_id["a"]}
    assert {
        ("EMAIL", CANARY_EMAIL),
        ("PHONE", "+44 7700 900123"),
        ("PERSON", "Lucia Ferrari"),
    } <= got_a
    c = texts["c"]
    assert [(e["type"], c[e["start"] : e["end"]]) for e in by_id["c"]] == [
        ("CREDIT_CARD", CANARY_CARD),
        ("ORDER_ID", "O0001234"),
    ]
    for e in by_id["a"]:
        assert set(e) == {"type", "start", "end", "score"} and 0.0 <= e["score"] <= 1.0
    # results hold offsets only: the canaries never appear in the output file
    raw = out.read_text(encoding="utf-8")
    assert CANARY_EMAIL not in raw and CANARY_CARD not in raw


def test_scan_text_when_bad_line_then_exit_2_line_number_and_nothing_written(tmp_path, capsys):
    src = _write(
        tmp_path / "in.jsonl",
        [json.dumps({"id": 1, "text": f"mail {CANARY_EMAIL}"}), "{not json", json.dumps({"id": 3})],
    )
    out = tmp_path / "out.jsonl"
    assert cli.main(["privacy", "scan-text", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "not valid JSON" in err
    assert CANARY_EMAIL not in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in.jsonl"]  # no temp file left


def test_scan_text_when_skip_bad_then_reports_each_and_continues(tmp_path, capsys):
    src = _write(
        tmp_path / "in.jsonl",
        [
            json.dumps({"id": 1, "text": "ip 10.1.2.3"}),
            "[1, 2]",
            "",
            json.dumps({"id": 4, "text": 5}),
            json.dumps({"id": 5, "text": "nothing"}),
        ],
    )
    out = tmp_path / "out.jsonl"
    assert cli.main(["privacy", "scan-text", str(src), "--out", str(out), "--skip-bad"]) == 0
    err = capsys.readouterr().err
    assert "line 2" in err and "line 4" in err and "skipped 2" in err
    assert [r["id"] for r in _rows(out)] == [1, 5]


def test_scan_text_when_input_missing_then_exit_2(tmp_path):
    assert (
        cli.main(
            ["privacy", "scan-text", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")]
        )
        == 2
    )


def test_scan_text_when_not_utf8_then_exit_2(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": 1, "text": "caf\xe9"}\n')
    assert cli.main(["privacy", "scan-text", str(src), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert not (tmp_path / "o.jsonl").exists()
