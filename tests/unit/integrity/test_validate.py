from __future__ import annotations

from shopguard.integrity.validate import Kind, clean_record, validate_record


def test_validate_when_review_is_valid_then_no_errors() -> None:
    rec = {"id": "r1", "text": "good", "rating": "5", "verified_purchase": "true"}
    assert validate_record(Kind.REVIEW, rec) == []
    clean = clean_record(Kind.REVIEW, rec)
    assert clean == {"id": "r1", "text": "good", "rating": 5, "verified_purchase": True}


def test_validate_when_fields_bad_then_one_error_per_field_without_values() -> None:
    rec = {"id": "has space", "text": "", "rating": "77", "created_at": "31st of Smarch"}
    errs = {e.column: e.reason for e in validate_record(Kind.REVIEW, rec)}
    assert set(errs) == {"id", "text", "rating", "created_at"}
    assert "77" not in errs["rating"] and "Smarch" not in errs["created_at"]


def test_validate_when_transaction_amount_not_finite_then_rejected() -> None:
    base = {"id": "t1", "customer_id": "c", "terminal_id": "t", "tx_datetime": "2026-01-01"}
    for bad in ("nan", "inf", "-5", "abc", "0"):
        errs = validate_record(Kind.TRANSACTION, {**base, "amount": bad})
        assert [e.column for e in errs] == ["amount"], bad
    assert validate_record(Kind.TRANSACTION, {**base, "amount": "12.5", "label": "1"}) == []
    assert [
        e.column for e in validate_record(Kind.TRANSACTION, {**base, "amount": 3, "label": 2})
    ] == ["label"]


def test_validate_when_session_has_no_items_then_rejected() -> None:
    errs = validate_record(Kind.SESSION, {"id": "s", "customer_id": "c", "items": "  "})
    assert [(e.column, e.reason) for e in errs] == [("items", "is required")]
