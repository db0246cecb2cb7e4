"""A throwaway identity provider for the demo: an Ed25519 key pair that signs bearer JWTs.

Only the demo uses it, to show the gateway's JWT checks against real signed
tokens. Its private key stays in ``.shopguard/demo-idp/`` with mode 0600.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import jwt

from shopguard.core import crypto

__all__ = ["DemoIdentityProvider"]


@dataclass(frozen=True)
class DemoIdentityProvider:
    private_key_path: Path
    public_key_path: Path
    issuer: str = "https://idp.demo.shopguard.invalid"
    audience: str = "shopguard-gateway"

    @classmethod
    def create(cls, folder: Path) -> DemoIdentityProvider:
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        priv, pub = folder / "signing.key", folder / "signing.pub.pem"
        if not priv.exists():
            private_pem, public_pem = crypto.signing_keypair_pem()
            fd = os.open(priv, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(private_pem)
            pub.write_bytes(public_pem)
        return cls(priv, pub)

    def token(self, *, subject: str, tenant: str, scopes: list[str], expires_in: int = 300) -> str:
        now = int(time.time())
        key = self.private_key_path.read_bytes()
        claims = {
            "sub": subject,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now - max(0, -expires_in) - 60,
            "exp": now + expires_in,
            "tenant": tenant,
            "scope": " ".join(scopes),
        }
        return jwt.encode(claims, key, algorithm="EdDSA")
