from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from shopguard.cli import main
from shopguard.core.errors import DataValidationError
from shopguard.core.runtime import Runtime
from shopguard.privacy.pii import PiiType
from shopguard.privacy.tables import scan_database_table, scan_file, scan_frame
from shopguard.store.generate import generate_store


@pytest.fixture(scope="module")
def store():
    return generate_store(seed=3, customers=300)


def test_scan_frame_when_customer_table_then_personal_columns_typed(store) -> None:
    found = {f.column: f for f in scan_frame(store.customers, sample=100)}
    expected = {
        "email": PiiType.EMAIL,
        "card_number": PiiType.CREDIT_CARD,
        "ip_address": PiiType.IP_ADDRESS,
        "name": PiiType.PERSON,
        "phone": PiiType.PHONE,
        "date_of_birth": PiiType.DATE_OF_BIRTH,
        "street": PiiType.POSTAL_ADDRESS,
    }
    for column, kind in expected.items():
        assert found[column].type is kind, column
        assert found[column].confidence >= 0.8, column
    assert "created_at" not in found and "jurisdiction" not in found


def test_scan_frame_when_values_hide_nothing_then_no_findings(store) -> None:
    found = scan_frame(store.products[["category", "price", "image_slot"]])
    assert found == []


def test_scan_frame_when_column_named_email_holds_hashes_then_low_confidence_by_name() -> None:
    frame = pd.DataFrame({"email": ["9f86d081884c7d659a2feaa0c55ad015"] * 20, "note": ["ok"] * 20})
    [finding] = scan_frame(frame)
    assert finding.type is PiiType.EMAIL and finding.by_name and finding.confidence < 0.5


def test_scan_frame_when_unnamed_column_holds_emails_then_found_by_values() -> None:
    frame = pd.DataFrame({"c7": [f"user{i}@example.org" for i in range(30)]})
    [finding] = scan_frame(frame)
    assert finding.type is PiiType.EMAIL and not finding.by_name and finding.confidence >= 0.8
    assert "example.org" not in repr(finding)


def test_scan_database_table_when_table_exists_then_scanned(runtime: Runtime, store) -> None:
    store.customers[["customer_id", "email", "phone"]].head(50).to_sql(
        "shop_customers_copy", runtime.engine, index=False
    )
    found = {f.column: f.type for f in scan_database_table(runtime.engine, "shop_customers_copy")}
    assert found["email"] is PiiType.EMAIL and found["phone"] is PiiType.PHONE
    with pytest.raises(DataValidationError):
        scan_database_table(runtime.engine, "no_such_table")
    with runtime.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE shop_customers_copy"))


def test_scan_file_when_csv_and_parquet_then_same_findings(tmp_path: Path, store) -> None:
    frame = store.customers.head(80)
    frame.to_csv(tmp_path / "c.csv", index=False)
    frame.to_parquet(tmp_path / "c.parquet", index=False)
    a = {(f.column, f.type) for f in scan_file(tmp_path / "c.csv")}
    b = {(f.column, f.type) for f in scan_file(tmp_path / "c.parquet")}
    assert a == b and ("email", PiiType.EMAIL) in a


@pytest.mark.parametrize(
    "argv",
    [
        ["privacy", "scan-table"],
        ["privacy", "scan-table", "missing.csv"],
        ["privacy", "scan-table", "x.txt"],
    ],
)
def test_cli_scan_table_when_bad_input_then_exit_2(tmp_path: Path, capsys, argv) -> None:
    (tmp_path / "x.txt").write_text("a,b\n")
    assert main([*argv[:2], *[str(tmp_path / a) for a in argv[2:]]]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
