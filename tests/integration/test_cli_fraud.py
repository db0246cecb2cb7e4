"""`shopguard train fraud` / `shopguard score fraud` through main(argv) and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import shopguard.cli as cli


@pytest.fixture(autouse=True)
def only_fraud_commands(monkeypatch):
    # Register just the command groups under test; sibling modules may not exist yet.
    import shopguard.cli.score
    import shopguard.cli.train  # noqa: F401

    monkeypatch.setattr(cli, "_register", lambda: None)


def _table(n_days: int = 30, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 60 * n_days
    start = pd.Timestamp("2018-04-01")
    t = start + pd.to_timedelta(np.sort(rng.integers(0, n_days * 86_400, n)), unit="s")
    amount = rng.gamma(2.0, 25.0, n).round(2)
    fraud = (rng.random(n) < 0.03).astype(int)
    amount[fraud == 1] += 250.0
    return pd.DataFrame(
        {
            "TRANSACTION_ID": np.arange(n),
            "TX_DATETIME": t.strftime("%Y-%m-%d %H:%M:%S"),
            "CUSTOMER_ID": rng.integers(0, 40, n),
            "TERMINAL_ID": rng.integers(0, 50, n),
            "TX_AMOUNT": amount,
            "TX_FRAUD": fraud,
            "TX_FRAUD_SCENARIO": fraud,
        }
    )


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("data") / "tx.csv"
    _table().to_csv(p, index=False)
    return p


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, csv_file) -> Path:
    out = tmp_path_factory.mktemp("models") / "fraud"
    assert cli.main(["train", "fraud", "--transactions", str(csv_file), "--out", str(out)]) == 0
    return out


def test_train_fraud_when_valid_then_exit_0_and_model_with_metrics(model_dir):
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "integrity.json",
        "metrics.json",
        "model.json",
        "model.skops",
    ]
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["validation"]["roc_auc"] > 0.9  # frauds are the big amounts here
    assert "TX_FRAUD_SCENARIO" not in metrics["features"]


def test_score_fraud_when_valid_then_exit_0_and_scores_csv(tmp_path, model_dir, csv_file):
    out = tmp_path / "scores.csv"
    code = cli.main(
        [
            "score",
            "fraud",
            "--model",
            str(model_dir),
            "--transactions",
            str(csv_file),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["TRANSACTION_ID", "score"]
    assert scores["TRANSACTION_ID"].tolist() == pd.read_csv(csv_file)["TRANSACTION_ID"].tolist()
    assert scores["score"].between(0, 1).all()
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]  # no temp file left


def test_train_fraud_when_seed_given_then_deterministic(tmp_path, csv_file, model_dir):
    out = tmp_path / "again"
    assert (
        cli.main(
            ["train", "fraud", "--transactions", str(csv_file), "--out", str(out), "--seed", "0"]
        )
        == 0
    )
    from shopguard.store.fraud import FraudModel, load_transactions

    tx = load_transactions(csv_file)
    np.testing.assert_array_equal(
        FraudModel.load(out).score(tx), FraudModel.load(model_dir).score(tx)
    )


@pytest.mark.parametrize("problem", ["missing_file", "malformed", "wrong_columns", "bad_amount"])
def test_score_fraud_when_bad_input_then_exit_2_one_line_and_no_output(
    tmp_path, model_dir, capsys, problem
):
    src = tmp_path / "in.csv"
    if problem == "malformed":
        src.write_text('TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID\n1,"2018-04-01 00:00:00\n')
    elif problem == "wrong_columns":
        _table(2).rename(columns={"TX_AMOUNT": "amount"}).to_csv(src, index=False)
    elif problem == "bad_amount":
        df = _table(2).astype({"TX_AMOUNT": str})
        df.loc[5, "TX_AMOUNT"] = "lots"
        df.to_csv(src, index=False)
    out = tmp_path / "scores.csv"
    code = cli.main(
        ["score", "fraud", "--model", str(model_dir), "--transactions", str(src), "--out", str(out)]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("shopguard: error:")
    assert "Traceback" not in "\n".join(err)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == (["in.csv"] if problem != "missing_file" else [])
    if problem == "bad_amount":
        assert "row 6" in err[-1] and "TX_AMOUNT" in err[-1] and "lots" not in err[-1]


def test_score_fraud_when_model_tampered_then_exit_2_and_no_output(tmp_path, model_dir, csv_file):
    bad = tmp_path / "model"
    bad.mkdir()
    for p in model_dir.iterdir():
        (bad / p.name).write_bytes(p.read_bytes())
    (bad / "model.skops").write_bytes((bad / "model.skops").read_bytes()[:-10])
    out = tmp_path / "scores.csv"
    code = cli.main(
        ["score", "fraud", "--model", str(bad), "--transactions", str(csv_file), "--out", str(out)]
    )
    assert code == 2
    assert not out.exists()


def test_train_fraud_when_wrong_columns_then_exit_2_and_no_model(tmp_path, capsys):
    src = tmp_path / "in.csv"
    _table(5).drop(columns=["CUSTOMER_ID"]).to_csv(src, index=False)
    out = tmp_path / "model"
    assert cli.main(["train", "fraud", "--transactions", str(src), "--out", str(out)]) == 2
    assert "CUSTOMER_ID" in capsys.readouterr().err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in.csv"]


def test_train_fraud_when_option_missing_then_exit_2(capsys):
    assert cli.main(["train", "fraud", "--out", "x"]) == 2
    assert "--transactions" in capsys.readouterr().err
