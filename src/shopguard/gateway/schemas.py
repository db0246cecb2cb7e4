"""Request and response bodies. Strict: unknown fields are refused (422), and booleans and
numbers are not coerced from other JSON types (``0`` is not ``false``, ``true`` is not 1)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, field_validator


def _json_int(value: object) -> object:
    # JSON Schema's "integer" admits 4.0 but not true, "4" or 4.5.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a JSON integer")
        return int(value)
    return value


def _json_number(value: object) -> object:
    # JSON Schema's "number": not true, not "4.5" (lax float would take both).
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_int)]
JsonNumber = Annotated[float, BeforeValidator(_json_number)]
#: Years 1970-2200 only: documented in the schema, checked by the pattern.
_TIMESTAMP_PATTERN = r"^(19[7-9][0-9]|20[0-9]{2}|21[0-9]{2}|2200)-"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TransactionIn(_Strict):
    transaction_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    customer_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    terminal_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    amount: JsonNumber = Field(ge=0, le=1_000_000)
    timestamp: datetime = Field(json_schema_extra={"pattern": _TIMESTAMP_PATTERN})
    device_is_new: StrictBool = False
    ship_bill_mismatch: StrictBool = False
    ip_country_mismatch: StrictBool = False
    account_age_days: JsonInt = Field(default=365, ge=0, le=36_500)
    card_present: StrictBool = False

    @field_validator("timestamp", mode="before")
    @classmethod
    def _iso_string(cls, value: object) -> object:
        # The schema says an ISO 8601 string; refuse numbers rather than read them as epochs.
        if not isinstance(value, str) or not re.match(_TIMESTAMP_PATTERN, value):
            raise ValueError("timestamp must be an ISO 8601 string in the years 1970-2200")
        return value

    @property
    def naive_utc(self) -> datetime:
        """The timestamp in UTC without tzinfo (the fraud model's time base)."""
        ts = self.timestamp
        return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


class ReasonOut(BaseModel):
    code: str
    description: str
    contribution: float


class FraudScoreOut(BaseModel):
    transaction_id: str
    score: float
    decision: str
    #: Why (declines and reviews): reason codes, largest contribution first.
    reasons: list[ReasonOut] = []
    #: Quote it to ask for human review (``POST /v1/decisions/{decision_id}/review``).
    decision_id: str | None = None
    #: The fairness mitigation the decision was made with (the score is then the mitigated one).
    mitigation: str | None = None


class FraudLabelIn(_Strict):
    transaction_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    #: True: the payment turned out to be fraud (a chargeback); False: it was genuine.
    fraud: StrictBool


class FraudLabelsIn(_Strict):
    labels: list[FraudLabelIn] = Field(min_length=1, max_length=1000)


class FraudLabelsOut(BaseModel):
    accepted: int


class RecommendationsOut(BaseModel):
    customer_id: str
    products: list[str]
    personalised: bool


class ReviewIn(_Strict):
    product_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    customer_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    rating: JsonInt = Field(ge=1, le=5)
    title: str = Field(min_length=1, max_length=200, pattern=r"\S")  # not only spaces
    text: str = Field(min_length=1, max_length=5000, pattern=r"\S")  # not only spaces


class ReviewOut(BaseModel):
    review_id: str
    rating: int
    title: str
    text: str
    verified_purchase: bool
    helpfulness: float | None = None
    #: On submission: ``accepted`` (published) or ``quarantined`` (held for moderation).
    status: str | None = None


class ProductReviewsOut(BaseModel):
    product_id: str
    reviews: list[ReviewOut]


class ConsentChangeIn(_Strict):
    purpose: Literal["personalisation", "analytics", "marketing", "model_training"]
    granted: StrictBool
    policy_version: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.:-]+$")


class ConsentPurposeOut(BaseModel):
    granted: bool
    default: bool
    since: str | None = None
    source: str | None = None
    policy_version: str | None = None


class ConsentOut(BaseModel):
    customer_id: str
    jurisdiction: str | None
    purposes: dict[str, ConsentPurposeOut]
