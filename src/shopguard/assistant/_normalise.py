"""Undo the obfuscations attackers use to slip instructions past a text classifier.

Zero-width and other invisible characters are removed, Unicode "tag" characters
(ASCII smuggling) are decoded, homoglyphs from Cyrillic and Greek are mapped to
Latin letters, spaced-out letters are joined, and embedded base64, hex, URL
encoding and ROT13 are decoded into extra *views* the detector scores too.
Each step that fires is reported as a signal (a name, never the text).

References
----------
Greshake et al., "Not what you've signed up for: Compromising Real-World
LLM-Integrated Applications with Indirect Prompt Injection", AISec 2023.
Unicode Technical Standard #39 (confusables), https://www.unicode.org/reports/tr39/
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

__all__ = ["Normalised", "normalise"]

# Invisible characters: zero-width space/joiners, directional marks, word joiner,
# invisible operators, BOM, soft hyphen, Mongolian vowel separator.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_TAGS = re.compile("[\U000e0000-\U000e007f]+")
# Letters that look Latin in most fonts (UTS #39 confusables, the common subset).
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w",
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
        "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S",
        "α": "a", "ο": "o", "ρ": "p", "ν": "v", "τ": "t", "ι": "i", "κ": "k", "υ": "u",
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
        "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        "ı": "i", "ɑ": "a", "ɩ": "i", "ʏ": "y", "ᴀ": "a", "ᴇ": "e",
    }
)  # fmt: skip
# The look-alikes the ``homoglyph`` signal counts with ``turkish_i`` (rule set 33 on): the
# Turkish and Azerbaijani dotless ı is a Latin letter of those languages, not a letter from
# another script, so a Turkish word is not a homoglyph attack. The text still maps it to i.
_LOOKALIKES_33 = {k: v for k, v in _HOMOGLYPHS.items() if k != ord("ı")}
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_B64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[\s:]?){12,}(?![0-9A-Fa-f])")
_PCT = re.compile(r"(?:%[0-9A-Fa-f]{2}){4,}")
_SPACED = re.compile(r"\b(?:[A-Za-z][ .\-_*]){4,}[A-Za-z]\b")
_LATIN = re.compile(r"[A-Za-z]")
_MIXED_WORD = re.compile(r"\w+")
# A word mixing letters and leet digits, with at least two letters and a letter after its
# first digit: "R3v34l", "5y5t3m"; not order numbers ("O0001234"), sizes ("4k") or "1080p".
_LEET_WORD = re.compile(
    r"\b(?=(?:[0-9@$]*[A-Za-z]){2})(?=[A-Za-z]*[0-9@$]+[A-Za-z])[A-Za-z0-9@$]{4,}\b"
)
_SENTENCE = re.compile(r"(?<=[.!?\n])\s+")
_LEET_HINT = re.compile(r"[A-Za-z][0-9@$]|[0-9@$][A-Za-z]")
_ROT13_HINT = re.compile(r"rot-?13|caesar", re.IGNORECASE)
_MAX_VIEWS = 8


@dataclass(frozen=True)
class Normalised:
    """The cleaned text, decoded extra views, and which obfuscations were seen."""

    text: str
    views: tuple[str, ...]
    signals: frozenset[str]


def _printable_ratio(s: str) -> float:
    if not s:
        return 0.0
    good = sum(1 for ch in s if ch.isprintable() or ch in "\n\t")
    return good / len(s)


def _decode_bytes(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    letters = sum(ch.isalpha() for ch in text)
    if len(text) < 6 or _printable_ratio(text) < 0.95 or letters < 0.5 * len(text.replace(" ", "")):
        return None
    return text


def _b64_views(text: str) -> list[str]:
    out = []
    for m in _B64.finditer(text):
        token = m.group(0)
        if token.isalpha() and (token.islower() or token.isupper()):
            continue  # a long plain word, not an encoding
        padded = token + "=" * (-len(token) % 4)
        for decoder in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                raw = decoder(padded.encode("ascii"))
            except (binascii.Error, ValueError):
                continue
            decoded = _decode_bytes(raw)
            if decoded is not None:
                out.append(decoded)
                break
    return out


def _hex_views(text: str) -> list[str]:
    out = []
    for m in _HEX.finditer(text):
        digits = re.sub(r"[\s:]", "", m.group(0))
        if len(digits) % 2:
            digits = digits[:-1]
        try:
            decoded = _decode_bytes(bytes.fromhex(digits))
        except ValueError:
            continue
        if decoded is not None:
            out.append(decoded)
    return out


def _mixed_script(text: str, turkish_i: bool = False) -> bool:
    """A word mixing Latin letters with Cyrillic/Greek look-alikes (a homoglyph attack); with
    ``turkish_i``, the dotless ı is a letter, not a look-alike."""
    table = _LOOKALIKES_33 if turkish_i else _HOMOGLYPHS
    if text.isascii() or text.translate(table) == text:
        return False
    for m in _MIXED_WORD.finditer(text):
        word = m.group(0)
        if not _LATIN.search(word):
            continue
        if word.translate(table) != word:
            return True
    return False


def normalise(text: str, *, turkish_i: bool = False) -> Normalised:
    """Clean ``text`` and decode what is hidden in it.

    Returns the cleaned text (NFKC, invisible characters removed, homoglyphs
    mapped), up to eight decoded views, and the names of the obfuscations seen:
    ``zero_width``, ``tag_chars``, ``homoglyph``, ``spaced``, ``leet``,
    ``base64``, ``hex``, ``url_encoded``, ``rot13``. With ``turkish_i`` (rule set 33
    on) the Turkish dotless ı does not raise ``homoglyph``; the text is the same.
    """
    signals: set[str] = set()
    views: list[str] = []
    tags = _TAGS.findall(text)
    if tags:
        signals.add("tag_chars")
        hidden = "".join(chr(ord(ch) - 0xE0000) for run in tags for ch in run)
        views.append("".join(ch for ch in hidden if ch.isprintable()))
        text = _TAGS.sub("", text)
    if _INVISIBLE.search(text):
        signals.add("zero_width")
        text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    if _mixed_script(text, turkish_i):
        signals.add("homoglyph")
    text = text.translate(_HOMOGLYPHS)
    # Joining spaced letters and undoing leetspeak are views, not rewrites: ordinary text
    # ("A. B. C. D.", "4 x 4 ft") must keep its meaning in the main view.
    # Only the sentences that change become views, so a long benign text is not scored twice.
    if _SPACED.search(text):
        changed = [
            _SPACED.sub(lambda m: re.sub(r"[ .\-_*]", "", m.group(0)), sent)
            for sent in _SENTENCE.split(text)
            if _SPACED.search(sent)
        ]
        signals.add("spaced")
        views.append(" ".join(changed))
    if _LEET_HINT.search(text):
        pairs = [
            (sent, _LEET_WORD.sub(lambda m: m.group(0).lower().translate(_LEET), sent))
            for sent in _SENTENCE.split(text)
            if _LEET_WORD.search(sent)
        ]
        leeted = [new for old, new in pairs if new.lower() != old.lower()]
        if leeted:
            signals.add("leet")
            views.append(" ".join(leeted))
    for name, found in (("base64", _b64_views(text)), ("hex", _hex_views(text))):
        if found:
            signals.add(name)
            views.extend(found)
    if _PCT.search(text):
        signals.add("url_encoded")
        views.append(urllib.parse.unquote(text))
    if _ROT13_HINT.search(text):
        signals.add("rot13")
        views.append(codecs.decode(text, "rot_13"))
    cleaned = [
        unicodedata.normalize("NFKC", _INVISIBLE.sub("", v)).translate(_HOMOGLYPHS) for v in views
    ]
    return Normalised(text=text, views=tuple(cleaned[:_MAX_VIEWS]), signals=frozenset(signals))
