"""Table schemas of a store, their validation, and the loader for a store's own data.

A store directory holds one file per table, ``<table>.csv`` (UTF-8, header
row, comma separated) or ``<table>.parquet``; the format is detected per
table. :func:`load_store` reads, type-checks and cross-checks them and
returns a :class:`~shopguard.store.generate.StoreData`; it is what every
other command uses, for generated and real data alike.

Tables a store must provide: ``customers``, ``products``, ``orders`` and
``transactions``. ``sessions`` and ``reviews`` are optional (absent ones load
as empty tables). Inside each table only the columns marked *required* below
must exist; optional columns may be left out (they are then absent from the
loaded frame) and extra columns are kept as text.

=============  ==========================================================  ==============================
table          required columns                                            key / references
=============  ==========================================================  ==============================
customers      customer_id, created_at                                     customer_id unique
products       product_id, category, price                                 product_id unique
orders         order_id, customer_id, product_id, quantity, price,         customer_id -> customers,
               created_at                                                  product_id -> products
transactions   TRANSACTION_ID, TX_DATETIME, CUSTOMER_ID, TERMINAL_ID,      TRANSACTION_ID unique,
               TX_AMOUNT, TX_FRAUD                                         CUSTOMER_ID -> customers,
                                                                           order_id -> orders
sessions       session_id, customer_id, started_at                         viewed_product_ids -> products
reviews        review_id, product_id, rating, text                         product_id -> products,
                                                                           customer_id -> customers
=============  ==========================================================  ==============================

Value rules: integers and decimals in plain notation; timestamps in ISO 8601
(an offset is converted to UTC, a naive time is taken as UTC); flags are 0 or
1; prices, amounts, counts and ages are not negative; ratings are 1 to 5;
card numbers are 12-19 digits passing the Luhn check, or masked
(``4111********1111``: digits, then ``*``/``x``/``#``, then at most four
digits). Orders hold one row per order line, so ``order_id`` repeats.

Every problem raises :class:`~shopguard.core.errors.DataValidationError`
naming the file, the 1-based data row (header not counted) and the column,
never the offending value (it may be personal data).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from shopguard.core.errors import DataValidationError

if TYPE_CHECKING:
    from shopguard.store.generate import StoreData

__all__ = [
    "REQUIRED_TABLES",
    "SCHEMAS",
    "Column",
    "ForeignKey",
    "TableSchema",
    "conform",
    "find_table_files",
    "load_store",
    "luhn_valid",
    "validate_table",
]

Kind = Literal["str", "int", "float", "datetime", "date", "flag", "card", "idlist"]


@dataclass(frozen=True)
class Column:
    """One column: its name, kind, whether it must exist, may be empty, and its bounds."""

    name: str
    kind: Kind
    required: bool = False
    nullable: bool = False
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of this table must name a ``ref_column`` value of table ``ref_table``."""

    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True)
class TableSchema:
    """The columns, unique key and references of one table."""

    name: str
    required: bool
    columns: tuple[Column, ...]
    key: str | None = None
    foreign_keys: tuple[ForeignKey, ...] = ()

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def _c(name: str, kind: Kind, **kw: object) -> Column:
    return Column(name, kind, **kw)  # type: ignore[arg-type]


