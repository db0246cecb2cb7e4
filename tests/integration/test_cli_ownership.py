"""``shopguard models fingerprint`` / ``verify-ownership`` on the trained test store."""

from __future__ import annotations

import json

import pytest

from shopguard.cli import main
from shopguard.store.fraud import train_fraud
from shopguard.store.schema import load_store
from shopguard.store.service import STORE_DIR, TENANTS_DIR

pytestmark = pytest.mark.slow


def test_verify_ownership_when_our_model_then_claimed_and_independent_not(
    gateway_home, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("SHOPGUARD_HOME", str(gateway_home))
    assert main(["init"]) == 0
    assert main(["models", "import-store"]) == 0
    assert main(["models", "fingerprint", "fraud"]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "models",
                "verify-ownership",
                "--suspect",
                str(gateway_home / "models" / "fraud"),
                "--json",
            ]
        )
        == 0
    )
    ours = json.loads(capsys.readouterr().out)
    assert ours["p_value"] < 0.01 and ours["queries"] <= 100
    other = load_store(gateway_home / TENANTS_DIR / "other" / STORE_DIR).transactions
    independent = train_fraud(other, random_state=99, validation_days=0).save(
        tmp_path / "independent"
    )
    code = main(["models", "verify-ownership", "--suspect", str(independent), "--json"])
    theirs = json.loads(capsys.readouterr().out)
    assert code == 1 and theirs["p_value"] >= 0.01


def test_verify_ownership_when_suspect_is_neither_url_nor_dir_then_exit_2(tmp_path, capsys) -> None:
    assert main(["models", "verify-ownership", "--suspect", str(tmp_path / "missing")]) == 2
    assert "neither a URL nor a model directory" in capsys.readouterr().err
