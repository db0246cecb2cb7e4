"""Crypto recipes: authenticated encryption with bound context, and keyed digests.

Every decrypt or verify failure raises the same opaque
:class:`~shopguard.core.errors.InvalidCiphertext`; nothing is decrypted before
it is authenticated (AES-GCM verifies the tag first).

References
----------
NIST SP 800-38D (GCM). Token layout: ``version(1) || nonce(12) || ciphertext || tag(16)``.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from shopguard.core import _hazmat
from shopguard.core.errors import InvalidCiphertext

__all__ = [
    "KEY_BYTES",
    "PUBLIC_KEY_FAMILIES",
    "TOKEN_VERSION",
    "Sealer",
    "keyed_digest",
    "mac",
    "new_key",
    "open_",
    "seal",
    "sign_with_seed",
    "signing_public_key",
    "verify_mac",
    "verify_signature",
]

KEY_BYTES = 32
PUBLIC_KEY_FAMILIES = _hazmat.PUBLIC_KEY_FAMILIES
_VERSION = b"\x01"
#: First byte of every sealed token (and of its associated data); for callers that frame tokens.
TOKEN_VERSION = _VERSION
_NONCE = 12


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return os.urandom(KEY_BYTES)


class Sealer:
    """:func:`seal` / :func:`open_` under one key, keeping the AES-GCM object.

    For hot paths that use the same key many times (field encryption): building
    the AEAD object costs about as much as sealing 100 bytes. Same token format
    and the same single opaque error as the functions.
    """

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("key must be 32 bytes")
        self._aead = _hazmat.aesgcm(key)

    def __repr__(self) -> str:
        return "Sealer(<key hidden>)"

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, _VERSION + context)

    def seal_framed(self, header: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
        """``header || nonce || ciphertext+tag``, with ``aad`` bound as given (no framing added).

        For callers that frame their own tokens (field encryption) and would
        otherwise copy the token twice; ``aad`` must already name the place and
        the format version.
        """
        nonce = os.urandom(_NONCE)
        return header + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open_framed(self, token: bytes, offset: int, *, aad: bytes) -> bytes:
        """Open what :meth:`seal_framed` made, skipping ``offset`` header bytes."""
        if len(token) < offset + _NONCE + 16:
            raise InvalidCiphertext()
        try:
            return self._aead.decrypt(
                token[offset : offset + _NONCE], token[offset + _NONCE :], aad
            )
        except _hazmat.InvalidTag:
            raise InvalidCiphertext() from None

    def open_(self, token: bytes, *, context: bytes) -> bytes:
        if len(token) < 1 + _NONCE + 16 or token[:1] != _VERSION:
            raise InvalidCiphertext()
        try:
            return self._aead.decrypt(
                token[1 : 1 + _NONCE], token[1 + _NONCE :], _VERSION + context
            )
        except _hazmat.InvalidTag:
            raise InvalidCiphertext() from None


def seal(key: bytes, plaintext: bytes, *, context: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext`` with AES-256-GCM, binding ``context`` as AAD.

    Warnings
    --------
    ``context`` must name where the value lives (table, column, row id): a
    ciphertext copied elsewhere then fails to open.
    """
    if len(key) != KEY_BYTES:
        raise ValueError("key must be 32 bytes")
    nonce = os.urandom(_NONCE)
    return _VERSION + nonce + _hazmat.aesgcm_encrypt(key, nonce, plaintext, _VERSION + context)


def open_(key: bytes, token: bytes, *, context: bytes) -> bytes:
    """Authenticate and decrypt a token made by :func:`seal`; any failure is :class:`InvalidCiphertext`."""
    if len(key) != KEY_BYTES or len(token) < 1 + _NONCE + 16 or token[:1] != _VERSION:
        raise InvalidCiphertext()
    try:
        return _hazmat.aesgcm_decrypt(
            key, token[1 : 1 + _NONCE], token[1 + _NONCE :], _VERSION + context
        )
    except _hazmat.InvalidTag:
        raise InvalidCiphertext() from None


def signing_keypair_pem() -> tuple[bytes, bytes]:
    """A fresh Ed25519 signing key pair as PEM: ``(private, public)``."""
    return _hazmat.ed25519_keypair_pem()


def signing_public_key(seed: bytes) -> bytes:
    """The raw Ed25519 public key (32 bytes) for a 32-byte signing seed (a key-ring data key)."""
    if len(seed) != KEY_BYTES:
        raise ValueError("seed must be 32 bytes")
    return _hazmat.ed25519_public_from_seed(seed)


def sign_with_seed(seed: bytes, data: bytes) -> bytes:
    """Ed25519 signature (64 bytes) of ``data`` by the key whose seed is ``seed``.

    The seed is a key-ring data key, so signing keys are wrapped, versioned and
    rotated like every other key.
    """
    if len(seed) != KEY_BYTES:
        raise ValueError("seed must be 32 bytes")
    return _hazmat.ed25519_sign_seed(seed, data)


def verify_signature(public: bytes, data: bytes, signature: bytes) -> None:
    """Raise :class:`InvalidCiphertext` unless ``signature`` is a valid Ed25519 signature of ``data``."""
    if len(public) != 32 or len(signature) != 64:
        raise InvalidCiphertext("signature check failed")
    try:
        _hazmat.ed25519_verify_raw(public, signature, data)
    except (_hazmat.InvalidSignature, ValueError):
        raise InvalidCiphertext("signature check failed") from None


def mac(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 of ``data``."""
    return _hazmat.hmac_sha256(key, data)


def verify_mac(key: bytes, data: bytes, tag: bytes) -> None:
    """Raise :class:`InvalidCiphertext` unless ``tag`` is the MAC of ``data``."""
    # SECURITY: compare_digest; == leaks timing.
    if not hmac.compare_digest(mac(key, data), tag):
        raise InvalidCiphertext("MAC check failed")


def keyed_digest(key: bytes, value: str, *, length: int = 16) -> str:
    """A stable keyed pseudonym of ``value`` (hex, ``2*length`` characters)."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[: 2 * length]
