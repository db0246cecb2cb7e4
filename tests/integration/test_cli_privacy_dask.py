"""`shopguard privacy scan-text --dask`: the scan partitioned on a local 2-process Dask cluster."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

import shopguard.cli as cli

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def only_privacy_commands(monkeypatch):
    importlib.import_module("shopguard.cli.privacy")
    monkeypatch.setattr(cli, "_register", lambda: None)


def _input(path: Path, n: int, *, bad_at: int | None = None) -> Path:
    lines = []
    for i in range(n):
        if i == bad_at:
            lines.append("{not json")
            continue
        text = (
            f"order {i}: mail buyer{i}@example.org, card 4000 0566 5566 5556"
            if i % 3 == 0
            else f"Review {i}: great kettle, boils fast."
        )
        lines.append(json.dumps({"id": i if i % 2 else f"r{i}", "text": text}))
        if i % 17 == 0:
            lines.append("")  # blank lines are skipped, line numbers still count
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_scan_text_when_dask_local_2_processes_then_output_identical_to_single_process(
    tmp_path: Path,
) -> None:
    src = _input(tmp_path / "in.jsonl", 1200)
    single, parted = tmp_path / "one.jsonl", tmp_path / "dask.jsonl"
    assert cli.main(["privacy", "scan-text", str(src), "--out", str(single)]) == 0
    rc = cli.main(
        [
            "privacy",
            "scan-text",
            str(src),
            "--out",
            str(parted),
            "--dask",
            "local",
            "--dask-workers",
            "2",
        ]
    )
    assert rc == 0
    assert parted.read_bytes() == single.read_bytes()
    rows = [json.loads(x) for x in parted.read_text().splitlines()]
    assert len(rows) == 1200
    assert {e["type"] for e in rows[0]["entities"]} >= {"EMAIL", "CREDIT_CARD"}


def test_scan_text_when_dask_and_bad_line_then_exit_2_names_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _input(tmp_path / "in.jsonl", 700, bad_at=650)
    out = tmp_path / "out.jsonl"
    rc = cli.main(["privacy", "scan-text", str(src), "--out", str(out), "--dask", "local"])
    err = capsys.readouterr().err
    assert rc == 2
    # 650 records before it, plus the blank lines after records 0, 17, ..., 646 (39 of them).
    assert "line 690: not valid JSON" in err
    assert not out.exists()
    rc = cli.main(
        ["privacy", "scan-text", str(src), "--out", str(out), "--dask", "local", "--skip-bad"]
    )
    assert rc == 0
    assert len(out.read_text().splitlines()) == 699


def test_scan_text_when_dask_value_is_not_a_scheduler_then_exit_2(tmp_path: Path) -> None:
    src = _input(tmp_path / "in.jsonl", 3)
    rc = cli.main(
        ["privacy", "scan-text", str(src), "--out", str(tmp_path / "o.jsonl"), "--dask", "nope"]
    )
    assert rc == 2
