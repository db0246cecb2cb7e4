"""Loading a store's own data: every problem names file, row and column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from shopguard.core.errors import DataValidationError
from shopguard.store.generate import StoreData, generate_store, write_store
from shopguard.store.schema import (
    REQUIRED_TABLES,
    SCHEMAS,
    load_store,
    luhn_valid,
    validate_table,
)


@pytest.fixture(scope="module")
def base() -> StoreData:
    return generate_store(seed=3, customers=150)


@pytest.fixture
def store_dir(base: StoreData, tmp_path: Path) -> Path:
    return write_store(base, tmp_path / "store")


def _edit(directory: Path, table: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    path = directory / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(frame).to_csv(path, index=False)


def _set(column: str, row: int, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Set the 1-based data ``row`` of ``column`` to ``value``."""

    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row - 1, column] = value
        return frame

    return change


def _error(directory: Path) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        load_store(directory)
    return info.value


@pytest.mark.parametrize(
    ("table", "column", "row", "value", "message"),
    [
        ("orders", "quantity", 4, "two", "expected an integer"),
        ("orders", "quantity", 2, "1.5", "expected an integer"),
        ("products", "price", 3, "12,99", "expected a number"),
        ("products", "price", 7, "-4.00", "out of range"),
        ("transactions", "TX_AMOUNT", 5, "-0.01", "out of range"),
        ("transactions", "TX_FRAUD", 6, "2", "0 or 1"),
        ("transactions", "TX_DATETIME", 8, "yesterday", "ISO 8601"),
        ("transactions", "TX_DATETIME", 9, "2025-13-45 10:00:00", "unparsable"),
        ("customers", "created_at", 2, "", "missing value"),
        ("customers", "customer_id", 3, "", "missing value"),
        ("customers", "card_number", 5, "4111111111111112", "Luhn"),
        ("customers", "card_number", 6, "hello world", "card"),
        ("reviews", "rating", 2, "6", "above 5"),
        ("sessions", "n_page_views", 3, "-1", "below 0"),
    ],
)
def test_load_store_when_bad_value_then_error_names_file_row_column(
    store_dir: Path, table: str, column: str, row: int, value: str, message: str
) -> None:
    _edit(store_dir, table, _set(column, row, value))
    err = _error(store_dir)
    assert (err.file, err.row, err.column) == (f"{table}.csv", row, column)
    assert message in str(err)
    if value:
        assert value not in str(err)  # values may be personal data


@pytest.mark.parametrize(
    ("table", "column", "ref"),
    [
        ("orders", "customer_id", "customers"),
        ("orders", "product_id", "products"),
        ("transactions", "CUSTOMER_ID", "customers"),
        ("transactions", "order_id", "orders"),
        ("reviews", "product_id", "products"),
    ],
)
def test_load_store_when_dangling_reference_then_error_names_row(
    store_dir: Path, table: str, column: str, ref: str
) -> None:
    _edit(store_dir, table, _set(column, 3, "X9999999"))
    err = _error(store_dir)
    assert (err.file, err.row, err.column) == (f"{table}.csv", 3, column)
    assert f"no such row in {ref}" in str(err)


def test_load_store_when_viewed_product_unknown_then_error_names_session_row(
    store_dir: Path,
) -> None:
    _edit(store_dir, "sessions", _set("viewed_product_ids", 5, "P00001 P99999"))
    err = _error(store_dir)
    assert (err.file, err.row, err.column) == ("sessions.csv", 5, "viewed_product_ids")


def test_load_store_when_required_column_missing_then_error_names_column(
    store_dir: Path,
) -> None:
    _edit(store_dir, "transactions", lambda f: f.drop(columns=["TERMINAL_ID"]))
    err = _error(store_dir)
    assert (err.file, err.row, err.column) == ("transactions.csv", None, "TERMINAL_ID")
    assert "missing required column" in str(err)


def test_load_store_when_duplicate_key_then_error_names_second_row(store_dir: Path) -> None:
    def dup(frame: pd.DataFrame) -> pd.DataFrame:
        ids = frame["product_id"].tolist()
        ids[9] = ids[2]
        return frame.assign(product_id=ids)

    _edit(store_dir, "products", dup)
    err = _error(store_dir)
    assert (err.file, err.row, err.column) == ("products.csv", 10, "product_id")


def test_load_store_when_csv_malformed_then_error_names_file_and_row(store_dir: Path) -> None:
    path = store_dir / "products.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] += ",surplus,fields"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = _error(store_dir)
    assert (err.file, err.row) == ("products.csv", 4)
    assert "malformed CSV" in str(err)


