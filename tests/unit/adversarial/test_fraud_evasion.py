"""Fraud evasion: variants change only fraudster-controlled fields; the search and hardening run end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopguard.adversarial.checks import EVASION_BAR, FraudEvasionHardened
from shopguard.adversarial.fraud_evasion import (
    VARIANTS,
    Variant,
    apply_variant,
    evasion_search,
    harden_fraud_model,
    variant_scores,
)
from shopguard.core.scorecard import CheckContext, Status
from shopguard.store.fraud import train_fraud, validate_transactions
from shopguard.store.generate import generate_store, write_store

FIXED = [
    "TRANSACTION_ID",
    "CUSTOMER_ID",
    "TERMINAL_ID",
    "account_age_days",
    "card_present",
    "TX_FRAUD",
]


@pytest.fixture(scope="module")
def store_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    tx = generate_store(seed=3, customers=1500).transactions
    t = pd.to_datetime(tx["TX_DATETIME"])
    cut = t.min().floor("D") + pd.Timedelta(days=45)
    return tx[t < cut].reset_index(drop=True), tx[t >= cut].reset_index(drop=True)


def test_apply_variant_when_applied_then_only_controlled_fields_change_and_rows_stay_valid(
    store_split,
) -> None:
    _, test = store_split
    mask = test["TX_FRAUD"].to_numpy() == 1
    v = Variant(0.5, 14, clear_device=True, clear_ip=True, clear_shipping=True)
    out = apply_variant(test, mask, v)
    validate_transactions(out)
    pd.testing.assert_frame_equal(out[FIXED], test[FIXED])
    pd.testing.assert_frame_equal(out[~mask], test[~mask])
    np.testing.assert_allclose(
        out.loc[mask, "TX_AMOUNT"], np.round(test.loc[mask, "TX_AMOUNT"] * 0.5, 2)
    )
    same_day = pd.to_datetime(out.loc[mask, "TX_DATETIME"]).dt.floor("D") == pd.to_datetime(
        test.loc[mask, "TX_DATETIME"]
    ).dt.floor("D")
    assert same_day.all()
    assert (
        (out.loc[mask, ["device_is_new", "ip_country_mismatch", "ship_bill_mismatch"]] == 0)
        .all()
        .all()
    )


def test_variants_when_listed_then_48_distinct_with_identity_first() -> None:
    assert len(set(VARIANTS)) == len(VARIANTS) == 48
    assert VARIANTS[0] == Variant(1.0, None, False, False, False)


@pytest.mark.slow
def test_evasion_search_when_run_against_standard_and_hardened_then_reports_are_consistent(
    store_split,
) -> None:
    train, test = store_split
    model = train_fraud(train, random_state=0, validation_days=0)
    few = VARIANTS[:1] + tuple(v for v in VARIANTS if v.amount_factor == 0.5 and v.hour == 14)[:3]
    steps: list[int] = []
    rep = evasion_search(
        model, test, train, name="standard", variants=few, progress=lambda d, _n: steps.append(d)
    )
    assert steps == [1, 2, 3, 4]
    # the per-variant scores behind the search (legitimate rows may move too: the changed
    # frauds are part of their customers' and terminals' history)
    per_variant = variant_scores(model, test, train, variants=few)
    fraud = test["TX_FRAUD"].to_numpy() == 1
    base = model.score(test, train)
    assert per_variant.shape == (4, len(test))
    np.testing.assert_allclose(per_variant[0], base, atol=1e-9)  # the identity variant
    assert (per_variant[1:, fraud] != base[fraud]).any()
    caught = fraud & (base >= 0.3)
    assert rep.evaded == int((caught & (per_variant.min(axis=0) < 0.3)).sum())
    assert rep.n_frauds == int(test["TX_FRAUD"].sum()) > 0
    assert 0 <= rep.evaded <= rep.caught_before <= rep.n_frauds
    assert 0.0 <= rep.evasion_rate <= 1.0 and 0.0 < rep.average_precision <= 1.0
    hardened = harden_fraud_model(model, train, variants=few, per_fraud=3)
    assert hardened.metrics["hardened"]["variants_per_fraud"] == 3
    scores = hardened.score(test.head(5), history=train)
    assert scores.shape == (5,) and ((scores >= 0) & (scores <= 1)).all()


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("store") / "store"
    write_store(generate_store(seed=0, customers=4000), d, fmt="parquet")
    return d


@pytest.mark.slow
@pytest.mark.parametrize("hardening", [True, False])
def test_fraud_evasion_check_when_hardened_then_passes_else_evasion_over_the_bar(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch, hardening: bool
) -> None:
    import shopguard.adversarial.fraud_evasion as fe

    if not hardening:  # the defence off: the "hardened" model is the standard one
        monkeypatch.setattr(fe, "harden_fraud_model", lambda model, train, **_: model)
    status, fig, evidence = FraudEvasionHardened().run(
        CheckContext({"fraud_evasion": {"store_dir": store_dir}})
    )
    assert fig is not None and fig.bar == EVASION_BAR
    if hardening:
        assert status is Status.PASS, evidence
        assert fig.value <= EVASION_BAR
    else:
        assert status is Status.FAIL, evidence
        assert fig.value > EVASION_BAR
    assert "standard model" in evidence
