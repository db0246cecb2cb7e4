"""PII detection in free text: reviews, chat messages, support notes.

Detection is split from transformation: :class:`PiiDetector` returns
:class:`PiiEntity` values holding a type, character offsets and a score, never
the matched text; redaction and pseudonymisation consume those offsets.

Structured identifiers are found by weak patterns confirmed by strong
validators (Luhn, IBAN mod-97, SSA grammar, ``phonenumbers``); names and
postal addresses by a small learned token tagger shipped with the package
(``tagger.npz``, rebuilt by ``python -m shopguard.privacy.pii.train``).
"""

from __future__ import annotations

from shopguard.privacy.pii._detector import DEFAULT_MODEL_PATH, PiiDetector
from shopguard.privacy.pii._recognizers import PatternRecognizer, recognizers
from shopguard.privacy.pii._tagger import TokenTagger
from shopguard.privacy.pii._types import PiiEntity, PiiType
from shopguard.privacy.pii._validators import (
    iban_valid,
    ip_valid,
    luhn_valid,
    phone_valid,
    ssn_valid,
)

__all__ = [
    "DEFAULT_MODEL_PATH",
    "PatternRecognizer",
    "PiiDetector",
    "PiiEntity",
    "PiiType",
    "TokenTagger",
    "iban_valid",
    "ip_valid",
    "luhn_valid",
    "phone_valid",
    "recognizers",
    "ssn_valid",
]
