"""Pattern recognizers: a weak pattern proposes, a strong validator decides.

Each recognizer is a plug-in in :data:`recognizers` (registry kind ``pii``)
with a stable dotted ``name`` and the :class:`PiiType` it finds. Context words
near a candidate raise its score; some recognizers (passport, loyalty id, date
of birth) require them because their pattern alone is too weak.

References
----------
Microsoft Presidio, pattern recognizers with validation:
https://microsoft.github.io/presidio/analyzer/adding_recognizers/
"""

from __future__ import annotations

import re
from abc import ABC
from typing import ClassVar

from shopguard.core.registry import Registry
from shopguard.privacy.pii._types import PiiEntity, PiiType
from shopguard.privacy.pii._validators import (
    iban_valid,
    ip_valid,
    luhn_valid,
    phone_valid,
    ssn_valid,
)

__all__ = ["PatternRecognizer", "recognizers"]


class PatternRecognizer(ABC):
    """Finds one entity type with a regex, an optional validator and context words.

    Subclasses set the class attributes; ``group`` names the regex group that is
    the entity (0: the whole match).
    """

    name: ClassVar[str]
    entity: ClassVar[PiiType]
    pattern: ClassVar[re.Pattern[str]]
    group: ClassVar[int | str] = 0
    score: ClassVar[float] = 0.85
    context: ClassVar[re.Pattern[str] | None] = None
    context_required: ClassVar[bool] = False
    context_window: ClassVar[int] = 40
    context_boost: ClassVar[float] = 0.1

    def validate(self, candidate: str) -> bool:
        """The strong check of a candidate (default: none)."""
        return True

    def find(self, text: str) -> list[PiiEntity]:
        """Every validated match in ``text`` as an entity (offsets only)."""
        out: list[PiiEntity] = []
        for m in self.pattern.finditer(text):
            start, end = m.span(self.group)
            if start == end:
                continue
            if not self.validate(text[start:end]):
                continue
            score = self.score
            if self.context is not None:
                lo = max(0, start - self.context_window)
                near = self.context.search(text, lo, start) is not None
                if self.context_required and not near:
                    continue
                if near:
                    score = min(1.0, score + self.context_boost)
            out.append(PiiEntity(self.entity, start, end, score))
        return out


recognizers: Registry[PatternRecognizer] = Registry("pii")


@recognizers.register
class EmailRecognizer(PatternRecognizer):
    """E-mail addresses (RFC 5322 dot-atom local part, dotted domain with a TLD)."""

    name = "pii.email"
    entity = PiiType.EMAIL
    pattern = re.compile(
        r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}\b"
    )
    score = 0.95


@recognizers.register
class CreditCardRecognizer(PatternRecognizer):
    """Payment card numbers of 12 to 19 digits, grouped or not, passing Luhn."""

    name = "pii.credit_card"
    entity = PiiType.CREDIT_CARD
    pattern = re.compile(
        r"(?<![\w-])(?:\d{4}[ -]?){2,3}\d{4}(?:[ -]?\d{1,3})?(?![\w-])|(?<![\w-])\d{12,19}(?![\w-])"
    )

    def validate(self, candidate: str) -> bool:
        return luhn_valid(candidate)

    score = 0.9
    context = re.compile(r"(?i)\b(?:card|visa|master\s?card|amex|credit|debit|payment|cc)\b")


@recognizers.register
class IbanRecognizer(PatternRecognizer):
    """International bank account numbers, grouped or not, any case, passing mod-97."""

    name = "pii.iban"
    entity = PiiType.IBAN
    pattern = re.compile(
        r"(?<![\w])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?(?![\w])"
    )

    def validate(self, candidate: str) -> bool:
        return iban_valid(candidate)

    score = 0.95


@recognizers.register
class Ipv4Recognizer(PatternRecognizer):
    """IPv4 addresses in dotted-quad form."""

    name = "pii.ipv4"
    entity = PiiType.IP_ADDRESS
    pattern = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")

    def validate(self, candidate: str) -> bool:
        return ip_valid(candidate)

    score = 0.9


