"""Golden span tables for every entity type; offsets exact; no text in results."""

from __future__ import annotations

import dataclasses

import pytest

from shopguard.core.errors import ConfigError
from shopguard.privacy.pii import PiiDetector, PiiEntity, PiiType, recognizers

T = PiiType

# (text, [(type, exact substring)]) -- the substring's first occurrence is the span.
GOLDEN: list[tuple[str, list[tuple[PiiType, str]]]] = [
    ("Mail me at jane.doe+shop@example.co.uk please", [(T.EMAIL, "jane.doe+shop@example.co.uk")]),
    ("my card 4111 1111 1111 1111 was charged twice", [(T.CREDIT_CARD, "4111 1111 1111 1111")]),
    ("card no 4242424242424242.", [(T.CREDIT_CARD, "4242424242424242")]),
    ("refund to GB82 WEST 1234 5698 7654 32 thanks", [(T.IBAN, "GB82 WEST 1234 5698 7654 32")]),
    ("iban de89370400440532013000", [(T.IBAN, "de89370400440532013000")]),
    ("login from 86.121.97.248 blocked", [(T.IP_ADDRESS, "86.121.97.248")]),
    ("ipv6 2001:db8:85a3::8a2e:370:7334 seen", [(T.IP_ADDRESS, "2001:db8:85a3::8a2e:370:7334")]),
    ("my SSN is 853-37-1694", [(T.US_SSN, "853-37-1694")]),
    ("call me at +1-984-182-0190 tomorrow", [(T.PHONE, "+1-984-182-0190")]),
    ("please call 0494 92 82 32 after six", [(T.PHONE, "0494 92 82 32")]),
    ("Fax: 345-899-3560x4587", [(T.PHONE, "345-899-3560x4587")]),
    ("passport number X1234567 expired", [(T.PASSPORT, "X1234567")]),
    ("I was born on 12/03/1985 in Leeds", [(T.DATE_OF_BIRTH, "12/03/1985")]),
    ("date of birth: March 3, 1985", [(T.DATE_OF_BIRTH, "March 3, 1985")]),
    ("where is order O0012345?", [(T.ORDER_ID, "O0012345")]),
    ("order #O1234567 arrived broken", [(T.ORDER_ID, "O1234567")]),
    ("account C000042 is locked", [(T.CUSTOMER_ID, "C000042")]),
    ("UPS tracking 1Z999AA10123456784 stuck", [(T.TRACKING_NUMBER, "1Z999AA10123456784")]),
    ("parcel RR123456789GB is lost", [(T.TRACKING_NUMBER, "RR123456789GB")]),
    ("fedex tracking 123456789012 shows delivered", [(T.TRACKING_NUMBER, "123456789012")]),
    ("my loyalty number is LX-88231947", [(T.LOYALTY_ID, "LX-88231947")]),
    ("rewards id: 99812377 not applied", [(T.LOYALTY_ID, "99812377")]),
    ("the visa card ending in 4242 was declined", [(T.PARTIAL_CARD, "4242")]),
    ("paid with **** **** **** 1881", [(T.PARTIAL_CARD, "**** **** **** 1881")]),
    ("card, last four digits 0005, expired", [(T.PARTIAL_CARD, "0005")]),
]

# Look-alikes that must stay quiet.
NEGATIVE = [
    "my card 4111 1111 1111 1112 was charged",  # Luhn fails
    "iban GB82WEST12345698765433",  # mod 97 fails
    "SSN 666-12-3456",  # reserved area
    "version 1.2.3.4.5 released",  # not an IP
    "It costs 1999 dollars, born to be wild",  # a year after 'born' but a price
    "On 2007-01-17 23:08:55 the system restarted",  # a timestamp, not a phone
    "it was order 12345 in aisle 7",
    "I bought 3 mugs and 2 plates for 45.50",
]


def _expected(text: str, spans: list[tuple[PiiType, str]]) -> list[tuple[PiiType, int, int]]:
    out = []
    for t, sub in spans:
        i = text.index(sub)
        out.append((t, i, i + len(sub)))
    return out


@pytest.fixture(scope="module")
def patterns() -> PiiDetector:
    return PiiDetector(use_model=False)


@pytest.mark.parametrize(("text", "spans"), GOLDEN, ids=[s[0][0].value for _, s in GOLDEN])
def test_detect_when_golden_text_then_exact_spans(patterns, text, spans):
    got = [(e.type, e.start, e.end) for e in patterns.detect(text)]
    assert got == _expected(text, spans)


@pytest.mark.parametrize("text", NEGATIVE)
def test_detect_when_look_alike_then_nothing(patterns, text):
    assert patterns.detect(text) == []


def test_golden_table_when_listed_then_covers_every_pattern_type():
    covered = {t for _, spans in GOLDEN for t, _ in spans}
    assert {cls.entity for cls in recognizers} <= covered


@pytest.mark.parametrize("cls", list(recognizers), ids=lambda c: c.name)
def test_recognizer_contract_when_registered_then_named_typed_and_documented(cls):
    assert cls.name.startswith("pii.")
    assert isinstance(cls.entity, PiiType)
    assert (cls.__doc__ or "").strip()
    assert cls().find("") == []


def test_detect_when_entities_filter_then_only_those_types(patterns):
    det = PiiDetector(entities=[T.EMAIL], use_model=False)
    text = "a@b.io or 4111111111111111"
    assert [e.type for e in det.detect(text)] == [T.EMAIL]


def test_detect_when_overlapping_candidates_then_checksummed_type_wins(patterns):
    # a 16-digit Luhn number could also read as a (too long) phone: the card wins
    text = "call 4111111111111111"
    assert [e.type for e in patterns.detect(text)] == [T.CREDIT_CARD]


def test_entity_when_repr_or_dict_then_holds_no_text(patterns):
    text = "write to jane.doe@example.org"
    (e,) = patterns.detect(text)
    assert "jane" not in repr(e) and "jane" not in str(e.to_dict())
    assert {f.name for f in dataclasses.fields(e)} == {"type", "start", "end", "score"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.start = 0  # type: ignore[misc]


def test_entity_when_bad_offsets_or_score_then_rejected():
    with pytest.raises(ValueError):
        PiiEntity(T.EMAIL, 5, 5, 0.5)
    with pytest.raises(ValueError):
        PiiEntity(T.EMAIL, 0, 5, 1.5)


def test_detect_batch_when_texts_then_same_as_detect(patterns):
    texts = ["x@y.com", "", "nothing here", "ip 10.0.0.1"]
    assert patterns.detect_batch(texts) == [patterns.detect(t) for t in texts]


def test_detector_when_min_score_out_of_range_then_config_error():
    with pytest.raises(ConfigError):
        PiiDetector(min_score=2.0, use_model=False).detect("x")
