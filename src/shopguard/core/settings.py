"""Settings: ``SHOPGUARD_*`` environment variables over ``shopguard.toml``, safe defaults.

The state directory (``.shopguard/`` under the working directory unless
``SHOPGUARD_HOME`` says otherwise) holds the SQLite database, the key ring's
key-encryption key, the models and ``shopguard.toml``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from shopguard.core.errors import ConfigError

__all__ = ["Settings", "load_settings"]

_DEFAULT_HOME = Path(".shopguard")


class Settings(BaseSettings):
    """Every shopguard setting. Each has a safe default."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPGUARD_", extra="forbid", frozen=True, validate_default=True
    )

    home: Path = Field(default=_DEFAULT_HOME, description="State directory.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is SQLite at <home>/shopguard.db.",
    )
    redis_url: str | None = Field(default=None, description="Shared counters; None = in-process.")
    master_key: SecretStr | None = Field(
        default=None,
        description="Key-encryption key (32 bytes, urlsafe base64). Default: <home>/master.key.",
    )
    audit_batch_max: int = Field(default=256, ge=1, le=10_000)
    audit_spool: bool = Field(
        default=True,
        description="Spool audit entries the database refused to <home>/audit-spool and replay them.",
    )
    audit_spool_max_bytes: int = Field(default=64 * 1024 * 1024, ge=4096)
    log_level: str = Field(default="INFO")

    # -- gateway ---------------------------------------------------------------------
    gateway_guards: list[str] = Field(
        default=["authn", "authz", "rate_limit"],
        description="The guards pipeline in stage order: authn, authz, rate limit, input checks, output filters.",
    )
    gateway_max_body_bytes: int = Field(default=1_048_576, ge=1_024, le=104_857_600)
    gateway_cors_origins: list[str] = Field(
        default=[], description="Allowed CORS origins; none by default."
    )
    gateway_key_cache_ttl_s: float = Field(default=0.5, ge=0.0, le=1.0)
    rate_limit_key: str = Field(
        default="50/second;2000/minute", description="Per API key or token subject."
    )
    rate_limit_ip: str = Field(default="100/second;4000/minute", description="Per client IP.")
    rate_limit_routes: dict[str, str] = Field(
        default={}, description="Per key and route, e.g. {'fraud.score': '20/second'}."
    )
    rate_limit_fail_open: bool = Field(
        default=False,
        description="When Redis is unreachable: False refuses (503), True lets through.",
    )
    jwt_public_key_files: list[Path] = Field(
        default=[], description="PEM public keys for bearer JWTs."
    )
    jwt_jwks_file: Path | None = Field(default=None, description="A JWKS file of public keys.")
    jwt_algorithms: list[str] = Field(default=["RS256", "ES256", "EdDSA"])
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_tenant_claim: str = "tenant"
    jwt_leeway_s: int = Field(default=0, ge=0, le=300)
    upstreams: dict[str, str] = Field(
        default={}, description="Reverse-proxy mode: name -> base URL."
    )
    upstream_timeout_s: float = Field(default=10.0, gt=0, le=300)

    @field_validator("jwt_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        allowed = {
            "RS256",
            "RS384",
            "RS512",
            "PS256",
            "PS384",
            "PS512",
            "ES256",
            "ES384",
            "ES512",
            "EdDSA",
        }
        bad = [a for a in value if a not in allowed]
        if bad:
            # SECURITY: HS* would let a public key be used as an HMAC secret; none disables signatures.
            raise ValueError("jwt_algorithms may only name asymmetric algorithms")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = value.split(":", 1)[0]
        if scheme.split("+", 1)[0] not in {"sqlite", "postgresql", "postgres"}:
            raise ValueError("database_url must be a sqlite:// or postgresql:// URL")
        if scheme in {"postgresql", "postgres"}:
            # psycopg 3 is the one PostgreSQL driver we ship.
            value = "postgresql+psycopg" + value[len(scheme) :]
        return value

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL to connect to (SQLite under ``home`` by default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'shopguard.db').as_posix()}"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def master_key_path(self) -> Path:
        return self.home / "master.key"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        home = Path(os.environ.get("SHOPGUARD_HOME", str(_DEFAULT_HOME)))
        toml = TomlConfigSettingsSource(settings_cls, toml_file=home / "shopguard.toml")
        return (init_settings, env_settings, toml)


def load_settings(**overrides: Any) -> Settings:
    """Load settings, turning any validation problem into one :class:`ConfigError` line.

    The message names the offending setting, never its value (it may be a secret).
    """
    try:
        return Settings(**overrides)
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        if callable(errors):
            names = sorted({".".join(str(p) for p in e.get("loc", ())) for e in errors()})
            reasons = sorted({str(e.get("msg", "invalid")) for e in errors()})
            raise ConfigError(
                f"invalid setting(s) {', '.join(names)}: {'; '.join(reasons)}"
            ) from None
        raise ConfigError("invalid settings") from None
