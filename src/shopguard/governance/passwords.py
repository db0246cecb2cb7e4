"""Password policy and hashing for staff accounts.

Passwords are hashed with argon2id (argon2-cffi, RFC 9106 parameters). The
policy follows NIST SP 800-63B section 5.1.1.2: a minimum length, no
composition rules, and a check against a list of passwords known from breaches.
The list shipped in ``data/breached_passwords.bin`` is the 30,000 most common
passwords of zxcvbn's frequency lists (MIT), stored as sorted 5-byte SHA-256
prefixes of the lower-cased password (see ``tools/build_breached_passwords.py``),
so no password sits in the package in clear and a lookup is a binary search.

References
----------
NIST SP 800-63B, Digital Identity Guidelines: Authentication and Lifecycle Management, 2017.
RFC 9106, Argon2 Memory-Hard Function for Password Hashing and Proof-of-Work Applications, 2021.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import string
import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from shopguard.core.errors import DataValidationError

__all__ = ["PasswordPolicy", "hash_password", "is_breached", "needs_rehash", "verify_password"]

_PREFIX = 5
_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile


@lru_cache(maxsize=1)
def _breached() -> bytes:
    return (
        importlib.resources.files("shopguard.governance") / "data" / "breached_passwords.bin"
    ).read_bytes()


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


_MANGLE = string.digits + string.punctuation + " "


def is_breached(password: str) -> bool:
    """Whether ``password``, case-insensitively, or its core without leading or trailing
    digits and symbols (``Baseball1234!`` -> ``baseball``) is on the shipped breached list."""
    pw = _normalise(password).lower()
    candidates = {pw, pw.strip(_MANGLE), pw.rstrip(_MANGLE), pw.lstrip(_MANGLE)}
    return any(_listed(c) for c in candidates if len(c) >= 4)


def _listed(word: str) -> bool:
    probe = hashlib.sha256(word.encode()).digest()[:_PREFIX]
    data = _breached()
    lo, hi = 0, len(data) // _PREFIX
    while lo < hi:
        mid = (lo + hi) // 2
        cur = data[mid * _PREFIX : (mid + 1) * _PREFIX]
        if cur < probe:
            lo = mid + 1
        elif cur > probe:
            hi = mid
        else:
            return True
    return False


class PasswordPolicy:
    """Length bounds, a breached-list check, and no password equal to the user name."""

    def __init__(self, *, min_length: int = 12, max_length: int = 256) -> None:
        self.min_length = min_length
        self.max_length = max_length

    def check(self, password: str, *, username: str = "") -> None:
        """Raise :class:`DataValidationError` naming the rule broken (never the password)."""
        pw = _normalise(password)
        if len(pw) < self.min_length:
            raise DataValidationError(
                f"password must be at least {self.min_length} characters", column="password"
            )
        if len(pw) > self.max_length:
            raise DataValidationError(
                f"password must be at most {self.max_length} characters", column="password"
            )
        if len(set(pw)) < 4:
            raise DataValidationError("password repeats too few characters", column="password")
        if username and username.lower() in pw.lower():
            raise DataValidationError("password must not contain the user name", column="password")
        if is_breached(pw):
            raise DataValidationError(
                "password is on the list of breached passwords; choose another", column="password"
            )


def hash_password(password: str, *, hasher: PasswordHasher | None = None) -> str:
    return (hasher or _HASHER).hash(_normalise(password))


def verify_password(stored: str, password: str, *, hasher: PasswordHasher | None = None) -> bool:
    """Whether ``password`` matches ``stored`` (argon2 compares in constant time)."""
    try:
        return bool((hasher or _HASHER).verify(stored, _normalise(password)))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str, *, hasher: PasswordHasher | None = None) -> bool:
    return bool((hasher or _HASHER).check_needs_rehash(stored))
