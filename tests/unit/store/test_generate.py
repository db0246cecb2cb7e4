"""The synthetic store: determinism, realism signals, fraud patterns, atomic writes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from shopguard.core.errors import ShopguardError
from shopguard.store.generate import (
    FRAUD_PATTERNS,
    TABLES,
    StoreData,
    generate_store,
    ip_country,
    write_store,
)
from shopguard.store.schema import load_store


def _luhn(number: str) -> bool:
    # Independent of shopguard.store.schema.luhn_valid on purpose.
    digits = [int(c) for c in number]
    odd = digits[-1::-2]
    even = [sum(divmod(2 * d, 10)) for d in digits[-2::-2]]
    return (sum(odd) + sum(even)) % 10 == 0


def _digest(directory: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(directory.iterdir()):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def store() -> StoreData:
    return generate_store(seed=11, customers=2000)


@pytest.fixture(scope="module")
def small() -> StoreData:
    return generate_store(seed=5, customers=300)


def test_generate_store_when_same_seed_then_byte_identical_files(tmp_path: Path) -> None:
    for fmt in ("csv", "parquet"):
        a = write_store(generate_store(seed=42, customers=250), tmp_path / f"a-{fmt}", fmt=fmt)
        b = write_store(generate_store(seed=42, customers=250), tmp_path / f"b-{fmt}", fmt=fmt)
        assert _digest(a) == _digest(b)


def test_generate_store_when_other_hash_seed_process_then_same_bytes(tmp_path: Path) -> None:
    here = write_store(generate_store(seed=9, customers=200), tmp_path / "here")
    code = (
        "import sys; from shopguard.store.generate import generate_store, write_store; "
        "write_store(generate_store(seed=9, customers=200), sys.argv[1])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "there")], check=True, env=env)
    assert _digest(here) == _digest(tmp_path / "there")


def test_generate_store_when_different_seed_then_tables_differ(small: StoreData) -> None:
    other = generate_store(seed=6, customers=300)
    for name in TABLES:
        assert not small.table(name).equals(other.table(name)), name


def test_generate_store_when_bad_arguments_then_value_error() -> None:
    with pytest.raises(ValueError, match="customers"):
        generate_store(seed=1, customers=0)
    with pytest.raises(ValueError, match="seed"):
        generate_store(seed=-1, customers=10)
    with pytest.raises(ValueError, match="days"):
        generate_store(seed=1, customers=10, days=3)


def test_generate_store_when_generated_then_ids_and_columns_as_documented(
    store: StoreData,
) -> None:
    assert store.customers["customer_id"].str.fullmatch(r"C\d{6}").all()
    assert store.products["product_id"].str.fullmatch(r"P\d{5}").all()
    assert len(store.customers) == 2000
    handbook = [
        "TRANSACTION_ID",
        "TX_DATETIME",
        "CUSTOMER_ID",
        "TERMINAL_ID",
        "TX_AMOUNT",
        "TX_FRAUD",
    ]
    assert list(store.transactions.columns[:6]) == handbook
    assert store.transactions["TRANSACTION_ID"].is_monotonic_increasing
    assert store.transactions["TX_DATETIME"].is_monotonic_increasing
    assert (store.transactions["card_present"] == 0).all()
    # a realistic number of payment endpoints, not one per transaction
    assert 5 <= store.transactions["TERMINAL_ID"].nunique() <= 50


def test_generate_store_when_generated_then_every_card_number_passes_luhn(
    store: StoreData,
) -> None:
    cards = pd.concat([store.customers["card_number"], store.transactions["card_number"]])
    assert cards.str.fullmatch(r"\d{16}").all()
    assert cards.map(_luhn).all()
    assert cards.str[:6].isin(["411111", "400000", "424242", "555555", "510510", "222300"]).all()


def test_generate_store_when_generated_then_contact_data_is_synthetic(store: StoreData) -> None:
    c = store.customers
    assert c["email"].str.fullmatch(r"[a-z0-9.]+@(mail\.)?example\.(com|net|org)").all()
    assert c["country"].nunique() >= 5
    jur = dict(zip(c["country"], c["jurisdiction"], strict=False))
    assert jur["DE"] == "EU" and jur["FR"] == "EU" and jur["GB"] == "UK"
    us = c.loc[c["country"] == "US", "jurisdiction"]
    assert set(us) == {"US", "US-CA"}
    assert (c["date_of_birth"] < pd.Timestamp("2008-01-01")).all()


def test_generate_store_when_n2000_then_fraud_rate_in_band_and_every_pattern_present(
    store: StoreData,
) -> None:
    tx = store.transactions
    assert 0.005 <= tx["TX_FRAUD"].mean() <= 0.02
    assert ((tx["fraud_pattern"] != "") == (tx["TX_FRAUD"] == 1)).all()
    counts = tx["fraud_pattern"].value_counts()
    for pattern in FRAUD_PATTERNS:
        assert counts.get(pattern, 0) >= 2, pattern


def test_generate_store_when_card_testing_then_small_amounts_in_bursts_over_many_cards(
    store: StoreData,
) -> None:
    tx = store.transactions
    legit_median = tx.loc[tx["TX_FRAUD"] == 0, "TX_AMOUNT"].median()
    ct = tx[tx["fraud_pattern"] == "card_testing"]
    assert ct["TX_AMOUNT"].median() < 0.3 * legit_median
    for _, burst in ct.groupby("device_id"):
        assert len(burst) >= 5
        assert burst["card_number"].nunique() >= 3
        assert burst["ip_address"].nunique() == 1
        gaps = burst["TX_DATETIME"].diff().dropna().dt.total_seconds()
        assert gaps.median() < 300


def test_generate_store_when_other_patterns_then_their_signals_show(store: StoreData) -> None:
    tx = store.transactions
    legit = tx[tx["TX_FRAUD"] == 0]
    by = {p: tx[tx["fraud_pattern"] == p] for p in FRAUD_PATTERNS}
    ato = by["account_takeover"]
    assert (ato["device_is_new"] == 1).all()
    assert ato["ship_bill_mismatch"].mean() > 0.5
    assert ato["TX_AMOUNT"].median() > 2 * legit["TX_AMOUNT"].median()
    assert ato["account_age_days"].min() >= 60
    sc = by["stolen_card"]
    assert sc["ip_country_mismatch"].mean() > 0.5 > legit["ip_country_mismatch"].mean()
    assert sc["TX_AMOUNT"].median() > 2 * legit["TX_AMOUNT"].median()
    pa = by["promo_abuse"]
    orders = store.orders.drop_duplicates("order_id").set_index("order_id")
    assert (orders.loc[pa["order_id"], "promo_code"] != "").all()
    assert pa.groupby("device_id")["CUSTOMER_ID"].nunique().max() >= 2
    assert (pa["account_age_days"] <= 1).all()
    ff = by["friendly_fraud"]
    assert (orders.loc[ff["order_id"], "status"] == "chargeback").all()
    assert (ff["ip_country_mismatch"] == 0).all() and (ff["ship_bill_mismatch"] == 0).all()
    # legitimate noise: some honest customers travel, change devices, send gifts
    for col in ("device_is_new", "ship_bill_mismatch", "ip_country_mismatch"):
        assert 0.005 < legit[col].mean() < 0.2, col


def test_generate_store_when_model_trained_then_fraud_learnable_but_not_trivial(
    store: StoreData,
) -> None:
    tx = store.transactions
    x = np.column_stack(
        [
            np.log1p(tx["TX_AMOUNT"]),
            tx["device_is_new"],
            tx["ship_bill_mismatch"],
            tx["ip_country_mismatch"],
            np.log1p(tx["account_age_days"]),
        ]
    )
    y = tx["TX_FRAUD"].to_numpy()
    cut = len(tx) // 2
    model = LogisticRegression(max_iter=500).fit(x[:cut], y[:cut])
    auc = roc_auc_score(y[cut:], model.predict_proba(x[cut:])[:, 1])
    assert 0.8 < auc < 0.999


def test_generate_store_when_generated_then_foreign_keys_and_times_hold(
    store: StoreData,
) -> None:
    cust = set(store.customers["customer_id"])
    prod = set(store.products["product_id"])
    assert set(store.orders["customer_id"]) <= cust
    assert set(store.orders["product_id"]) <= prod
    assert set(store.transactions["CUSTOMER_ID"]) <= cust
    assert set(store.transactions["order_id"]) == set(store.orders["order_id"])
    assert store.transactions["order_id"].is_unique
    assert set(store.sessions["customer_id"]) <= cust
    viewed = set(" ".join(store.sessions["viewed_product_ids"]).split())
    assert viewed <= prod
    assert (
        store.sessions["viewed_product_ids"].str.count(" ") + 1 == store.sessions["n_page_views"]
    ).all()
    assert set(store.reviews["product_id"]) <= prod
    assert set(store.reviews["customer_id"]) <= cust
    signup = store.customers.set_index("customer_id")["created_at"]
    tx = store.transactions
    assert (tx["TX_DATETIME"].to_numpy() >= signup[tx["CUSTOMER_ID"]].to_numpy()).all()
    ses = store.sessions
    assert (ses["started_at"].to_numpy() >= signup[ses["customer_id"]].to_numpy()).all()
    # the payment matches its order lines (after any promo discount)
    lines = store.orders.assign(total=store.orders["quantity"] * store.orders["price"])
    gross = lines.groupby("order_id")["total"].sum()
    paid = tx.set_index("order_id")["TX_AMOUNT"]
    assert (paid <= gross[paid.index] + 0.01).all()
    assert (paid >= 0.79 * gross[paid.index] - 0.01).all()


def test_generate_store_when_generated_then_behaviour_has_recommender_signal(
    store: StoreData,
) -> None:
    views = store.sessions["viewed_product_ids"].str.split().explode()
    share = views.value_counts(normalize=True)
    top_decile = share.iloc[: max(1, len(share) // 10)].sum()
    assert top_decile > 0.3  # long tail
    cat = store.products.set_index("product_id")["category"]
    o = store.orders.assign(category=cat[store.orders["product_id"]].to_numpy())
    per_customer = o.groupby("customer_id")["category"]
    many = per_customer.size() >= 4
    top_share = per_customer.agg(lambda s: s.value_counts(normalize=True).iloc[0])[many]
    baseline = o["category"].value_counts(normalize=True).iloc[0]
    assert top_share.mean() > baseline + 0.1  # customers repeat their categories


def test_generate_store_when_generated_then_products_are_realistic(store: StoreData) -> None:
    p = store.products
    assert {"electronics", "apparel", "shoes", "home", "toys", "sports", "beauty", "books"} <= set(
        p["category"]
    )
    med = p.groupby("category")["price"].median()
    assert med["electronics"] > med["books"]
    assert (p["price"] > 0).all()
    fashion = p["category"].isin(["apparel", "shoes", "bags"])
    assert p.loc[fashion, "image_slot"].between(0, 9).all()
    assert p.loc[~fashion, "image_slot"].isna().all()
    assert (p.loc[p["category"] == "shoes", "image_slot"].isin([5, 7, 9])).all()


def test_generate_store_when_generated_then_helpful_reviews_are_longer(
    store: StoreData,
) -> None:
    r = store.reviews
    assert len(r) > 100
    assert r["rating"].between(1, 5).all()
    assert r["rating"].value_counts().idxmax() == 5
    words = r["text"].str.count(" ") + 1
    assert words.corr(r["helpful_votes"], method="spearman") > 0.2
    by_verified = r.groupby("verified_purchase")["helpful_votes"].mean()
    assert by_verified[1] > by_verified[0]
    assert r["text"].nunique() > 0.7 * len(r)


def test_ip_country_when_generated_ip_then_maps_to_country(store: StoreData) -> None:
    c = store.customers
    honest = ~c["customer_id"].isin(
        store.transactions.loc[store.transactions["TX_FRAUD"] == 1, "CUSTOMER_ID"]
    )
    assert (ip_country(c.loc[honest, "ip_address"]) == c.loc[honest, "country"]).mean() > 0.97
    assert ip_country(pd.Series(["999.1.1.1", "x"])).tolist() == ["", ""]


def test_write_store_when_round_trip_csv_and_parquet_then_frames_equal(
    small: StoreData, tmp_path: Path
) -> None:
    for fmt in ("csv", "parquet"):
        loaded = load_store(write_store(small, tmp_path / fmt, fmt=fmt))
        for name in TABLES:
            pd.testing.assert_frame_equal(small.table(name), loaded.table(name))


def test_write_store_when_out_dir_not_empty_then_refused_and_untouched(
    small: StoreData, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ShopguardError, match="not empty"):
        write_store(small, out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    write_store(small, out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.csv" for t in TABLES)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_write_store_when_writing_fails_midway_then_nothing_left_behind(
    small: StoreData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pd.DataFrame.to_csv
    calls = {"n": 0}

    def flaky(self: pd.DataFrame, *args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("disk full")
        return real(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(pd.DataFrame, "to_csv", flaky)
    with pytest.raises(ShopguardError, match="could not write"):
        write_store(small, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_generate_store_when_10000_customers_then_all_there_and_fraud_rate_realistic() -> None:
    # how long it takes is measured in BENCHMARKS.md (`time shopguard data generate ...`)
    big = generate_store(seed=1, customers=10_000)
    assert len(big.customers) == 10_000
    assert 0.005 <= big.transactions["TX_FRAUD"].mean() <= 0.02
