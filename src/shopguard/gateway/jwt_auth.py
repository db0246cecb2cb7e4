"""Bearer JWTs (OAuth2 / OIDC access tokens) verified against configured public keys.

Algorithms are pinned to an asymmetric allow-list (``alg: none`` and HS256
signed with the public key are both refused); ``exp``, ``aud``, ``iss`` and
``sub`` are required, ``nbf`` honoured. Keys come from PEM files or a JWKS
file; with a JWKS the token's ``kid`` picks the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.algorithms import get_default_algorithms

from shopguard.core.crypto import PUBLIC_KEY_FAMILIES
from shopguard.core.errors import AuthenticationError, ConfigError
from shopguard.core.settings import Settings

__all__ = ["JwtClaims", "JwtVerifier"]


@dataclass(frozen=True)
class JwtClaims:
    subject: str
    tenant: str
    scopes: frozenset[str]


class JwtVerifier:
    """Verify bearer tokens. Construct with :meth:`from_settings` (``None`` when unconfigured)."""

    def __init__(
        self,
        *,
        keys: list[tuple[str | None, Any]],
        algorithms: list[str],
        audience: str,
        issuer: str,
        tenant_claim: str = "tenant",
        leeway: int = 0,
    ) -> None:
        self._keys = keys
        self._algorithms = algorithms
        self._audience = audience
        self._issuer = issuer
        self._tenant_claim = tenant_claim
        self._leeway = leeway

    @classmethod
    def from_settings(cls, settings: Settings) -> JwtVerifier | None:
        if not settings.jwt_public_key_files and settings.jwt_jwks_file is None:
            return None
        if not settings.jwt_audience or not settings.jwt_issuer:
            raise ConfigError(
                "jwt_audience and jwt_issuer must be set when JWT keys are configured"
            )
        keys: list[tuple[str | None, Any]] = []
        algs = get_default_algorithms()
        for path in settings.jwt_public_key_files:
            try:
                pem = path.read_bytes()
            except OSError:
                raise ConfigError(f"JWT public key file {path} cannot be read") from None
            loaded = None
            for alg in ("RS256", "ES256", "EdDSA"):
                try:
                    loaded = algs[alg].prepare_key(pem)
                    break
                except Exception:  # noqa: S112 - try the next key type
                    continue
            if loaded is None or not hasattr(loaded, "public_bytes"):
                raise ConfigError(f"JWT public key file {path} holds no usable public key")
            keys.append((None, loaded))
        if settings.jwt_jwks_file is not None:
            try:
                jwks = jwt.PyJWKSet.from_json(settings.jwt_jwks_file.read_text("utf-8"))
            except (OSError, json.JSONDecodeError, jwt.PyJWTError):
                raise ConfigError(f"JWKS file {settings.jwt_jwks_file} cannot be read") from None
            for k in jwks.keys:
                if k.key_type == "oct":
                    raise ConfigError(
                        "JWKS file holds a symmetric key; only public keys are accepted"
                    )
                keys.append((k.key_id, k.key))
        return cls(
            keys=keys,
            algorithms=list(settings.jwt_algorithms),
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            tenant_claim=settings.jwt_tenant_claim,
            leeway=settings.jwt_leeway_s,
        )

    def verify(self, token: str) -> JwtClaims:
        """Claims of a valid token, or :class:`AuthenticationError` (one message for every reason)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationError("invalid bearer token") from None
        if header.get("alg") not in self._algorithms:
            raise AuthenticationError("invalid bearer token")
        kid = header.get("kid")
        family = PUBLIC_KEY_FAMILIES[str(header["alg"])[:2]]
        candidates: list[Any] = [
            k
            for kid_, k in self._keys
            if (kid is None or kid_ in (None, kid)) and isinstance(k, family)
        ]
        for key in candidates:
            try:
                claims = jwt.decode(
                    token,
                    key=key,
                    algorithms=self._algorithms,
                    audience=self._audience,
                    issuer=self._issuer,
                    leeway=self._leeway,
                    options={"require": ["exp", "aud", "iss", "sub"], "verify_nbf": True},
                )
            except jwt.InvalidSignatureError:
                continue
            except (jwt.PyJWTError, TypeError, ValueError):
                raise AuthenticationError("invalid bearer token") from None
            tenant = claims.get(self._tenant_claim)
            if not isinstance(tenant, str) or not tenant:
                raise AuthenticationError("invalid bearer token")
            raw = claims.get("scope", claims.get("scp", ""))
            if isinstance(raw, str):
                scopes = frozenset(raw.split())
            elif isinstance(raw, list) and all(isinstance(s, str) for s in raw):
                scopes = frozenset(raw)
            else:  # a number, object or mixed list: not a scope claim (a fuzz finding)
                raise AuthenticationError("invalid bearer token")
            return JwtClaims(subject=str(claims["sub"]), tenant=tenant, scopes=scopes)
        raise AuthenticationError("invalid bearer token")
