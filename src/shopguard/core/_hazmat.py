"""The one module that touches ``cryptography.hazmat``. Everything else calls :mod:`.crypto`."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "AESGCM",
    "PUBLIC_KEY_FAMILIES",
    "InvalidSignature",
    "InvalidTag",
    "aesgcm",
    "aesgcm_decrypt",
    "aesgcm_encrypt",
    "ed25519_keypair_pem",
    "ed25519_public_from_seed",
    "ed25519_sign_seed",
    "ed25519_verify_raw",
    "hmac_sha256",
]

#: Which public-key types may verify which JWS algorithm family (no cross-type confusion).
PUBLIC_KEY_FAMILIES: dict[str, tuple[type, ...]] = {
    "RS": (rsa.RSAPublicKey,),
    "PS": (rsa.RSAPublicKey,),
    "ES": (ec.EllipticCurvePublicKey,),
    "Ed": (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey),
}


def aesgcm(key: bytes) -> AESGCM:
    """An AES-GCM object for ``key`` (reuse it: building one costs as much as a small seal)."""
    return AESGCM(key)


def aesgcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def aesgcm_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(nonce, ciphertext, aad)


def ed25519_keypair_pem() -> tuple[bytes, bytes]:
    """A fresh Ed25519 key pair as (PKCS#8 private PEM, SubjectPublicKeyInfo public PEM)."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    h = _hmac.HMAC(key, hashes.SHA256())
    h.update(data)
    return h.finalize()


def ed25519_public_from_seed(seed: bytes) -> bytes:
    """The raw 32-byte Ed25519 public key of the private key whose seed is ``seed``."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def ed25519_sign_seed(seed: bytes, data: bytes) -> bytes:
    """Sign ``data`` with the Ed25519 private key whose 32-byte seed is ``seed``."""
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed).sign(data)


def ed25519_verify_raw(public: bytes, signature: bytes, data: bytes) -> None:
    """Raise :class:`InvalidSignature` unless ``signature`` is the Ed25519 signature of ``data``."""
    ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
