"""``shopguard data generate`` / ``validate`` through ``main(argv)`` and exit codes."""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd
import pytest

import shopguard.cli as cli
from shopguard.store.generate import TABLES


@pytest.fixture(autouse=True)
def only_data_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    # Other command groups are built in parallel; register just this one.
    monkeypatch.setattr(cli, "_register", lambda: importlib.import_module("shopguard.cli.data"))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_data_generate_when_valid_then_exit_0_and_tables_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOPGUARD_NO_PROGRESS", raising=False)  # exercise the progress bar
    out = tmp_path / "store"
    code, stdout, _ = _run(
        capsys,
        "data",
        "generate",
        "--seed",
        "4",
        "--customers",
        "120",
        "--out",
        str(out),
        "--format",
        "parquet",
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    assert "customers 120" in stdout
    code, stdout, _ = _run(capsys, "data", "validate", "--from", str(out))
    assert code == 0
    assert "transactions" in stdout and "valid" in stdout


def test_data_generate_when_customers_negative_then_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "store"
    code, _, err = _run(
        capsys, "data", "generate", "--seed", "1", "--customers", "-5", "--out", str(out)
    )
    assert code == 2
    assert err.startswith("shopguard: error:") and err.count("\n") == 1
    assert not out.exists()


def test_data_generate_when_bad_format_or_start_then_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["data", "generate", "--seed", "1", "--customers", "10", "--out", str(tmp_path / "s")]
    assert _run(capsys, *base, "--format", "xml")[0] == 2
    assert _run(capsys, *base, "--start", "01/02/2025")[0] == 2
    assert not (tmp_path / "s").exists()


def test_data_generate_when_out_not_empty_then_exit_2_untouched_and_force_replaces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "store"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    argv = ["data", "generate", "--seed", "2", "--customers", "50", "--out", str(out)]
    code, _, err = _run(capsys, *argv)
    assert code == 2 and "--force" in err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert _run(capsys, *argv, "--force")[0] == 0
    assert not (out / "notes.txt").exists()
    assert (out / "orders.csv").is_file()


def test_data_generate_when_write_fails_then_exit_2_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pd.DataFrame.to_csv
    calls = {"n": 0}

    def flaky(self: pd.DataFrame, *args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError("no space left on device")
        return real(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(pd.DataFrame, "to_csv", flaky)
    code, _, err = _run(
        capsys,
        "data",
        "generate",
        "--seed",
        "2",
        "--customers",
        "50",
        "--out",
        str(tmp_path / "store"),
    )
    assert code == 2 and "could not write" in err
    assert list(tmp_path.iterdir()) == []


def test_data_validate_when_from_missing_then_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "data", "validate", "--from", str(tmp_path / "absent"))
    assert code == 2 and "not found" in err


def test_data_validate_when_csv_malformed_then_exit_2_naming_file_and_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "store"
    assert (
        _run(capsys, "data", "generate", "--seed", "3", "--customers", "60", "--out", str(out))[0]
        == 0
    )
    path = out / "orders.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3] + ",x"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = _run(capsys, "data", "validate", "--from", str(out))
    assert code == 2
    assert "orders.csv, row 3" in err and err.count("\n") == 1


def test_data_validate_when_bad_value_then_error_omits_personal_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # canary: a unique e-mail and card number must not reach the error line
    out = tmp_path / "store"
    assert (
        _run(capsys, "data", "generate", "--seed", "3", "--customers", "60", "--out", str(out))[0]
        == 0
    )
    path = out / "customers.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[1, "email"] = "canary.7f3a@example.com"
    frame.loc[1, "card_number"] = "4000000000007777"
    frame.to_csv(path, index=False)
    code, stdout, err = _run(capsys, "data", "validate", "--from", str(out))
    assert code == 2
    assert "customers.csv, row 2, column 'card_number'" in err
    for secret in ("canary.7f3a", "4000000000007777"):
        assert secret not in err and secret not in stdout