def test_load_store_when_file_empty_or_not_utf8_then_error_names_file(store_dir: Path) -> None:
    (store_dir / "orders.csv").write_bytes(b"")
    assert _error(store_dir).file == "orders.csv"
    (store_dir / "orders.csv").write_bytes(b"order_id\n\xff\xfe\n")
    err = _error(store_dir)
    assert err.file == "orders.csv" and "UTF-8" in str(err)


def test_load_store_when_required_table_missing_then_error(store_dir: Path) -> None:
    (store_dir / "transactions.csv").unlink()
    err = _error(store_dir)
    assert err.file is not None and err.file.endswith("transactions")
    assert "missing required table" in str(err)


def test_load_store_when_directory_missing_then_error(tmp_path: Path) -> None:
    err = _error(tmp_path / "nope")
    assert "not found" in str(err)


def test_load_store_when_table_in_both_formats_then_error(store_dir: Path) -> None:
    pd.read_csv(store_dir / "products.csv").to_parquet(store_dir / "products.parquet")
    assert "both" in str(_error(store_dir))


def test_load_store_when_optional_tables_absent_then_empty_frames(store_dir: Path) -> None:
    (store_dir / "sessions.csv").unlink()
    (store_dir / "reviews.csv").unlink()
    store = load_store(store_dir)
    assert store.sessions.empty and list(store.sessions.columns) == [
        c.name for c in SCHEMAS["sessions"].columns
    ]
    assert store.reviews.empty
    assert len(store.orders) > 0
    assert set(REQUIRED_TABLES) == {"customers", "products", "orders", "transactions"}


def test_load_store_when_only_required_columns_then_loads(tmp_path: Path) -> None:
    d = tmp_path / "mine"
    d.mkdir()
    (d / "customers.csv").write_text("customer_id,created_at\nA1,2024-05-01T10:00:00+02:00\n")
    (d / "products.csv").write_text("product_id,category,price\nSKU-1,books,9.5\n")
    (d / "orders.csv").write_text(
        "order_id,customer_id,product_id,quantity,price,created_at,note\n"
        "1,A1,SKU-1,2,9.5,2024-06-01,gift wrap\n"
    )
    (d / "transactions.csv").write_text(
        "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_FRAUD,card_number\n"
        "7,2024-06-01 00:00:05,A1,web-1,19,0,4111 11** **** 1111\n"
    )
    store = load_store(d)
    # offsets become UTC; naive times are taken as UTC
    assert store.customers["created_at"].iloc[0] == pd.Timestamp("2024-05-01 08:00:00")
    assert store.orders["quantity"].dtype == "int64"
    assert store.orders["note"].iloc[0] == "gift wrap"  # extra columns kept
    assert store.transactions["TX_AMOUNT"].iloc[0] == 19.0


def test_load_store_when_parquet_has_wrong_type_then_error_names_row(
    base: StoreData, tmp_path: Path
) -> None:
    d = write_store(base, tmp_path / "pq", fmt="parquet")
    products = base.products.copy()
    products["price"] = products["price"].astype(str)
    products.loc[4, "price"] = "cheap"
    products.to_parquet(d / "products.parquet")
    err = _error(d)
    assert (err.file, err.row, err.column) == ("products.parquet", 5, "price")
    tx = base.transactions.copy()
    tx["TX_FRAUD"] = tx["TX_FRAUD"].astype(float)
    tx.loc[2, "TX_FRAUD"] = 0.5
    base.products.to_parquet(d / "products.parquet")
    tx.to_parquet(d / "transactions.parquet")
    err = _error(d)
    assert (err.file, err.row, err.column) == ("transactions.parquet", 3, "TX_FRAUD")


def test_load_store_when_parquet_corrupt_then_error_names_file(
    base: StoreData, tmp_path: Path
) -> None:
    d = write_store(base, tmp_path / "pq", fmt="parquet")
    (d / "orders.parquet").write_bytes(b"PAR1 not really")
    err = _error(d)
    assert err.file == "orders.parquet" and "Parquet" in str(err)


def test_validate_table_when_masked_cards_then_accepted_and_garbage_rejected() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "created_at": ["2024-01-01"] * 4,
            "card_number": ["4111********1111", "555555XXXXXX4444", "", "4111-1111-1111-1111"],
        }
    )
    typed = validate_table("customers", frame, file="c.csv")
    assert typed["card_number"].tolist() == frame["card_number"].tolist()
    frame.loc[3, "card_number"] = "****"
    with pytest.raises(DataValidationError) as info:
        validate_table("customers", frame, file="c.csv")
    assert (info.value.row, info.value.column) == (4, "card_number")


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("4111111111111111", True),
        ("5555555555554444", True),
        ("378282246310005", True),
        ("4111111111111112", False),
        ("79927398713", True),
        ("79927398710", False),
        ("4111a11111111111", False),
    ],
)
def test_luhn_valid_when_known_vectors_then_matches(number: str, ok: bool) -> None:
    assert luhn_valid(number) is ok
