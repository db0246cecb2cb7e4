"""``shopguard fairness`` and ``shopguard report`` through ``main(argv)``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from shopguard.cli import main
from shopguard.store.fraud import train_fraud
from shopguard.store.generate import generate_store, write_store

ADULT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "fairness_adult"


@pytest.fixture
def adult_sample(tmp_path: Path) -> Path:
    from shopguard.fairness.tabular import load_adult

    path = tmp_path / "adult.csv"
    load_adult(ADULT).sample(6000, random_state=0).to_csv(path, index=False)
    return path


def test_audit_when_tabular_file_then_json_report_with_split_and_mitigation(
    adult_sample: Path, capsys, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SHOPGUARD_HOME", str(tmp_path / ".shopguard"))
    code = main(
        [
            "fairness",
            "audit",
            "--data",
            str(adult_sample),
            "--target",
            "income",
            "--positive",
            ">50K",
            "--sensitive",
            "sex",
            "--mitigate",
            "threshold",
            "--bootstrap",
            "20",
            "--json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert "test" in report["split"] and "calibration" in report["split"]
    assert report["audits"]["sex"]["verdict"] == "outside_bars"
    mit = report["mitigation"]
    assert mit["dp_difference_after"] < mit["dp_difference_before"] / 3
    assert code == (0 if mit["audit_after"]["verdict"] == "within_bars" else 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sensitive", "nosuch"], "unknown sensitive column"),
        (["--sensitive", "sex", "--mitigate", "magic"], "--mitigate"),
        (["--sensitive", "sex", "--target", "nosuch"], "unknown target column"),
    ],
)
def test_audit_when_bad_input_then_exit_2_with_one_line(
    adult_sample: Path, capsys, monkeypatch, tmp_path: Path, args: list[str], message: str
) -> None:
    monkeypatch.setenv("SHOPGUARD_HOME", str(tmp_path / ".shopguard"))
    base = ["fairness", "audit", "--data", str(adult_sample), "--positive", ">50K"]
    if "--target" not in args:
        base += ["--target", "income"]
    assert main([*base, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_audit_when_labels_missing_then_exit_2(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("SHOPGUARD_HOME", str(tmp_path / ".shopguard"))
    path = tmp_path / "t.csv"
    pd.DataFrame({"x": [1, 2, 3], "g": ["a", "b", "a"], "y": [1, None, 0]}).to_csv(
        path, index=False
    )
    code = main(
        [
            "fairness",
            "audit",
            "--data",
            str(path),
            "--target",
            "y",
            "--positive",
            "1",
            "--sensitive",
            "g",
        ]
    )
    assert code == 2 and "missing label" in capsys.readouterr().err


@pytest.mark.slow
def test_store_model_audit_card_and_transparency_when_biased_store_then_gap_found(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    home = tmp_path / ".shopguard"
    monkeypatch.setenv("SHOPGUARD_HOME", str(home))
    store = generate_store(seed=3, customers=1500, bias=1.0)
    write_store(store, home / "store", fmt="parquet")
    train_fraud(store.transactions, validation_days=0, params={"max_iter": 80}).save(
        home / "models" / "fraud"
    )
    code = main(
        [
            "fairness",
            "audit",
            "--model",
            "fraud",
            "--sensitive",
            "region,age_band",
            "--threshold",
            "0.3",
            "--bootstrap",
            "20",
            "--json",
            "--save",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code in (0, 1) and set(report["audits"]) == {"region", "age_band"}
    region = report["audits"]["region"]
    assert region["groups"][0]["n"] > 0 and region["min_group_size"] == 30
    assert (home / "models" / "fraud" / "fairness.json").is_file()
    assert main(["report", "model-card", "fraud"]) == 0
    card = json.loads((home / "reports" / "cards" / "fraud.json").read_text())
    assert card["fairness"]["audits"]["region"]["attribute"] == "region"
    assert main(["report", "transparency"]) == 0
    assert (home / "reports" / "transparency.pdf").is_file()
    capsys.readouterr()
    assert main(["fairness", "prices", "--sensitive", "age_band", "--json"]) == 0
    rows = {r["group"]: r for r in json.loads(capsys.readouterr().out)["groups"]["age_band"]}
    assert rows["65+"]["price_ratio"] > rows["25-34"]["price_ratio"] + 0.05
    assert main(["fairness", "audit", "--model", "fraud", "--sensitive", "nosuch"]) == 2


def test_dataset_when_store_folder_then_representation_and_proxies(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("SHOPGUARD_HOME", str(tmp_path / ".shopguard"))
    write_store(generate_store(seed=2, customers=600, sensitive=True), tmp_path / "store")
    code = main(
        [
            "fairness",
            "dataset",
            "--data",
            str(tmp_path / "store"),
            "--sensitive",
            "region",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)["region"]
    assert code == 0
    assert {r["group"] for r in out["representation"]} == {"US", "UK", "EU-north", "EU-south"}
    proxies = {p["feature"] for p in out["proxies"] if p["is_proxy"]}
    assert {"country", "postcode"} <= proxies and "gender" not in proxies


def test_mitigate_when_bad_input_then_exit_2_with_one_line(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("SHOPGUARD_HOME", str(tmp_path / ".shopguard"))
    for argv, needle in (
        (["--model", "recommender"], "--model must be one of fraud"),
        (["--sensitive", "region,age_band"], "one attribute"),
        (["--sensitive", " , "], "at least one sensitive column"),
    ):
        assert main(["fairness", "mitigate", *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert needle in err and len(err.splitlines()) == 1, err
