"""Entity types and the result value of PII detection."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["PiiEntity", "PiiType"]


class PiiType(StrEnum):
    """Kinds of personal data found in text."""

    PERSON = "PERSON"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CREDIT_CARD = "CREDIT_CARD"
    IBAN = "IBAN"
    IP_ADDRESS = "IP_ADDRESS"
    POSTAL_ADDRESS = "POSTAL_ADDRESS"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    US_SSN = "US_SSN"
    PASSPORT = "PASSPORT"
    # store pack
    ORDER_ID = "ORDER_ID"
    CUSTOMER_ID = "CUSTOMER_ID"
    TRACKING_NUMBER = "TRACKING_NUMBER"
    LOYALTY_ID = "LOYALTY_ID"
    PARTIAL_CARD = "PARTIAL_CARD"


@dataclass(frozen=True, slots=True)
class PiiEntity:
    """One detected entity: its type and character offsets ``[start, end)``.

    Holds offsets, never the matched text, so results can be logged and
    passed around without carrying the personal data they point at.
    """

    type: PiiType
    start: int
    end: int
    score: float

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError("entity offsets must satisfy 0 <= start < end")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError("entity score must be in [0, 1]")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: ``{"type", "start", "end", "score"}``."""
        return {
            "type": self.type.value,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
        }
