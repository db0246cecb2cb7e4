"""Unit tests of the reference fraud scorer (shopguard.store.fraud)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from shopguard.core.errors import DataValidationError, ModelError
from shopguard.store.fraud import (
    EXTRA_NUMERIC_COLUMNS,
    FraudModel,
    build_features,
    card_precision_at_k,
    handbook_test_mask,
    load_transactions,
    train_fraud,
    validate_transactions,
)

DATA = (
    Path(__file__).resolve().parents[3]
    / "../shared/data/fraud_fdh_simulated/transactions_2018-04-01_to_2018-05-31.csv.gz"
)
FAST = {"max_iter": 20}


def synthetic(n_days: int = 40, seed: int = 0, extras: bool = False) -> pd.DataFrame:
    """Small FDH-layout table: 60 customers, 80 terminals, two fraud mechanisms."""
    rng = np.random.default_rng(seed)
    rows = []
    base = pd.Timestamp("2018-04-01")
    mean_amount = rng.uniform(10, 90, 60)
    bad_terminals = {3: (20, 34), 7: (10, 24)}
    tid = 0
    for day in range(n_days):
        for cust in range(60):
            for _ in range(rng.poisson(2)):
                term = int(rng.integers(0, 80))
                amount = max(0.0, rng.normal(mean_amount[cust], mean_amount[cust] / 2))
                fraud = 0
                if term in bad_terminals and bad_terminals[term][0] <= day < bad_terminals[term][1]:
                    fraud = 1
                if rng.random() < 0.01:
                    amount, fraud = 250.0 + rng.random() * 100, 1
                secs = int(rng.integers(0, 86_400))
                rows.append(
                    (
                        tid,
                        base + pd.Timedelta(days=day, seconds=secs),
                        cust,
                        term,
                        round(amount, 2),
                        fraud,
                    )
                )
                tid += 1
    df = pd.DataFrame(
        rows,
        columns=[
            "TRANSACTION_ID",
            "TX_DATETIME",
            "CUSTOMER_ID",
            "TERMINAL_ID",
            "TX_AMOUNT",
            "TX_FRAUD",
        ],
    )
    df = df.sort_values("TX_DATETIME", kind="mergesort").reset_index(drop=True)
    df["TRANSACTION_ID"] = np.arange(len(df))
    if extras:
        df["device_is_new"] = (rng.random(len(df)) < 0.1).astype(int)
        df["account_age_days"] = rng.integers(1, 900, len(df))
        df["fraud_pattern"] = np.where(df["TX_FRAUD"] == 1, "x", "")
    return df


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return synthetic()


@pytest.fixture(scope="module")
def small_model(small: pd.DataFrame) -> FraudModel:
    return train_fraud(small, random_state=0, params=FAST)


def _write(tmp_path: Path, df: pd.DataFrame, name: str = "tx.csv") -> Path:
    p = tmp_path / name
    df.to_csv(p, index=False)
    return p


# -- loading and validation -------------------------------------------------------------------


def test_load_transactions_when_valid_csv_then_types_are_parsed(tmp_path, small):
    got = load_transactions(_write(tmp_path, small.head(50)))
    assert pd.api.types.is_datetime64_any_dtype(got["TX_DATETIME"])
    assert got["TX_AMOUNT"].dtype == np.float64
    assert got["TRANSACTION_ID"].tolist() == small.head(50)["TRANSACTION_ID"].tolist()


def test_load_transactions_when_column_missing_then_error_names_file_and_column(tmp_path, small):
    p = _write(tmp_path, small.head(5).drop(columns=["TERMINAL_ID"]))
    with pytest.raises(DataValidationError) as err:
        load_transactions(p)
    assert err.value.column == "TERMINAL_ID"
    assert err.value.file == str(p)
    assert "TERMINAL_ID" in str(err.value) and str(p) in str(err.value)


def test_load_transactions_when_date_unparsable_then_error_names_row_and_column(tmp_path, small):
    df = small.head(10).astype({"TX_DATETIME": str})
    df.loc[6, "TX_DATETIME"] = "not a date"
    with pytest.raises(DataValidationError) as err:
        load_transactions(_write(tmp_path, df))
    assert (err.value.row, err.value.column) == (7, "TX_DATETIME")
    assert "not a date" not in str(err.value)


@pytest.mark.parametrize(
    ("bad", "what"), [("-3.5", "negative"), ("12,50 EUR", "not a number"), ("", "missing")]
)
def test_load_transactions_when_amount_bad_then_error_names_row(tmp_path, small, bad, what):
    df = small.head(10).astype({"TX_AMOUNT": str})
    df.loc[3, "TX_AMOUNT"] = bad
    with pytest.raises(DataValidationError, match=what) as err:
        load_transactions(_write(tmp_path, df))
    assert (err.value.row, err.value.column) == (4, "TX_AMOUNT")


def test_load_transactions_when_label_not_binary_then_error(tmp_path, small):
    df = small.head(10).copy()
    df.loc[2, "TX_FRAUD"] = 2
    with pytest.raises(DataValidationError) as err:
        load_transactions(_write(tmp_path, df))
    assert (err.value.row, err.value.column) == (3, "TX_FRAUD")


def test_load_transactions_when_duplicate_id_then_error(tmp_path, small):
    df = small.head(10).copy()
    df.loc[5, "TRANSACTION_ID"] = df.loc[1, "TRANSACTION_ID"]
    with pytest.raises(DataValidationError) as err:
        load_transactions(_write(tmp_path, df))
    assert (err.value.row, err.value.column) == (6, "TRANSACTION_ID")


def test_load_transactions_when_file_missing_then_error(tmp_path):
    with pytest.raises(DataValidationError, match="not found"):
        load_transactions(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    "content",
    [b"", b'TRANSACTION_ID,TX_DATETIME\n1,"2018-04-01\n', b"\x1f\x8b\x08\x00garbage"],
)
def test_load_transactions_when_file_malformed_then_error(tmp_path, content):
    p = tmp_path / "bad.csv.gz" if content.startswith(b"\x1f") else tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(DataValidationError) as err:
        load_transactions(p)
    assert err.value.file == str(p)


def test_load_transactions_when_gzip_then_same_as_plain(tmp_path, small):
    plain = _write(tmp_path, small.head(30))
    gz = tmp_path / "tx.csv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    pd.testing.assert_frame_equal(load_transactions(plain), load_transactions(gz))


# -- features ---------------------------------------------------------------------------------


def test_build_features_when_future_rows_change_then_earlier_features_unchanged(small):
    tx = validate_transactions(small)
    before = build_features(tx)
    cut = tx["TX_DATETIME"].iloc[len(tx) // 2]
    future = tx["TX_DATETIME"] > cut
    changed = tx.copy()
    changed.loc[future, "TX_AMOUNT"] *= 7
    changed.loc[future, "TX_FRAUD"] = 1 - changed.loc[future, "TX_FRAUD"]
    changed.loc[future, "TX_DATETIME"] += pd.Timedelta(hours=1)
    extra = changed.iloc[[-1]].assign(TRANSACTION_ID=10**9, TX_AMOUNT=5000.0)
    after = build_features(pd.concat([changed, extra], ignore_index=True))
    pd.testing.assert_frame_equal(before[~future], after.iloc[: len(tx)][~future])
    # The check can fail: the future rows' own features did change.
    assert not before[future].equals(after.iloc[: len(tx)][future])


def test_build_features_when_label_inside_delay_then_terminal_risk_ignores_it():
    t0 = pd.Timestamp("2018-04-10 12:00")
    df = pd.DataFrame(
        {
            "TRANSACTION_ID": [1, 2, 3],
            "TX_DATETIME": [t0 - pd.Timedelta(days=9), t0 - pd.Timedelta(days=3), t0],
            "CUSTOMER_ID": [1, 2, 3],
            "TERMINAL_ID": [9, 9, 9],
            "TX_AMOUNT": [10.0, 10.0, 10.0],
            "TX_FRAUD": [0, 1, 0],
        }
    )
    feats = build_features(validate_transactions(df), delay_days=7)
    assert feats.loc[2, "TERMINAL_ID_RISK_7DAY_WINDOW"] == 0.0  # the day-3 fraud is not known yet
    assert feats.loc[2, "TERMINAL_ID_NB_TX_7DAY_WINDOW"] == 1.0
    df.loc[0, "TX_FRAUD"] = 1  # a fraud 9 days old is known
    feats = build_features(validate_transactions(df), delay_days=7)
    assert feats.loc[2, "TERMINAL_ID_RISK_7DAY_WINDOW"] == 1.0


def test_build_features_when_windows_then_match_handbook_rolling(small):
    tx = validate_transactions(small)
    feats = build_features(tx)
    for _, rows in list(tx.groupby("CUSTOMER_ID"))[:10]:
        s = rows.set_index("TX_DATETIME")["TX_AMOUNT"]
        for w in (1, 7, 30):
            np.testing.assert_allclose(
                feats.loc[rows.index, f"CUSTOMER_ID_NB_TX_{w}DAY_WINDOW"],
                s.rolling(f"{w}D").count(),
            )
            np.testing.assert_allclose(
                feats.loc[rows.index, f"CUSTOMER_ID_AVG_AMOUNT_{w}DAY_WINDOW"],
                s.rolling(f"{w}D").mean(),
            )


# -- model ------------------------------------------------------------------------------------


def test_score_when_batch_then_probabilities_in_unit_interval(small_model, small):
    s = small_model.score(small)
    assert s.shape == (len(small),)
    assert np.all((s >= 0) & (s <= 1))


def test_score_when_single_row_with_history_then_equals_batch_score(small_model, small):
    batch = small_model.score(small)
    i = len(small) - 5
    one = small_model.score(small.iloc[[i]], history=small.iloc[:i])
    assert one[0] == pytest.approx(batch[i], abs=1e-12)
    # History rows that are also being scored are taken once (no duplicate-id error).
    both = small_model.score(small.iloc[i - 3 : i + 1], history=small.iloc[: i + 1])
    assert both[-1] == pytest.approx(batch[i], abs=1e-12)


def test_validate_when_text_ids_then_clean_kept_padded_stripped_digits_made_integers(small):
    # The store's ids are text ("C000970"): clean ones pass unchanged (scoring's fast path),
    # anything the full checks would rewrite still is rewritten, and blanks are still refused.
    two = small.iloc[:2]
    clean = two.assign(CUSTOMER_ID=["C1", "C2"], TERMINAL_ID=pd.array(["T1", "T2"], "string"))
    out = validate_transactions(clean)
    assert list(out["CUSTOMER_ID"]) == ["C1", "C2"] and list(out["TERMINAL_ID"]) == ["T1", "T2"]
    padded = validate_transactions(two.assign(CUSTOMER_ID=[" C1", "C2 "]))
    assert list(padded["CUSTOMER_ID"]) == ["C1", "C2"]
    digits = validate_transactions(two.assign(CUSTOMER_ID=["007", "8"]))
    assert list(digits["CUSTOMER_ID"]) == [7, 8] and digits["CUSTOMER_ID"].dtype == np.int64
    with pytest.raises(DataValidationError, match="missing value"):
        validate_transactions(two.assign(CUSTOMER_ID=["C1", " "]))
    with pytest.raises(DataValidationError, match="duplicate transaction id"):
        validate_transactions(two.assign(TRANSACTION_ID=["t1", "t1"]))


def test_score_when_ids_are_text_then_same_as_integer_ids(small_model, small):
    as_text = small.assign(
        CUSTOMER_ID="C" + small["CUSTOMER_ID"].astype(str),
        TERMINAL_ID="T" + small["TERMINAL_ID"].astype(str),
    )
    np.testing.assert_allclose(small_model.score(as_text), small_model.score(small), atol=1e-12)


def test_score_when_scenario_column_present_then_ignored(small_model, small):
    noisy = small.assign(TX_FRAUD_SCENARIO=np.arange(len(small)) % 4, fraud_pattern="z")
    np.testing.assert_array_equal(small_model.score(noisy), small_model.score(small))


def test_train_when_extra_columns_present_then_used_and_required_for_scoring():
    df = synthetic(n_days=20, extras=True)
    model = train_fraud(df, params=FAST, validation_days=0)
    assert model.extra_columns_ == ["device_is_new", "account_age_days"]
    assert "fraud_pattern" not in model.feature_names_
    assert set(model.extra_columns_) <= set(EXTRA_NUMERIC_COLUMNS)
    with pytest.raises(DataValidationError) as err:
        model.score(df.drop(columns=["account_age_days"]))
    assert err.value.column == "account_age_days"


def test_train_when_labels_missing_then_error(small):
    with pytest.raises(DataValidationError) as err:
        train_fraud(small.drop(columns=["TX_FRAUD"]), params=FAST)
    assert err.value.column == "TX_FRAUD"


def test_train_when_long_enough_then_metrics_hold_validation(small_model):
    valid = small_model.metrics["validation"]
    assert valid is not None and 0.0 <= valid["roc_auc"] <= 1.0
    assert "average_precision" in valid and "card_precision_at_100_daily_mean" in valid


def test_save_load_when_round_trip_then_identical_scores(tmp_path, small_model, small):
    small_model.save(tmp_path / "m")
    loaded = FraudModel.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.score(small), small_model.score(small))
    assert json.loads((tmp_path / "m" / "metrics.json").read_text()) == json.loads(
        json.dumps(small_model.metrics)
    )
    small_model.save(tmp_path / "m")  # replacing an existing model directory is allowed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_save_when_directory_holds_other_files_then_refused(tmp_path, small_model):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "notes.txt").write_text("keep me")
    with pytest.raises(ModelError):
        small_model.save(tmp_path / "m")
    assert (tmp_path / "m" / "notes.txt").read_text() == "keep me"


def test_load_when_artifact_tampered_then_model_error(tmp_path, small_model):
    d = small_model.save(tmp_path / "m")
    blob = bytearray((d / "model.skops").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (d / "model.skops").write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="digest"):
        FraudModel.load(d)


def _reseal(d: Path, blob: bytes) -> None:
    import hashlib

    (d / "model.skops").write_bytes(blob)
    meta = json.loads((d / "model.json").read_text())
    meta["artifact_sha256"] = hashlib.sha256(blob).hexdigest()
    (d / "model.json").write_text(json.dumps(meta))


def test_load_when_foreign_estimator_then_model_error(tmp_path, small_model):
    d = small_model.save(tmp_path / "m")
    lr = LogisticRegression().fit(np.random.default_rng(0).random((20, 3)), [0, 1] * 10)
    _reseal(d, sio.dumps(lr))
    with pytest.raises(ModelError, match="not a gradient-boosting"):
        FraudModel.load(d)


class _Foreign:
    def __init__(self) -> None:
        self.payload = [1, 2, 3]


def test_load_when_artifact_holds_untrusted_type_then_model_error(tmp_path, small_model):
    d = small_model.save(tmp_path / "m")
    _reseal(d, sio.dumps(_Foreign()))
    with pytest.raises(ModelError, match="untrusted"):
        FraudModel.load(d)


@pytest.mark.parametrize("what", ["no_dir", "format", "not_json"])
def test_load_when_not_a_fraud_model_then_model_error(tmp_path, small_model, what):
    d = small_model.save(tmp_path / "m")
    if what == "no_dir":
        d = tmp_path / "missing"
    elif what == "format":
        meta = json.loads((d / "model.json").read_text())
        meta["format"] = "someone.else/1"
        (d / "model.json").write_text(json.dumps(meta))
    else:
        (d / "model.json").write_text("{not json")
    with pytest.raises(ModelError):
        FraudModel.load(d)


# -- evaluation helpers -----------------------------------------------------------------------


def test_card_precision_at_k_when_detected_card_then_removed_next_day():
    day1, day2 = pd.Timestamp("2018-05-01 10:00"), pd.Timestamp("2018-05-02 10:00")
    tx = pd.DataFrame(
        {
            "TX_DATETIME": [day1, day1, day1, day2, day2, day2],
            "CUSTOMER_ID": [1, 1, 2, 1, 2, 3],
            "TX_FRAUD": [0, 1, 0, 1, 0, 1],
        }
    )
    scores = np.array([0.1, 0.9, 0.5, 0.99, 0.2, 0.1])
    # Day 1: card 1 (max 0.9, compromised) is top-1 -> 1.0. Day 2: card 1 is removed, card 2
    # (0.2, genuine) outranks card 3 (0.1) -> 0.0.
    assert card_precision_at_k(tx, scores, k=1) == [1.0, 0.0]


def test_handbook_test_mask_when_card_known_compromised_then_excluded():
    start = pd.Timestamp("2018-05-01")
    days = [0, 3, 14, 14, 15, 21]
    tx = pd.DataFrame(
        {
            "TX_DATETIME": [start + pd.Timedelta(days=d, hours=5) for d in days],
            "CUSTOMER_ID": [1, 2, 1, 2, 3, 3],
            "TX_FRAUD": [1, 0, 1, 0, 0, 0],
        }
    )
    train, test = handbook_test_mask(tx, train_start=start)
    assert train.tolist() == [True, True, False, False, False, False]
    # Card 1 defrauded in training: its test rows are dropped; day 21 is past the test week.
    assert test.tolist() == [False, False, False, True, True, False]


# -- real data ----------------------------------------------------------------------------


@pytest.mark.slow
def test_train_fraud_when_small_fdh_slice_then_beats_random():
    # Not a skip: the shared datasets sit beside every checkout, CI's included.
    assert DATA.is_file(), f"shared FDH data missing at {DATA}"
    raw = pd.read_csv(DATA)
    raw = raw[raw["CUSTOMER_ID"] < 600].drop(columns=["TX_FRAUD_SCENARIO"])
    tx = validate_transactions(raw, source="fdh")
    t = tx["TX_DATETIME"]
    train = (t >= "2018-05-01") & (t < "2018-05-15")
    test = t >= "2018-05-22"
    model = train_fraud(
        tx[train], history=tx[t < "2018-05-01"], params={"max_iter": 100}, validation_days=0
    )
    scores = model.score(tx[test], history=tx[~test])
    auc = roc_auc_score(tx.loc[test, "TX_FRAUD"], scores)
    assert auc > 0.8


def test_score_when_small_batch_then_compiled_trees_match_sklearn(small_model, small):
    rows = small.iloc[-10:]
    X = small_model.features(rows, history=small.iloc[:-10])
    expected = small_model.estimator_.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(small_model.score(rows, history=small.iloc[:-10]), expected)


def test_train_when_a_feature_is_missing_everywhere_then_still_fits():
    # Six days < the 7-day delay: no terminal fraud label is known yet on any row.
    df = synthetic(n_days=6)
    model = train_fraud(df, params=FAST, validation_days=0)
    assert np.isnan(
        model.features(df)[
            :, model.feature_names_.index("TERMINAL_ID_DAYS_SINCE_FIRST_KNOWN_FRAUD")
        ]
    ).all()
    assert np.all((model.score(df) >= 0) & (model.score(df) <= 1))
