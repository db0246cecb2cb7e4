"""Bearer-token verification: AuthenticationError for every bad token, never another error."""

from __future__ import annotations

import base64
import json

import _harness
import atheris

with atheris.instrument_imports(include=["shopguard"]):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from shopguard.core.errors import AuthenticationError
    from shopguard.gateway.jwt_auth import JwtVerifier

_KEY = ed25519.Ed25519PrivateKey.generate()
VERIFIER = JwtVerifier(
    keys=[(None, _KEY.public_key())],
    algorithms=["RS256", "ES256", "EdDSA"],
    audience="shop",
    issuer="idp",
)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _token(fdp: atheris.FuzzedDataProvider) -> str:
    mode = fdp.ConsumeIntInRange(0, 2)
    if mode == 0:  # raw text
        return fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    header: object = {
        "alg": fdp.PickValueInList(["EdDSA", "RS256", "ES256", "none", "HS256", 1, None]),
        "kid": fdp.PickValueInList([None, "k1", 3, [], {}]),
    }
    claims: object = {
        "sub": fdp.ConsumeUnicodeNoSurrogates(8),
        "aud": fdp.PickValueInList(["shop", ["shop"], 1, None]),
        "iss": fdp.PickValueInList(["idp", None, 2]),
        "exp": fdp.PickValueInList([4102444800, -1, "soon", 1e308, None]),
        "nbf": fdp.PickValueInList([None, 0, "x", 4102444800]),
        "tenant": fdp.PickValueInList(["default", "", 5, None, ["a"]]),
        "scope": fdp.PickValueInList(["reviews:read", ["a", 1], None, 7, {"a": 1}]),
    }
    if mode == 2:  # a JSON document of the fuzzer's own
        raw = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
        try:
            claims = json.loads(raw)
        except (ValueError, RecursionError):
            claims = raw
    h = _b64(json.dumps(header).encode())
    p = _b64(json.dumps(claims).encode() if not isinstance(claims, str) else claims.encode())
    signing = f"{h}.{p}".encode()
    sig = _KEY.sign(signing) if fdp.ConsumeBool() else fdp.ConsumeBytes(64)
    return f"{h}.{p}.{_b64(sig)}"


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    token = _token(fdp)
    try:
        claims = VERIFIER.verify(token)
    except AuthenticationError:
        return
    assert claims.tenant and isinstance(claims.tenant, str)


if __name__ == "__main__":
    _harness.fuzz(test_one_input)