_ID = {"required": True}
SCHEMAS: dict[str, TableSchema] = {
    "customers": TableSchema(
        "customers",
        True,
        (
            _c("customer_id", "str", **_ID),
            _c("name", "str", nullable=True),
            _c("email", "str", nullable=True),
            _c("phone", "str", nullable=True),
            _c("street", "str", nullable=True),
            _c("city", "str", nullable=True),
            _c("postcode", "str", nullable=True),
            _c("country", "str", nullable=True),
            _c("date_of_birth", "date", nullable=True),
            _c("card_number", "card", nullable=True),
            _c("ip_address", "str", nullable=True),
            _c("device_id", "str", nullable=True),
            _c("created_at", "datetime", required=True),
            _c("jurisdiction", "str", nullable=True),
        ),
        key="customer_id",
    ),
    "products": TableSchema(
        "products",
        True,
        (
            _c("product_id", "str", **_ID),
            _c("name", "str", nullable=True),
            _c("category", "str", required=True),
            _c("price", "float", required=True, min=0),
            _c("image_slot", "int", nullable=True, min=0),
            _c("created_at", "datetime"),
        ),
        key="product_id",
    ),
    "sessions": TableSchema(
        "sessions",
        False,
        (
            _c("session_id", "str", **_ID),
            _c("customer_id", "str", required=True),
            _c("started_at", "datetime", required=True),
            _c("device_id", "str", nullable=True),
            _c("ip_address", "str", nullable=True),
            _c("n_page_views", "int", min=0),
            _c("viewed_product_ids", "idlist", nullable=True),
        ),
        key="session_id",
        foreign_keys=(
            ForeignKey("customer_id", "customers", "customer_id"),
            ForeignKey("viewed_product_ids", "products", "product_id"),
        ),
    ),
    "orders": TableSchema(
        "orders",
        True,
        (
            _c("order_id", "str", **_ID),
            _c("customer_id", "str", required=True),
            _c("product_id", "str", required=True),
            _c("quantity", "int", required=True, min=1),
            _c("price", "float", required=True, min=0),
            _c("created_at", "datetime", required=True),
            _c("shipping_street", "str", nullable=True),
            _c("shipping_city", "str", nullable=True),
            _c("shipping_postcode", "str", nullable=True),
            _c("shipping_country", "str", nullable=True),
            _c("billing_country", "str", nullable=True),
            _c("status", "str", nullable=True),
            _c("promo_code", "str", nullable=True),
        ),
        foreign_keys=(
            ForeignKey("customer_id", "customers", "customer_id"),
            ForeignKey("product_id", "products", "product_id"),
        ),
    ),
    "transactions": TableSchema(
        "transactions",
        True,
        (
            _c("TRANSACTION_ID", "int", required=True),
            _c("TX_DATETIME", "datetime", required=True),
            _c("CUSTOMER_ID", "str", required=True),
            _c("TERMINAL_ID", "str", required=True),
            _c("TX_AMOUNT", "float", required=True, min=0),
            _c("TX_FRAUD", "flag", required=True),
            _c("TX_TIME_SECONDS", "int"),
            _c("TX_TIME_DAYS", "int"),
            _c("order_id", "str", nullable=True),
            _c("card_number", "card", nullable=True),
            _c("device_id", "str", nullable=True),
            _c("ip_address", "str", nullable=True),
            _c("device_is_new", "flag"),
            _c("ship_bill_mismatch", "flag"),
            _c("ip_country_mismatch", "flag"),
            _c("account_age_days", "int", min=0),
            _c("card_present", "flag"),
            _c("fraud_pattern", "str", nullable=True),
        ),
        key="TRANSACTION_ID",
        foreign_keys=(
            ForeignKey("CUSTOMER_ID", "customers", "customer_id"),
            ForeignKey("order_id", "orders", "order_id"),
        ),
    ),
    "reviews": TableSchema(
        "reviews",
        False,
        (
            _c("review_id", "str", **_ID),
            _c("product_id", "str", required=True),
            _c("customer_id", "str", nullable=True),
            _c("rating", "int", required=True, min=1, max=5),
            _c("title", "str", nullable=True),
            _c("text", "str", required=True, nullable=True),
            _c("created_at", "datetime"),
            _c("verified_purchase", "flag"),
            _c("helpful_votes", "int", min=0),
        ),
        key="review_id",
        foreign_keys=(
            ForeignKey("product_id", "products", "product_id"),
            ForeignKey("customer_id", "customers", "customer_id"),
        ),
    ),
}

