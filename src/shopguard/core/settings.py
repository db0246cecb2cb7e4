"""Settings: ``SHOPGUARD_*`` environment variables over ``shopguard.toml``, safe defaults.

The state directory (``.shopguard/`` under the working directory unless
``SHOPGUARD_HOME`` says otherwise) holds the SQLite database, the key ring's
key-encryption key, the models and ``shopguard.toml``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

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
    audit_commit_delay_ms: float = Field(
        default=2.0,
        ge=0.0,
        le=50.0,
        description="Longest wait for a group commit to grow while entries keep arriving.",
    )
    audit_sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="FULL: an acknowledged audit entry survives power loss. NORMAL (WAL): "
        "it survives a process crash only; commits are cheaper.",
    )
    audit_spool: bool = Field(
        default=True,
        description="Spool audit entries the database refused to <home>/audit-spool and replay them.",
    )
    audit_spool_max_bytes: int = Field(default=64 * 1024 * 1024, ge=4096)
    audit_writer: Literal["thread", "process"] = Field(
        default="thread",
        description="Who commits per-request audit entries: a thread of the calling process "
        "(default) or a writer child process per gateway worker (the event loop only encodes "
        "and awaits; worth it where the host has a core the worker does not use).",
    )
    log_level: str = Field(default="INFO")

    # -- gateway ---------------------------------------------------------------------
    gateway_guards: list[str] = Field(
        default=["authn", "authz", "ops.containment", "rate_limit"],
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
    fairness_review_deadline_days: int = Field(
        default=30, ge=1, le=90, description="Days a human review of a decision may take."
    )
    fairness_min_group_size: int = Field(
        default=30, ge=1, description="Smallest group a fairness audit or monitor judges."
    )
    fairness_fpr_gap_bar: float = Field(
        default=0.05, ge=0, le=1, description="Largest false-positive-rate gap between groups."
    )
    fairness_dp_gap_bar: float = Field(
        default=0.1, ge=0, le=1, description="Largest selection-rate gap between groups."
    )
    fairness_mitigation: dict[str, Literal["none", "threshold"]] = Field(
        default={},
        description="Per-model live mitigation the gateway serves: model -> 'threshold' "
        "(group-aware thresholds fitted by 'shopguard fairness mitigate') or 'none'.",
    )
    fairness_monitor_attributes: list[str] = Field(
        default=["region", "age_band"],
        description="Customer attributes whose decline rates the gateway tracks ([] = off).",
    )
    fairness_monitor_gap_bar: float = Field(
        default=0.05, ge=0, le=1, description="Largest live decline-rate gap between groups."
    )
    fairness_monitor_window: int = Field(
        default=5000, ge=10, le=1_000_000, description="Decisions remembered per group."
    )

    # -- assistant -------------------------------------------------------------------
    llm_url: str | None = Field(
        default=None,
        description="OpenAI-compatible chat endpoint for the assistant; None = built-in offline engine.",
    )
    llm_model: str = Field(default="gpt-4o-mini", description="Model name sent to llm_url.")
    llm_api_key: SecretStr | None = Field(default=None, description="Bearer key for llm_url.")
    llm_timeout_s: float = Field(default=20.0, gt=0, le=120)
    blas_threads: int = Field(
        default=1,
        ge=0,
        le=256,
        description="Threads numpy's BLAS may use in a serving process (the gateway, "
        "score-prompts): per-request matrix products are small, and a second thread costs "
        "more CPU than it saves time (BENCHMARKS.md). 0 = numpy's default (one per core).",
    )
    assistant_max_message_chars: int = Field(default=4000, ge=100, le=32_000)
    assistant_refund_auto_limit: float = Field(
        default=100.0, ge=0, description="Refunds above this wait for a person."
    )
    assistant_tool_rate_limit: str = Field(
        default="10/minute", description="Per customer and tool."
    )
    assistant_injection_fpr: float | None = Field(
        default=None,
        gt=0,
        lt=0.5,
        description="Operating point of the prompt-injection detector: None = the shipped "
        "threshold (read on hand-written hard-benign prompts); a share recalibrates to flag "
        "that much of the benign shopper messages it was trained on (out of fold).",
    )
    assistant_injection_detector: Literal["balanced", "recall"] = Field(
        default="balanced",
        description="Which shipped prompt-injection detector screens messages: 'balanced' "
        "(the default, round 36: n-grams blended with a fine-tuned sentence encoder) or "
        "'recall' (round 8: n-grams with the encoder's raw vector; a little more of the "
        "public attack sets, far fewer fresh hand-written ones). Measured in BENCHMARKS.md.",
    )
    assistant_injection_detector_file: Path | None = Field(
        default=None,
        description="A detector file built by `python -m shopguard.assistant.train --out "
        "FILE` (e.g. with --round10 for shoppers who write in many languages); replaces the "
        "shipped detector named above. A file that cannot be read stops the gateway at start.",
    )
    assistant_guards: list[
        Literal["detect_input", "scan_documents", "bind_tools", "filter_output"]
    ] = Field(
        default=["detect_input", "scan_documents", "bind_tools", "filter_output"],
        description="The assistant's defences at the gateway; removing one is for red-team "
        "baselines only (logged as a warning).",
    )
    # -- operations (governance.staff / incidents, monitor) -------------------------
    ops_password_min_length: int = Field(default=12, ge=8, le=128)
    ops_lockout_threshold: int = Field(
        default=5, ge=1, le=100, description="Failed logins before an account locks."
    )
    ops_lockout_base_s: int = Field(
        default=60, ge=1, le=86_400, description="First lockout; doubles per further failure."
    )
    ops_session_ttl_s: int = Field(default=8 * 3600, ge=60, le=7 * 86_400)
    ops_session_idle_s: int = Field(default=30 * 60, ge=60, le=86_400)
    ops_break_glass_max_s: int = Field(default=3600, ge=60, le=4 * 3600)
    ops_key_unused_days: int = Field(
        default=90, ge=1, le=3650, description="An API key unused this long is flagged."
    )
    ops_access_review_days: int = Field(default=90, ge=1, le=366)
    ops_alert_webhooks: list[str] = Field(
        default=[], description="URLs that receive incident notifications (JSON POST)."
    )
    ops_alert_email_to: list[str] = Field(default=[], description="Incident e-mail recipients.")
    ops_smtp_host: str | None = Field(default=None, description="SMTP relay; None = no e-mail.")
    ops_smtp_port: int = Field(default=25, ge=1, le=65_535)
    ops_smtp_starttls: bool = Field(default=True, description="Require STARTTLS on the relay.")
    ops_smtp_from: str = Field(default="shopguard@localhost")
    ops_alert_min_severity: Literal["info", "warning", "high", "critical"] = Field(
        default="high", description="Least severity routed to webhooks and e-mail."
    )
    ops_incident_group_s: int = Field(
        default=3600, ge=1, le=7 * 86_400, description="Alerts of one threat this close group."
    )
    ops_staff_tenant: str = Field(
        default="default",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="The tenant whose store staff sessions act on at the gateway.",
    )
    monitor_embedded: bool = Field(
        default=True,
        description="shopguard serve evaluates the alert rules in-process (no Prometheus needed).",
    )
    monitor_interval_s: float = Field(
        default=15.0, ge=0.5, le=3600, description="Seconds between in-process monitor rounds."
    )
    monitor_drift_window: int = Field(
        default=500,
        ge=50,
        le=100_000,
        description="Requests per model in the drift reference and in each compared window.",
    )

    # -- governance: supply chain ----------------------------------------------------
    governance_advisories_file: Path | None = Field(
        default=None,
        description="An OSV advisory export for offline dependency audits (and the scorecard).",
    )

    # -- modelsec ----------------------------------------------------------------------
    extraction_query_budget: int = Field(
        default=150, ge=10, le=10_000_000, description="Queries per client per day before block."
    )
    extraction_redis_prefix: str = Field(default="shopguard:extraction:")
    extraction_exempt_keys: list[str] = Field(
        default=[],
        description="Key ids the extraction watch skips (server-side callers that score for every shopper).",
    )
    modelsec_output_hardening: dict[str, list[str]] = Field(
        default={},
        description="Per route, e.g. {'fraud.score': ['round:2']}: round:N, no_score, noise:S, top_k:K.",
    )
    integrity_quarantine_at: float = Field(
        default=0.8,
        gt=0.0,
        le=1.0,
        description="Fake-review score at or above which an ingested review is quarantined.",
    )
    images_model: str = Field(
        default="robust",
        pattern=r"^[a-z0-9_]{1,32}$",
        description="Served image classifier (shipped: standard, robust, robust02).",
    )
    images_max_upload_bytes: int = Field(default=262_144, ge=1_024, le=10_485_760)
    adversarial_refuse: bool = Field(
        default=False,
        description="Refuse (422) requests the unusual-input guard flags; False flags and logs.",
    )
    adversarial_routes: list[Literal["images.classify", "fraud.score"]] = Field(
        default=["images.classify", "fraud.score"],
        description="Routes the unusual-input guard scores (the others pass it untouched).",
    )
    # -- console ---------------------------------------------------------------------
    console_enabled: bool = Field(default=True, description="Serve the web console at /console.")
    console_cookie_secure: bool = Field(
        default=True,
        description="Mark console cookies Secure (turn off only for http://127.0.0.1 tests).",
    )

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
