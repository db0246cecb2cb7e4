"""Strong validators: known-good values pass, look-alikes one digit off fail."""

from __future__ import annotations

import pytest

from shopguard.privacy.pii import iban_valid, ip_valid, luhn_valid, phone_valid, ssn_valid


@pytest.mark.parametrize(
    "number",
    ["4111111111111111", "4242 4242 4242 4242", "5555-5555-5555-4444", "378282246310005",
     "6011111111111117", "4131034282458809939"],
)  # fmt: skip
def test_luhn_when_valid_card_then_true(number):
    assert luhn_valid(number)


@pytest.mark.parametrize(
    "number",
    ["4111111111111112", "4242 4242 4242 4241", "1234567890123", "0000000000000000",
     "41111111111", "4111 1111 1111 111a"],
)  # fmt: skip
def test_luhn_when_look_alike_then_false(number):
    assert not luhn_valid(number)


@pytest.mark.parametrize(
    "iban", ["GB82WEST12345698765432", "gb82 west 1234 5698 7654 32", "DE89370400440532013000"]
)
def test_iban_when_valid_then_true(iban):
    assert iban_valid(iban)


@pytest.mark.parametrize(
    "iban",
    ["GB82WEST12345698765433", "GB83WEST12345698765432", "DE8937040044053201300",
     "XX82WEST12345698765432X", "GB82"],
)  # fmt: skip
def test_iban_when_look_alike_then_false(iban):
    assert not iban_valid(iban)


@pytest.mark.parametrize("ssn", ["853-37-1694", "125 17 4954", "474497577"])
def test_ssn_when_grammatical_then_true(ssn):
    assert ssn_valid(ssn)


@pytest.mark.parametrize("ssn", ["000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567",
                                 "123-45-0000", "123-45-678"])  # fmt: skip
def test_ssn_when_reserved_or_short_then_false(ssn):
    assert not ssn_valid(ssn)


def test_ip_when_v4_v6_or_garbage_then_checked():
    assert ip_valid("192.168.1.20") and ip_valid("2001:db8::1")
    assert not ip_valid("256.1.1.1") and not ip_valid("0.0.0.0") and not ip_valid("1.2.3")


@pytest.mark.parametrize("phone", ["+1-984-182-0190", "+44 7700 900123", "(212) 555-0143",
                                   "0494 92 82 32", "345-899-3560x4587"])  # fmt: skip
def test_phone_when_possible_number_then_true(phone):
    assert phone_valid(phone)


@pytest.mark.parametrize("phone", ["+1 12", "12345", "1111111111", "+999 1234567890123456"])
def test_phone_when_impossible_then_false(phone):
    assert not phone_valid(phone)


def test_iban_when_hex_id_under_a_made_up_country_code_then_invalid() -> None:
    # A pseudonymised customer id from the demo's audit log: mod-97 passes by chance.
    assert not iban_valid("fd35ca771ab577480d132ee60292bf20")
    assert iban_valid("DE89370400440532013000")