#: Tables a store's own data must provide.
REQUIRED_TABLES: tuple[str, ...] = tuple(n for n, s in SCHEMAS.items() if s.required)

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_FLAG = re.compile(r"[01]")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_CARD_SEP = re.compile(r"[ -]")
_CARD_DIGITS = re.compile(r"\d{12,19}")
_CARD_MASKED = re.compile(r"\d{0,8}[*xX#]{2,15}\d{0,4}")


def luhn_valid(number: str) -> bool:
    """Whether ``number`` (digits only) passes the Luhn check."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_ok(value: str) -> bool:
    v = _CARD_SEP.sub("", value)
    if _CARD_DIGITS.fullmatch(v):
        return luhn_valid(v)
    return bool(_CARD_MASKED.fullmatch(v)) and 12 <= len(v) <= 19


def _first_bad(mask: np.ndarray | pd.Series) -> int:
    """1-based row of the first True in ``mask``."""
    return int(np.flatnonzero(np.asarray(mask, dtype=bool))[0]) + 1


def _as_text(s: pd.Series) -> pd.Series:
    """The column as Python strings, missing values as ''."""
    obj = s.astype(object)
    return obj.where(obj.notna(), "").map(str)


def _parse_datetime(text: pd.Series, file: str, col: str) -> pd.Series:
    bad = ~text.str.fullmatch(_DATETIME.pattern) & (text != "")
    if bad.any():
        raise DataValidationError(
            "not an ISO 8601 date/time", file=file, row=_first_bad(bad), column=col
        )
    filled = text.where(text != "", None)
    try:
        parsed = pd.to_datetime(filled, format="ISO8601", utc=True)
    except (ValueError, OverflowError):
        for i, v in enumerate(filled.tolist()):
            try:
                pd.to_datetime(v, format="ISO8601", utc=True)
            except (ValueError, OverflowError):
                raise DataValidationError(
                    "unparsable date/time", file=file, row=i + 1, column=col
                ) from None
        raise  # pragma: no cover - the loop finds the row
    return parsed.dt.tz_convert(None).astype("datetime64[us]")


def _convert(s: pd.Series, col: Column, file: str) -> pd.Series:
    """Type-check and convert one column; returns the typed series."""
    name = col.name
    kind = col.kind
    is_text = s.dtype == object or isinstance(s.dtype, pd.StringDtype)
    if kind in ("str", "card", "idlist"):
        if (
            not is_text
            and not (s.isna().all() and len(s))
            and (kind != "str" or pd.api.types.is_datetime64_any_dtype(s.dtype))
        ):
            raise DataValidationError("wrong type: expected text", file=file, column=name)
        text = _as_text(s)
        if kind == "card":
            bad = ~text.map(_card_ok) & (text != "")
            if bad.any():
                raise DataValidationError(
                    "not a valid card number (Luhn) or masked card number",
                    file=file,
                    row=_first_bad(bad),
                    column=name,
                )
        return text.astype(str)
    if kind in ("datetime", "date"):
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out = s
            if getattr(out.dt, "tz", None) is not None:
                out = out.dt.tz_convert(None)
            out = out.astype("datetime64[us]")
        elif is_text:
            out = _parse_datetime(_as_text(s), file, name)
        else:
            raise DataValidationError("wrong type: expected a date/time", file=file, column=name)
        if kind == "date":
            out = out.dt.normalize()
        return out
    # numbers
    if is_text:
        text = _as_text(s).str.strip()
        pattern = {"int": _INT, "float": _FLOAT, "flag": _FLAG}[kind]
        bad = ~text.str.fullmatch(pattern.pattern) & (text != "")
        if bad.any():
            expected = {"int": "an integer", "float": "a number", "flag": "0 or 1"}[kind]
            raise DataValidationError(
                f"wrong type: expected {expected}", file=file, row=_first_bad(bad), column=name
            )
        num = pd.to_numeric(text.where(text != "", None))
    elif pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        num = s.astype("Float64") if kind != "float" else s.astype("float64")
    else:
        raise DataValidationError("wrong type: expected a number", file=file, column=name)
    num = pd.Series(num, index=s.index)
    if kind == "float":
        out = num.astype("float64")
        finite = np.isfinite(out.to_numpy(dtype="float64", na_value=np.nan)) | out.isna()
        if not finite.all():
            raise DataValidationError(
                "not a finite number", file=file, row=_first_bad(~finite), column=name
            )
        return out
    as_float = num.astype("Float64")
    frac = (as_float.notna() & (as_float % 1 != 0)).fillna(False)
    if frac.any():
        raise DataValidationError(
            "wrong type: expected an integer", file=file, row=_first_bad(frac), column=name
        )
    if kind == "flag":
        bad = as_float.notna() & ~as_float.isin([0, 1])
        if bad.fillna(False).any():
            raise DataValidationError(
                "wrong value: expected 0 or 1",
                file=file,
                row=_first_bad(bad.fillna(False)),
                column=name,
            )
    ints = as_float.astype("Int64")
    if col.nullable:
        return ints
    return ints if ints.isna().any() else ints.astype("int64")


def validate_table(name: str, frame: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Check one table against its schema and return it typed.

    Parameters
    ----------
    name:
        Table name (a key of :data:`SCHEMAS`).
    frame:
        The table as read: text columns (from CSV) or typed ones (from Parquet).
    file:
        File name used in error messages (defaults to ``<name>``).

    Raises
    ------
    DataValidationError
        A required column is missing, a value has the wrong type, is missing
        where required, is out of range, or a key repeats.
    """
    schema = SCHEMAS[name]
    where = file or name
    frame = frame.reset_index(drop=True)
    for col in schema.columns:
        if col.required and col.name not in frame.columns:
            raise DataValidationError("missing required column", file=where, column=col.name)
    out: dict[str, pd.Series] = {}
    for col in schema.columns:
        if col.name not in frame.columns:
            continue
        raw = frame[col.name]
        typed = _convert(raw, col, where)
        missing = (
            (typed == "")
            if typed.dtype == object or pd.api.types.is_string_dtype(typed.dtype)
            else typed.isna()
        )
        if not col.nullable and bool(missing.any()):
            raise DataValidationError(
                "missing value", file=where, row=_first_bad(missing), column=col.name
            )
        if col.min is not None or col.max is not None:
            vals = typed.astype("float64") if typed.dtype != "Int64" else typed.astype("Float64")
            low = (vals < col.min).fillna(False) if col.min is not None else None
            high = (vals > col.max).fillna(False) if col.max is not None else None
            for bad, what in (
                (low, f"below {col.min:g}" if col.min is not None else ""),
                (high, f"above {col.max:g}" if col.max is not None else ""),
            ):
                if bad is not None and bool(bad.any()):
                    raise DataValidationError(
                        f"value out of range ({what})",
                        file=where,
                        row=_first_bad(bad),
                        column=col.name,
                    )
        out[col.name] = typed
    if schema.key is not None:
        dup = out[schema.key].duplicated()
        if dup.any():
            raise DataValidationError(
                "duplicate key", file=where, row=_first_bad(dup), column=schema.key
            )
    known = {c.name for c in schema.columns}
    for extra in frame.columns:
        if extra not in known:
            out[str(extra)] = _as_text(frame[extra]).astype(str)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def conform(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Cast an in-memory table to the dtypes :func:`load_store` produces (no value checks)."""
    schema = SCHEMAS[name]
    out: dict[str, pd.Series] = {}
    for col in schema.columns:
        if col.name not in frame.columns:
            continue
        s = frame[col.name]
        if col.kind in ("str", "card", "idlist"):
            out[col.name] = _as_text(s).astype(str)
        elif col.kind in ("datetime", "date"):
            out[col.name] = pd.to_datetime(s).astype("datetime64[us]")
        elif col.kind == "float":
            out[col.name] = s.astype("float64")
        elif col.nullable:
            out[col.name] = s.astype("Int64")
        else:
            out[col.name] = s.astype("int64")
    for extra in frame.columns:
        if extra not in out:
            out[str(extra)] = frame[extra]
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def find_table_files(directory: str | os.PathLike[str]) -> dict[str, Path]:
    """Map each table found in ``directory`` to its file (``.csv`` or ``.parquet``).

    Raises
    ------
    DataValidationError
        The directory does not exist, a table is there in both formats, or a
        required table is missing.
    """
    root = Path(directory)
    if not root.is_dir():
        raise DataValidationError("store directory not found", file=str(root))
    found: dict[str, Path] = {}
    for name, schema in SCHEMAS.items():
        paths = [p for p in (root / f"{name}.csv", root / f"{name}.parquet") if p.is_file()]
        if len(paths) > 1:
            raise DataValidationError(
                "table present both as CSV and as Parquet; keep one", file=str(paths[0])
            )
        if paths:
            found[name] = paths[0]
        elif schema.required:
            raise DataValidationError(
                "missing required table (expected .csv or .parquet)", file=str(root / name)
            )
    return found


_CSV_LINE = re.compile(r"line (\d+)")


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        try:
            return pd.read_parquet(path, engine="pyarrow")
        except Exception as exc:  # pyarrow raises many kinds for a bad file
            raise DataValidationError(
                f"not a readable Parquet file ({type(exc).__name__})", file=path.name
            ) from None
    try:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8"
        )
    except pd.errors.EmptyDataError:
        raise DataValidationError("file is empty (no header row)", file=path.name) from None
    except pd.errors.ParserError as exc:
        m = _CSV_LINE.search(str(exc))
        row = int(m.group(1)) - 1 if m else None
        raise DataValidationError(
            "malformed CSV (wrong number of fields)", file=path.name, row=row
        ) from None
    except UnicodeDecodeError:
        raise DataValidationError("not UTF-8 text", file=path.name) from None


def _check_references(tables: dict[str, pd.DataFrame], files: dict[str, str]) -> None:
    for name, frame in tables.items():
        for fk in SCHEMAS[name].foreign_keys:
            if fk.column not in frame.columns or fk.ref_table not in tables:
                continue
            ref = tables[fk.ref_table]
            if fk.ref_column not in ref.columns:
                continue
            known = pd.Index(ref[fk.ref_column].unique())
            values = frame[fk.column]
            if SCHEMAS[name].column(fk.column).kind == "idlist":
                parts = values.str.split().explode()
                parts = parts[parts.notna() & (parts != "")]
                bad_idx = parts.index[~parts.isin(known)]
                bad = pd.Series(False, index=frame.index)
                bad[bad_idx] = True
            else:
                bad = ~values.isin(known) & (values != "")
            if bad.any():
                raise DataValidationError(
                    f"unknown {fk.ref_column} (no such row in {fk.ref_table})",
                    file=files[name],
                    row=_first_bad(bad),
                    column=fk.column,
                )


def load_store(directory: str | os.PathLike[str]) -> StoreData:
    """Load and validate a store from ``directory``.

    Each table is read from ``<table>.csv`` or ``<table>.parquet`` (whichever
    is there), checked against :data:`SCHEMAS`, and cross-checked: every
    reference (an order's customer and product, a payment's customer and
    order, a review's product and customer, a session's viewed products)
    must exist. ``sessions`` and ``reviews`` may be absent and then load as
    empty tables.

    Raises
    ------
    DataValidationError
        Naming file, 1-based data row and column of the first problem.
    """
    from shopguard.store.generate import StoreData

    files = find_table_files(directory)
    tables: dict[str, pd.DataFrame] = {}
    names: dict[str, str] = {}
    for name, schema in SCHEMAS.items():
        if name not in files:
            empty = pd.DataFrame({c.name: pd.Series([], dtype=object) for c in schema.columns})
            tables[name] = conform(name, empty)
            names[name] = name
            continue
        path = files[name]
        names[name] = path.name
        tables[name] = validate_table(name, _read(path), file=path.name)
    _check_references(tables, names)
    return StoreData(**tables)