@recognizers.register
class Ipv6Recognizer(PatternRecognizer):
    """IPv6 addresses (full or compressed)."""

    name = "pii.ipv6"
    entity = PiiType.IP_ADDRESS
    pattern = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{1,4}(?![\w:])")

    def validate(self, candidate: str) -> bool:
        return ip_valid(candidate)

    score = 0.9


@recognizers.register
class UsSsnRecognizer(PatternRecognizer):
    """US social security numbers, ``123-45-6789`` or with spaces; SSA grammar checked."""

    name = "pii.us_ssn"
    entity = PiiType.US_SSN
    pattern = re.compile(r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])|(?<![\w-])\d{9}(?![\w-])")

    def validate(self, candidate: str) -> bool:
        return ssn_valid(candidate)

    score = 0.8
    context = re.compile(r"(?i)\b(?:ssn|social\s+security|ss#|tax\s*id|taxpayer)\b")
    context_boost = 0.15


_PHONE_CONTEXT = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|call|fax|desk|office|sms|text|whats\s?app|"
    r"messages?|contact|reach|ring)\b"
)
_PHONE_AFTER = re.compile(r"(?i)\s*[-(]?\s*(?:office|fax|mobile|cell|home|work|tel|phone)\b")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@recognizers.register
class PhoneRecognizer(PatternRecognizer):
    """Phone numbers, international or national, with common separators and extensions.

    A number in an unmistakable phone form (``+`` country code, ``(area)``
    code, or 10+ digits) needs no context; a shorter bare one (7-9 digits, easily
    a house number or an amount) needs a phone word before or a label after it.
    """

    name = "pii.phone"
    entity = PiiType.PHONE
    pattern = re.compile(
        r"(?<![\w+/.:-])"
        r"(?:\+\d{1,3}[ .-]?)?(?:\(0\)[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?"
        r"\d{1,12}(?:[ .-]\d{1,12}){0,5}"
        r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?"
        r"(?![\w/]|[.-]\d|:\d)"
    )

    def validate(self, candidate: str) -> bool:
        return phone_valid(candidate)

    score = 0.7
    context = _PHONE_CONTEXT
    context_boost = 0.25
    context_window = 60

    def find(self, text: str) -> list[PiiEntity]:
        out: list[PiiEntity] = []
        for m in self.pattern.finditer(text):
            start, end = m.span()
            cand = m.group()
            if _ISO_DATE.match(cand) or not phone_valid(cand):
                continue
            n_digits = sum(c.isdigit() for c in cand.split("x")[0])
            strong = cand.startswith("+") or "(" in cand or n_digits >= 10
            near = (
                _PHONE_CONTEXT.search(text, max(0, start - self.context_window), start) is not None
                or _PHONE_AFTER.match(text, end) is not None
            )
            if not (strong or near):
                continue
            out.append(PiiEntity(self.entity, start, end, min(1.0, self.score + 0.25 * near)))
        return out


@recognizers.register
class PassportRecognizer(PatternRecognizer):
    """Passport numbers (6-9 letters/digits) next to the word passport."""

    name = "pii.passport"
    entity = PiiType.PASSPORT
    pattern = re.compile(r"(?<![\w-])(?=[A-Z0-9]*\d)[A-Z0-9]{1,2}\d{5,8}(?![\w-])")
    score = 0.75
    context = re.compile(r"(?i)\bpassport\b")
    context_required = True
    context_window = 50


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)


@recognizers.register
class DateOfBirthRecognizer(PatternRecognizer):
    """Dates (numeric, ISO or with a month name) close after a birth keyword."""

    name = "pii.date_of_birth"
    entity = PiiType.DATE_OF_BIRTH
    pattern = re.compile(
        r"(?i)(?<![\w/.-])(?:"
        r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"
        r"|\d{4}-\d{2}-\d{2}"
        rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"
        rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
        r"|(?:19|20)\d{2}"
        r")(?![\w/-])"
    )
    score = 0.85
    context = re.compile(r"(?i)\b(?:born|birth|dob|d\.o\.b|birthday|b-day|date of birth)\b")
    context_required = True
    context_window = 45


