"""PII discovery in tables: classify each column of a CSV / Parquet file or database table.

A column is judged by a sample of its values (the text detector and its
validators: Luhn, IBAN mod-97, phone grammar...) and by its name (``email``,
``dob``, ``shipping_street``...). Values carry the decision; a name alone gives
a lower confidence, since a column called ``email`` may hold hashes. Results
name columns and types, never values, so they can feed the data map and logs.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.errors import DataValidationError
from shopguard.privacy.pii import PiiDetector, PiiType

__all__ = ["ColumnFinding", "scan_database_table", "scan_file", "scan_frame"]

#: Column-name hints: token patterns -> type.
_NAME_HINTS: list[tuple[re.Pattern[str], PiiType]] = [
    (re.compile(r"e_?mail"), PiiType.EMAIL),
    (re.compile(r"phone|mobile|tel"), PiiType.PHONE),
    (re.compile(r"card_?(number|no|num)|^pan$|^card$"), PiiType.CREDIT_CARD),
    (re.compile(r"iban"), PiiType.IBAN),
    (re.compile(r"(^|_)ip(_|$)|ip_?addr"), PiiType.IP_ADDRESS),
    (re.compile(r"street|address|city|postcode|post_code|zip"), PiiType.POSTAL_ADDRESS),
    (re.compile(r"birth|dob"), PiiType.DATE_OF_BIRTH),
    (re.compile(r"ssn|social_?security"), PiiType.US_SSN),
    (re.compile(r"passport"), PiiType.PASSPORT),
    (re.compile(r"(^|_)(full_?)?name$|first_?name|last_?name|surname"), PiiType.PERSON),
]


@dataclass(frozen=True)
class ColumnFinding:
    """One column judged to hold personal data (no values inside)."""

    column: str
    type: PiiType
    confidence: float
    matched_fraction: float
    sampled: int
    by_name: bool

    def to_json(self) -> dict[str, object]:
        return {
            "column": self.column,
            "type": self.type.value,
            "confidence": round(self.confidence, 3),
            "matched_fraction": round(self.matched_fraction, 3),
            "sampled": self.sampled,
            "by_name": self.by_name,
        }


def _name_hint(column: str) -> PiiType | None:
    key = re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_")
    for pattern, kind in _NAME_HINTS:
        if pattern.search(key):
            return kind
    return None


def _value_type(detector: PiiDetector, value: str, *, birthish: bool) -> PiiType | None:
    text = value.strip()
    if not text:
        return None
    if birthish and _plausible_birth_date(text):
        return PiiType.DATE_OF_BIRTH
    covered: Counter[PiiType] = Counter()
    for ent in detector.detect(text):
        covered[ent.type] += ent.end - ent.start
    if not covered:
        return None
    kind, chars = covered.most_common(1)[0]
    return kind if chars >= 0.8 * len(text.replace(" ", "")) else None


def _plausible_birth_date(text: str) -> bool:
    try:
        d = datetime.fromisoformat(text[:10]).date()
    except ValueError:
        return False
    age = (date.today() - d).days / 365.25
    return 13 <= age <= 120


def scan_frame(
    frame: pd.DataFrame,
    *,
    sample: int = 200,
    random_state: int = 0,
    detector: PiiDetector | None = None,
) -> list[ColumnFinding]:
    """Columns of ``frame`` that hold personal data, most confident first."""
    det = detector or PiiDetector()
    findings: list[ColumnFinding] = []
    for column in frame.columns:
        values = frame[column].dropna()
        if len(values) > sample:
            values = values.sample(n=sample, random_state=random_state)
        texts = [str(v) for v in values]
        hint = _name_hint(str(column))
        votes = Counter(
            t
            for t in (_value_type(det, v, birthish=hint is PiiType.DATE_OF_BIRTH) for v in texts)
            if t is not None
        )
        kind: PiiType | None = None
        fraction = 0.0
        if votes:
            kind, count = votes.most_common(1)[0]
            fraction = count / max(len(texts), 1)
        if kind is not None and fraction >= 0.3:
            agree = hint is kind
            confidence = min(1.0, 0.5 + 0.5 * fraction) if agree else 0.9 * fraction
            findings.append(
                ColumnFinding(str(column), kind, confidence, fraction, len(texts), agree)
            )
        elif hint is not None:
            # Named like personal data but the values did not confirm it (masked, hashed, empty).
            findings.append(ColumnFinding(str(column), hint, 0.4, fraction, len(texts), True))
    return sorted(findings, key=lambda f: (-f.confidence, f.column))


def scan_file(path: Path, **kw: object) -> list[ColumnFinding]:
    """Scan a CSV or Parquet file (by extension)."""
    suffix = "".join(path.suffixes[-2:]).lower()
    try:
        if suffix.endswith(".parquet"):
            frame = pd.read_parquet(path)
        elif suffix.endswith((".csv", ".csv.gz")):
            frame = pd.read_csv(path, dtype=str, keep_default_na=True)
        else:
            raise DataValidationError("expected a .csv, .csv.gz or .parquet file", file=str(path))
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataValidationError(
            f"cannot read table ({type(exc).__name__})", file=str(path)
        ) from None
    return scan_frame(frame, **kw)  # type: ignore[arg-type]


def scan_database_table(
    engine: Engine, table: str, *, sample: int = 200, **kw: object
) -> list[ColumnFinding]:
    """Scan a table of the configured database (reflected by name: no SQL is built from text)."""
    try:
        reflected = sa.Table(table, sa.MetaData(), autoload_with=engine)
    except sa.exc.NoSuchTableError:
        raise DataValidationError(f"no table {table!r} in the database") from None
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(sa.select(reflected).limit(sample)).mappings().all())
    return scan_frame(frame, sample=sample, **kw)  # type: ignore[arg-type]
