"""Loading and validating transaction tables (Fraud Detection Handbook layout)."""

from __future__ import annotations

import csv
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from shopguard.core.errors import DataValidationError
from shopguard.store.fraud._features import EXTRA_NUMERIC_COLUMNS

__all__ = ["LABEL_COLUMN", "REQUIRED_COLUMNS", "load_transactions", "validate_transactions"]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "TRANSACTION_ID",
    "TX_DATETIME",
    "CUSTOMER_ID",
    "TERMINAL_ID",
    "TX_AMOUNT",
)
LABEL_COLUMN = "TX_FRAUD"
_INTEGRAL_ID = re.compile(r"-?\d{1,18}")


def load_transactions(path: str | Path) -> pd.DataFrame:
    """Read a transactions CSV (optionally gzip-compressed) and validate it.

    Parameters
    ----------
    path:
        CSV with at least :data:`REQUIRED_COLUMNS`; ``TX_FRAUD`` (0/1) and the whitelisted
        extra numeric columns are optional, other columns are kept but never model inputs.

    Returns
    -------
    pandas.DataFrame
        ``TX_DATETIME`` as ``datetime64``, ``TX_AMOUNT`` as float, ids as read.

    Raises
    ------
    DataValidationError
        Missing or unreadable file, malformed CSV, missing column, unparsable date,
        missing / non-numeric / negative amount, bad label, duplicate transaction id.
        The message names the file, the 1-based data row and the column, never a value.
    """
    p = Path(path)
    name = str(path)
    if not p.is_file():
        raise DataValidationError("file not found", file=name)
    try:
        # Everything as text first: types are checked here, with row numbers, not guessed.
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, compression="infer")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise DataValidationError(f"malformed CSV ({type(exc).__name__})", file=name) from None
    except (UnicodeDecodeError, OSError, EOFError, zlib.error) as exc:
        raise DataValidationError(f"unreadable file ({type(exc).__name__})", file=name) from None
    return validate_transactions(raw, source=name)


def _bad_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0]) + 1


def _first_zone_change(text: pd.Series) -> int | None:
    """1-based row of the first date whose offset-or-not differs from the first row's."""
    first: bool | None = None
    for i, value in enumerate(text, start=1):
        try:
            aware = pd.Timestamp(value).tzinfo is not None
        except (ValueError, TypeError, OverflowError):
            continue
        if first is None:
            first = aware
        elif aware != first:
            return i
    return None


def _blank(series: pd.Series) -> np.ndarray:
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.astype("string")
        return np.asarray(text.isna() | (text.str.strip() == ""), dtype=bool)
    return np.asarray(series.isna(), dtype=bool)


def _numeric(series: pd.Series, *, source: str, column: str, allow_missing: bool) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(np.float64)
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.astype(np.float64)
        blank = np.asarray(values.isna(), dtype=bool)
    else:
        blank = _blank(series)
        text = series.astype("string").str.strip().mask(pd.Series(blank, index=series.index))
        lowered = text.str.lower()
        text = text.mask(lowered == "true", "1").mask(lowered == "false", "0")
        # Coercion only locates the first bad cell; it never passes a bad value on.
        values = pd.to_numeric(text, errors="coerce").astype(np.float64)
        bad = np.asarray(values.isna(), dtype=bool) & ~blank
        if bad.any():
            raise DataValidationError(
                "value is not a number", file=source, row=_bad_row(bad), column=column
            )
    if not allow_missing and blank.any():
        raise DataValidationError("missing value", file=source, row=_bad_row(blank), column=column)
    if not np.isfinite(values.fillna(0.0).to_numpy()).all():
        bad = ~np.isfinite(values.fillna(0.0).to_numpy())
        raise DataValidationError(
            "value is not finite", file=source, row=_bad_row(bad), column=column
        )
    return values


def _clean_text_ids(ids: pd.Series) -> bool:
    """True when the full checks would keep ``ids`` as they are: non-blank, stripped strings,
    not all of them integral (those the full checks turn into integers)."""
    if ids.dtype != object and not pd.api.types.is_string_dtype(ids.dtype):
        return False
    values = ids.to_numpy(dtype=object)
    if not all(type(v) is str and v and v == v.strip() for v in values):
        return False
    return any(_INTEGRAL_ID.fullmatch(v) is None for v in values)


def _typed_and_clean(frame: pd.DataFrame) -> bool:
    """True when ``frame`` already has the right dtypes and no bad value (numpy-only checks).

    The fast path of in-memory scoring (one row plus its history): frames that pass need no
    conversion; anything else goes through the full checks, which locate the bad cell.
    """
    dt = frame["TX_DATETIME"]
    if not (pd.api.types.is_datetime64_any_dtype(dt.dtype) and getattr(dt.dt, "tz", None) is None):
        return False
    for col in ("TRANSACTION_ID", "CUSTOMER_ID", "TERMINAL_ID"):
        if not (pd.api.types.is_integer_dtype(frame[col].dtype) or _clean_text_ids(frame[col])):
            return False
    numeric = ["TX_AMOUNT"] + [
        c for c in (LABEL_COLUMN, *EXTRA_NUMERIC_COLUMNS) if c in frame.columns
    ]
    for col in numeric:
        dtype = frame[col].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            return False
    if dt.isna().any():
        return False
    amount = frame["TX_AMOUNT"].to_numpy(dtype=np.float64)
    if not (np.isfinite(amount).all() and (amount >= 0).all()):
        return False
    if LABEL_COLUMN in frame.columns:
        label = frame[LABEL_COLUMN].to_numpy(dtype=np.float64)
        if not np.isin(label[~np.isnan(label)], (0.0, 1.0)).all():
            return False
    for col in EXTRA_NUMERIC_COLUMNS:
        if col in frame.columns and np.isinf(frame[col].to_numpy(dtype=np.float64)).any():
            return False
    ids = frame["TRANSACTION_ID"].to_numpy()
    return bool(np.unique(ids).shape[0] == ids.shape[0])