@recognizers.register
class OrderIdRecognizer(PatternRecognizer):
    """The store's order ids: ``O`` and seven digits (see ``store.generate``)."""

    name = "pii.order_id"
    entity = PiiType.ORDER_ID
    pattern = re.compile(r"(?<![\w-])#?(O\d{7})(?![\w-])")
    group = 1
    score = 0.9


@recognizers.register
class CustomerIdRecognizer(PatternRecognizer):
    """The store's customer ids: ``C`` and six digits (see ``store.generate``)."""

    name = "pii.customer_id"
    entity = PiiType.CUSTOMER_ID
    pattern = re.compile(r"(?<![\w-])(C\d{6})(?![\w-])")
    group = 1
    score = 0.85


@recognizers.register
class TrackingNumberRecognizer(PatternRecognizer):
    """Parcel tracking numbers: UPS ``1Z...``, USPS 20-22 digits, Royal Mail / S10 ``AB123456789GB``."""

    name = "pii.tracking_number"
    entity = PiiType.TRACKING_NUMBER
    pattern = re.compile(
        r"(?<![\w-])(?:1Z[0-9A-Z]{16}|9[1-5]\d{18,20}|[A-Z]{2}\d{9}[A-Z]{2})(?![\w-])"
    )
    score = 0.85
    context = re.compile(
        r"(?i)\b(?:track(?:ing)?|parcel|package|shipment|ups|usps|dhl|fedex|royal mail)\b"
    )


@recognizers.register
class CourierTrackingRecognizer(PatternRecognizer):
    """FedEx / DHL style all-digit tracking numbers (10-15 digits) after a tracking keyword."""

    name = "pii.tracking_number_digits"
    entity = PiiType.TRACKING_NUMBER
    pattern = re.compile(r"(?<![\w-])\d{10,15}(?![\w-])")
    score = 0.7
    context = re.compile(r"(?i)\b(?:tracking|track|parcel|shipment|fedex|dhl|waybill)\b")
    context_required = True
    context_window = 40


@recognizers.register
class LoyaltyIdRecognizer(PatternRecognizer):
    """Loyalty / rewards member numbers after a loyalty keyword, or ``LOY-`` prefixed ids."""

    name = "pii.loyalty_id"
    entity = PiiType.LOYALTY_ID
    pattern = re.compile(
        r"(?i)(?:\b(?:loyalty|rewards?|member(?:ship)?|club)\s+(?:card\s+)?"
        r"(?:(?:number|no\.?|id|#|account)\s*)?(?:is\s+)?:?\s*#?)"
        r"(?=[A-Z0-9-]*\d)([A-Z0-9][A-Z0-9-]{5,15}[A-Z0-9])(?![\w-])"
        r"|(?<![\w-])(LOY-?\d{6,10})(?![\w-])"
    )
    score = 0.8

    def find(self, text: str) -> list[PiiEntity]:
        out = []
        for m in self.pattern.finditer(text):
            g = 1 if m.group(1) is not None else 2
            out.append(PiiEntity(self.entity, m.start(g), m.end(g), self.score))
        return out


@recognizers.register
class PartialCardRecognizer(PatternRecognizer):
    """Partial card numbers typed into chat: ``card ending 4242``, ``**** **** **** 4242``."""

    name = "pii.partial_card"
    entity = PiiType.PARTIAL_CARD
    pattern = re.compile(
        r"(?i)(?:\b(?:card|visa|master\s?card|amex|debit|credit)\b[^.\n\d]{0,25}?"
        r"\b(?:ending|ends|last\s+(?:4|four)(?:\s+digits)?)\s*(?:in|with|of|are|is|:)?\s*(\d{4})\b)"
        r"|((?:[*xX•]{4}[ -]?){1,3}\d{4})(?!\d)"
    )
    score = 0.85

    def find(self, text: str) -> list[PiiEntity]:
        out = []
        for m in self.pattern.finditer(text):
            g = 1 if m.group(1) is not None else 2
            out.append(PiiEntity(self.entity, m.start(g), m.end(g), self.score))
        return out
