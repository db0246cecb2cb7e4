"""``shopguard train fraud --watermark``: the key ring's watermark, verifiable from the vault."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from shopguard.cli import main
from shopguard.core.runtime import Runtime
from shopguard.core.settings import load_settings
from shopguard.modelsec.ownership import fraud_model_scorer
from shopguard.modelsec.watermark import WATERMARK_PURPOSE, derive_watermark
from shopguard.store.fraud import FraudModel

pytestmark = pytest.mark.slow


def _table(n_days: int = 30, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 60 * n_days
    t = pd.Timestamp("2018-04-01") + pd.to_timedelta(
        np.sort(rng.integers(0, n_days * 86_400, n)), unit="s"
    )
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
        }
    )


def test_train_fraud_when_watermark_then_model_carries_the_key_rings_watermark(
    tmp_path, monkeypatch, capsys
) -> None:
    home = tmp_path / ".shopguard"
    monkeypatch.setenv("SHOPGUARD_HOME", str(home))
    src = tmp_path / "tx.csv"
    _table().to_csv(src, index=False)
    assert main(["init"]) == 0
    for flag, out in (([], tmp_path / "clean"), (["--watermark"], tmp_path / "marked")):
        args = ["train", "fraud", "--transactions", str(src), "--out", str(out), *flag]
        assert main(args) == 0, capsys.readouterr().err
    metrics = json.loads((tmp_path / "marked" / "metrics.json").read_text())
    rt = Runtime.open(load_settings(home=home))
    try:
        key = rt.keyring.active(WATERMARK_PURPOSE)
    finally:
        rt.close()
    assert metrics["watermark"]["key_id"] == key.key_id
    assert "watermark" not in json.loads((tmp_path / "clean" / "metrics.json").read_text())
    wm = derive_watermark(key.secret)
    marked = wm.verify(fraud_model_scorer(FraudModel.load(tmp_path / "marked")))
    clean = wm.verify(fraud_model_scorer(FraudModel.load(tmp_path / "clean")))
    assert marked.p_value < 0.01 <= clean.p_value
