"""Strong validators paired with the weak patterns in :mod:`._recognizers`.

A pattern only proposes a candidate; a candidate becomes an entity when its
checksum or grammar holds (Luhn for cards, ISO 13616 mod-97 for IBANs, the SSA
rules for US social security numbers, ``phonenumbers`` for phone numbers).
"""

from __future__ import annotations

import ipaddress
import re

import phonenumbers

__all__ = ["iban_valid", "ip_valid", "luhn_valid", "phone_valid", "ssn_valid"]

# Lengths of IBANs by country (ISO 13616 registry); a code not listed here is not an IBAN.
_IBAN_LENGTHS: dict[str, int] = {
    "BI": 27,
    "BY": 28,
    "DJ": 27,
    "EG": 29,
    "FK": 18,
    "IQ": 23,
    "LC": 32,
    "LY": 25,
    "MN": 20,
    "NI": 28,
    "OM": 23,
    "RU": 33,
    "SC": 31,
    "SD": 18,
    "SO": 23,
    "ST": 25,
    "SV": 28,
    "VA": 22,
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30,
    "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip

_NON_DIGIT = re.compile(r"\D")
_SEP = re.compile(r"[\s-]")

# Regions tried for phone numbers written without a country code: the store's markets.
_PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL")


def luhn_valid(number: str) -> bool:
    """Whether ``number`` (digits with optional spaces/dashes) passes the Luhn check."""
    digits = _NON_DIGIT.sub("", number)
    if len(digits) < 12 or len(digits) > 19 or len(digits) != len(_SEP.sub("", number)):
        return False
    if len(set(digits)) == 1:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """Whether ``iban`` (spaces allowed, any case) has a valid length and mod-97 check."""
    s = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s):
        return False
    # Only registry countries: a 32-digit hex id such as "fd35ca77..." passes mod-97 one time
    # in 97 under a made-up country code, and audit entries are full of those.
    if len(s) != _IBAN_LENGTHS.get(s[:2], -1):
        return False
    rearranged = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def ssn_valid(ssn: str) -> bool:
    """Whether ``ssn`` follows the SSA grammar (area not 000/666/9xx, group and serial non-zero)."""
    d = _NON_DIGIT.sub("", ssn)
    if len(d) != 9:
        return False
    area, group, serial = d[:3], d[3:5], d[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return d not in ("123456789", "078051120") and len(set(d)) > 1


def ip_valid(text: str) -> bool:
    """Whether ``text`` is an IPv4 or IPv6 address (not an unspecified address)."""
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return False
    return not addr.is_unspecified


def phone_valid(text: str) -> bool:
    """Whether ``text`` is a possible phone number.

    Numbers with a ``+`` country code are checked by ``phonenumbers`` against
    that country's numbering plan; national numbers must be possible in one of
    the store's markets.
    """
    digits = _NON_DIGIT.sub("", text.split("x")[0])
    if not 7 <= len(digits) <= 15 or len(set(digits)) == 1:
        return False
    regions: tuple[str | None, ...] = (None,) if text.lstrip().startswith("+") else _PHONE_REGIONS
    for region in regions:
        try:
            num = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(num):
            return True
    return False
