"""The core commands through ``main(argv)``: exit codes and one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from shopguard.cli import main
from shopguard.core.audit import AuditEvent
from shopguard.core.runtime import Runtime
from shopguard.core.settings import load_settings


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_when_asked_then_prints_and_exits_0(capsys) -> None:
    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out.startswith("shopguard ")


def test_init_when_run_twice_then_idempotent_and_key_file_0600(capsys, tmp_path: Path) -> None:
    assert _run(capsys, "init")[0] == 0
    assert _run(capsys, "init")[0] == 0
    key = tmp_path / ".shopguard" / "master.key"
    assert key.stat().st_mode & 0o777 == 0o600


def test_audit_verify_when_intact_then_0_and_when_edited_then_1_naming_entry(capsys) -> None:
    assert _run(capsys, "init")[0] == 0
    rt = Runtime.open(load_settings())
    for i in range(5):
        rt.audit.append(AuditEvent(action="t", decision="allow", details={"i": i}))
    rt.close()
    code, out, _ = _run(capsys, "audit", "verify")
    assert code == 0 and "5 entries" in out
    engine = sa.create_engine(load_settings().sqlalchemy_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET principal = 'someone-else' WHERE seq = 3"))
    engine.dispose()
    code, _, err = _run(capsys, "audit", "verify")
    assert code == 1 and "entry 3" in err


def test_audit_export_when_file_given_then_jsonl_written(capsys, tmp_path: Path) -> None:
    _run(capsys, "init")
    rt = Runtime.open(load_settings())
    rt.audit.append(AuditEvent(action="t", decision="allow"))
    rt.close()
    code, _, _ = _run(capsys, "audit", "export", "--out", str(tmp_path / "a.jsonl"))
    assert code == 0
    rows = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert rows[0]["action"] == "t" and rows[0]["seq"] == 1


@pytest.mark.parametrize(
    ("argv", "env", "needle"),
    [
        pytest.param(["--no-such-option"], {}, "No such option", id="unknown-option"),
        pytest.param(
            ["audit", "verify"],
            {"SHOPGUARD_DATABASE_URL": "mysql://x/y"},
            "database_url",
            id="bad-url-scheme",
        ),
        pytest.param(
            ["audit", "verify"],
            {"SHOPGUARD_DATABASE_URL": "postgresql://127.0.0.1:1/nowhere"},
            "cannot connect",
            id="unreachable-db",
        ),
        pytest.param(["keyring", "rotate"], {}, "Missing argument", id="missing-argument"),
    ],
)
def test_cli_when_bad_input_then_exit_2_with_one_line(
    capsys, monkeypatch, argv, env, needle
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    code, _, err = _run(capsys, *argv)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], err


def test_cli_when_key_file_unreadable_then_exit_2_and_nothing_changed(
    capsys, tmp_path: Path
) -> None:
    _run(capsys, "init")
    key = tmp_path / ".shopguard" / "master.key"
    os.chmod(key, 0o644)
    before = (tmp_path / ".shopguard" / "shopguard.db").read_bytes()
    code, _, err = _run(capsys, "audit", "verify")
    assert code == 2 and "chmod 600" in err
    os.chmod(key, 0o600)
    assert (tmp_path / ".shopguard" / "shopguard.db").read_bytes() == before


def test_keyring_rotate_master_when_run_then_old_entries_still_verify(capsys) -> None:
    _run(capsys, "init")
    rt = Runtime.open(load_settings())
    rt.audit.append(AuditEvent(action="before", decision="allow"))
    rt.close()
    old_key = Path(".shopguard/master.key").read_text()
    assert _run(capsys, "keyring", "rotate-master")[0] == 0
    assert Path(".shopguard/master.key").read_text() != old_key
    assert not Path(".shopguard/master.key.new").exists()
    code, out, _ = _run(capsys, "audit", "verify")
    assert code == 0 and "1 entries" in out