def validate_transactions(frame: pd.DataFrame, *, source: str = "<dataframe>") -> pd.DataFrame:
    """Check and normalise a transactions table; returns a new frame.

    Same checks as :func:`load_transactions`, for frames built in memory (``source`` names
    them in errors).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError("required column is missing", file=source, column=missing[0])
    if _typed_and_clean(frame):
        return frame.reset_index(drop=True)
    out = frame.copy()
    out.index = pd.RangeIndex(len(out))

    for col in ("TRANSACTION_ID", "CUSTOMER_ID", "TERMINAL_ID"):
        blank = _blank(out[col])
        if blank.any():
            raise DataValidationError("missing value", file=source, row=_bad_row(blank), column=col)
    dup = np.asarray(out["TRANSACTION_ID"].duplicated(), dtype=bool)
    if dup.any():
        raise DataValidationError(
            "duplicate transaction id", file=source, row=_bad_row(dup), column="TRANSACTION_ID"
        )
    # Ids read as text: normalise "007" vs "7"-style integer ids only when every id is integral.
    for col in ("TRANSACTION_ID", "CUSTOMER_ID", "TERMINAL_ID"):
        if not pd.api.types.is_numeric_dtype(out[col].dtype):
            as_text = out[col].astype("string").str.strip()
            if bool(as_text.str.fullmatch(_INTEGRAL_ID.pattern).all()):
                out[col] = as_text.astype(np.int64)
            else:
                out[col] = as_text.astype(object)

    dt_col = out["TX_DATETIME"]
    if not pd.api.types.is_datetime64_any_dtype(dt_col.dtype):
        blank = _blank(dt_col)
        if blank.any():
            raise DataValidationError(
                "missing date", file=source, row=_bad_row(blank), column="TX_DATETIME"
            )
        text = dt_col.astype("string").str.strip()
        try:
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        except ValueError:
            # pandas refuses a column where some dates carry a UTC offset and others do not
            # (a fuzz finding): which zone the bare ones are in is not ours to guess.
            raise DataValidationError(
                "dates mix UTC offsets and local times; give every date an offset or none",
                file=source,
                row=_first_zone_change(text),
                column="TX_DATETIME",
            ) from None
        bad = np.asarray(parsed.isna(), dtype=bool)
        if bad.any():
            raise DataValidationError(
                "unparsable date (expected ISO 8601, e.g. 2018-04-01 00:00:31)",
                file=source,
                row=_bad_row(bad),
                column="TX_DATETIME",
            )
        dt_col = parsed
    else:
        bad = np.asarray(dt_col.isna(), dtype=bool)
        if bad.any():
            raise DataValidationError(
                "missing date", file=source, row=_bad_row(bad), column="TX_DATETIME"
            )
    if getattr(dt_col.dt, "tz", None) is not None:
        dt_col = dt_col.dt.tz_convert("UTC").dt.tz_localize(None)
    try:
        out["TX_DATETIME"] = dt_col.astype("datetime64[ns]")
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        # Parsed, but outside what a nanosecond timestamp holds (years 1677-2262): a fuzz finding.
        lo, hi = pd.Timestamp.min, pd.Timestamp.max
        out_of_range = np.asarray((dt_col < lo) | (dt_col > hi), dtype=bool)
        raise DataValidationError(
            "date out of range (years 1677-2262)",
            file=source,
            row=_bad_row(out_of_range) if out_of_range.any() else None,
            column="TX_DATETIME",
        ) from None

    amount = _numeric(out["TX_AMOUNT"], source=source, column="TX_AMOUNT", allow_missing=False)
    neg = np.asarray(amount < 0, dtype=bool)
    if neg.any():
        raise DataValidationError(
            "amount is negative", file=source, row=_bad_row(neg), column="TX_AMOUNT"
        )
    out["TX_AMOUNT"] = amount

    if LABEL_COLUMN in out.columns:
        label = _numeric(out[LABEL_COLUMN], source=source, column=LABEL_COLUMN, allow_missing=True)
        bad = np.asarray(~(label.isna() | label.isin([0.0, 1.0])), dtype=bool)
        if bad.any():
            raise DataValidationError(
                "label must be 0 or 1", file=source, row=_bad_row(bad), column=LABEL_COLUMN
            )
        out[LABEL_COLUMN] = label

    for col in EXTRA_NUMERIC_COLUMNS:
        if col in out.columns:
            out[col] = _numeric(out[col], source=source, column=col, allow_missing=True)
    return out
