"""Schema and range validation of ingested records, one error per bad field.

A record that fails is rejected with every reason found (row, column,
reason), never silently dropped or coerced; the values themselves never
appear in a reason (they may be personal data).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pandas as pd

__all__ = ["REQUIRED", "FieldError", "Kind", "clean_record", "validate_record"]


class Kind(StrEnum):
    """What a record is."""

    REVIEW = "review"
    TRANSACTION = "transaction"
    SESSION = "session"


@dataclass(frozen=True)
class FieldError:
    """Why one field of one record was refused (no value inside)."""

    column: str
    reason: str


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _ident(v: Any) -> str | None:
    s = str(v).strip()
    if not 1 <= len(s) <= 128:
        return "must be 1 to 128 characters"
    if any(c.isspace() for c in s) or not s.isprintable():
        return "must not contain spaces or control characters"
    return None


def _text(v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be text"
    if not v.strip():
        return "is empty"
    if len(v) > 5000:
        return "longer than 5000 characters"
    if "\x00" in v:
        return "contains a NUL character"
    return None


def _title(v: Any) -> str | None:
    if not isinstance(v, str) or len(v) > 200:
        return "must be text of at most 200 characters"
    return None


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _rating(v: Any) -> str | None:
    x = _number(v)
    if x is None or x != int(x):
        return "must be a whole number"
    if not 1 <= x <= 5:
        return "must be between 1 and 5"
    return None


def _amount(v: Any) -> str | None:
    x = _number(v)
    if x is None:
        return "must be a finite number"
    if not 0 < x <= 1_000_000:
        return "must be above 0 and at most 1,000,000"
    return None


def _label(v: Any) -> str | None:
    x = _number(v)
    if x is None or x not in (0.0, 1.0):
        return "must be 0 or 1"
    return None


def _bool(v: Any) -> str | None:
    if isinstance(v, bool):
        return None
    if str(v).strip().lower() in {"0", "1", "true", "false", "yes", "no", "0.0", "1.0"}:
        return None
    return "must be true or false"


def _time(v: Any) -> str | None:
    try:
        ts = pd.Timestamp(v)
    except (ValueError, TypeError):
        return "is not a date/time"
    if pd.isna(ts):
        return "is not a date/time"
    if not 1990 <= ts.year <= 2100:
        return "is out of range"
    return None


def _nonneg(v: Any) -> str | None:
    x = _number(v)
    if x is None or x < 0 or x > 36_500:
        return "must be a number of days from 0 to 36,500"
    return None


def _items(v: Any) -> str | None:
    if not isinstance(v, str) or not v.split():
        return "must list at least one product id"
    if len(v.split()) > 500:
        return "lists more than 500 products"
    return None


Rule = Callable[[Any], str | None]

#: Per kind: column -> (required, rule).
SCHEMAS: dict[Kind, dict[str, tuple[bool, Rule]]] = {
    Kind.REVIEW: {
        "id": (True, _ident),
        "text": (True, _text),
        "rating": (True, _rating),
        "title": (False, _title),
        "product_id": (False, _ident),
        "reviewer_id": (False, _ident),
        "created_at": (False, _time),
        "verified_purchase": (False, _bool),
        "account_age_days": (False, _nonneg),
    },
    Kind.TRANSACTION: {
        "id": (True, _ident),
        "customer_id": (True, _ident),
        "terminal_id": (True, _ident),
        "amount": (True, _amount),
        "tx_datetime": (True, _time),
        "label": (False, _label),
        "label_source": (False, _ident),
    },
    Kind.SESSION: {
        "id": (True, _ident),
        "customer_id": (True, _ident),
        "items": (True, _items),
        "started_at": (False, _time),
    },
}

#: Required columns per kind.
REQUIRED: dict[Kind, tuple[str, ...]] = {
    k: tuple(c for c, (req, _) in spec.items() if req) for k, spec in SCHEMAS.items()
}


def validate_record(kind: Kind, record: Mapping[str, Any]) -> list[FieldError]:
    """Every problem with ``record`` (empty when it is valid). Unknown columns are ignored."""
    errors = []
    for column, (required, rule) in SCHEMAS[kind].items():
        value = record.get(column)
        if _missing(value):
            if required:
                errors.append(FieldError(column, "is required"))
            continue
        reason = rule(value)
        if reason is not None:
            errors.append(FieldError(column, reason))
    return errors


def _as_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    return str(v).strip().lower() in {"1", "true", "yes", "1.0"}


def clean_record(kind: Kind, record: Mapping[str, Any]) -> dict[str, Any]:
    """The known, present fields of a *valid* record in canonical types (for hashing, storage)."""
    out: dict[str, Any] = {}
    for column in SCHEMAS[kind]:
        value: Any = record.get(column)
        if _missing(value):
            continue
        if column in ("rating", "label"):
            out[column] = int(float(value))
        elif column in ("amount", "account_age_days"):
            out[column] = float(value)
        elif column == "verified_purchase":
            out[column] = _as_bool(value)
        elif column in ("created_at", "tx_datetime", "started_at"):
            ts = pd.Timestamp(value)
            if ts.tzinfo is not None:
                ts = ts.tz_convert("UTC").tz_localize(None)
            out[column] = ts.isoformat()
        elif column in ("text", "title"):
            out[column] = str(value)
        else:
            out[column] = str(value).strip()
    return out
