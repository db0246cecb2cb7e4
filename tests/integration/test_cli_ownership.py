"""``shopguard models fingerprint`` / ``verify-ownership`` on the trained test store."""

from __future__ import annotations

import json

import pytest

from shopguard.cli import main
from shopguard.core.runtime import Runtime
from shopguard.core.settings import load_settings
from shopguard.modelsec.demo import train_demo_fraud
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


def test_verify_ownership_when_model_watermarked_then_watermark_decides_without_fingerprint(
    gateway_home, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("SHOPGUARD_HOME", str(gateway_home))
    assert main(["init"]) == 0
    tx = load_store(gateway_home / STORE_DIR).transactions
    rt = Runtime.open(load_settings(home=gateway_home))
    try:
        train_demo_fraud(rt, tx, random_state=5).save(gateway_home / "models" / "fraud")
    finally:
        rt.close()
    assert main(["models", "import-store"]) == 0
    capsys.readouterr()
    suspect = str(gateway_home / "models" / "fraud")
    assert main(["models", "verify-ownership", "--suspect", suspect, "--json"]) == 0
    ours = json.loads(capsys.readouterr().out)
    assert ours["method"] == "watermark" and ours["p_value"] < 0.01 and ours["queries"] <= 100
    clean = train_fraud(tx, random_state=5, validation_days=0).save(tmp_path / "clean")
    assert main(["models", "verify-ownership", "--suspect", str(clean), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["p_value"] >= 0.01
