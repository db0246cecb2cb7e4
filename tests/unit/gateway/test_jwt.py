"""Bearer JWTs: every classic forgery and misuse is rejected (one test each)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shopguard.core.errors import AuthenticationError, ConfigError
from shopguard.core.settings import load_settings
from shopguard.gateway.jwt_auth import JwtVerifier

AUD = "shopguard-gateway"
ISS = "https://idp.store.example"


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def verifier(tmp_path: Path, rsa_key) -> JwtVerifier:
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "idp.pem").write_bytes(pem)
    s = load_settings(jwt_public_key_files=[tmp_path / "idp.pem"], jwt_audience=AUD, jwt_issuer=ISS)
    v = JwtVerifier.from_settings(s)
    assert v is not None
    return v


def _claims(**over):
    now = int(time.time())
    base = {
        "sub": "svc-checkout",
        "aud": AUD,
        "iss": ISS,
        "exp": now + 300,
        "iat": now,
        "tenant": "default",
        "scope": "fraud:score reviews:read",
    }
    base.update({k: v(now) if callable(v) else v for k, v in over.items()})
    return {k: v for k, v in base.items() if v is not None}


def test_verify_when_valid_rs256_then_claims(verifier, rsa_key) -> None:
    token = jwt.encode(_claims(), rsa_key, algorithm="RS256")
    claims = verifier.verify(token)
    assert claims.subject == "svc-checkout" and claims.tenant == "default"
    assert claims.scopes == {"fraud:score", "reviews:read"}


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_verify_when_alg_none_then_rejected(verifier) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."
    with pytest.raises(AuthenticationError):
        verifier.verify(token)


def test_verify_when_hs256_signed_with_the_public_key_then_rejected(verifier, rsa_key) -> None:
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # The classic key-confusion forgery: HMAC keyed with the server's public key.
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(_claims())}"
    sig = base64.urlsafe_b64encode(
        hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    ).rstrip(b"=")
    with pytest.raises(AuthenticationError):
        verifier.verify(f"{signing_input}.{sig.decode()}")


@pytest.mark.parametrize(
    "over",
    [
        # Times relative to when the test runs, not when it was collected (a long run
        # would otherwise make "not yet valid" valid).
        pytest.param({"exp": lambda now: now - 10}, id="expired"),
        pytest.param({"nbf": lambda now: now + 600}, id="not-yet-valid"),
        pytest.param({"aud": "someone-else"}, id="wrong-audience"),
        pytest.param({"iss": "https://evil.example"}, id="wrong-issuer"),
        pytest.param({"exp": None}, id="no-expiry"),
        pytest.param({"tenant": None}, id="no-tenant"),
    ],
)
def test_verify_when_claims_wrong_then_rejected(verifier, rsa_key, over) -> None:
    token = jwt.encode(_claims(**over), rsa_key, algorithm="RS256")
    with pytest.raises(AuthenticationError):
        verifier.verify(token)


def test_verify_when_signed_by_another_key_then_rejected(verifier) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(_claims(), other, algorithm="ES256")
    with pytest.raises(AuthenticationError):
        verifier.verify(token)


def test_verify_when_payload_edited_after_signing_then_rejected(verifier, rsa_key) -> None:
    token = jwt.encode(_claims(), rsa_key, algorithm="RS256")
    h, _, s = token.split(".")
    forged = f"{h}.{_b64(_claims(scope='*', tenant='other'))}.{s}"
    with pytest.raises(AuthenticationError):
        verifier.verify(forged)


def test_settings_when_symmetric_algorithm_configured_then_refused() -> None:
    with pytest.raises(ConfigError):
        load_settings(jwt_algorithms=["HS256"])


def test_from_settings_when_jwks_has_kid_then_key_chosen_by_kid(tmp_path: Path, rsa_key) -> None:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    v = JwtVerifier.from_settings(
        load_settings(jwt_jwks_file=tmp_path / "jwks.json", jwt_audience=AUD, jwt_issuer=ISS)
    )
    assert v is not None
    good = jwt.encode(_claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
    assert v.verify(good).subject == "svc-checkout"
    with pytest.raises(AuthenticationError):
        v.verify(jwt.encode(_claims(), rsa_key, algorithm="RS256", headers={"kid": "unknown"}))
