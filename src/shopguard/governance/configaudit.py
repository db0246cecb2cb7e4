"""Configuration audit: a deployment's settings and live endpoints, linted for misconfiguration.

Static rules read :class:`~shopguard.core.settings.Settings` and the state
directory (file modes, key material, the JWKS file); live rules probe a running
gateway without credentials (public admin routes, CORS, TLS, debug output,
security headers). Every finding names its rule, severity, where it was found
and the fix; it never carries a secret's value.

References
----------
OWASP ASVS 4.0 V14 (configuration); CIS PostgreSQL and Redis benchmarks (auth and TLS
off loopback); RFC 8725 (JWT best current practices: audience, issuer, no shared
symmetric keys).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
import stat
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from shopguard.core.settings import Settings
from shopguard.governance.depaudit import Severity

__all__ = [
    "ConfigFinding",
    "audit_config",
    "audit_live",
    "audit_settings",
    "is_loopback",
]

#: Paths an unauthenticated caller must never read (200 = finding).
ADMIN_PATHS: tuple[tuple[str, Severity], ...] = (
    ("/metrics", Severity.HIGH),
    ("/admin", Severity.HIGH),
    ("/v1/vendors", Severity.HIGH),
    ("/docs", Severity.LOW),
    ("/redoc", Severity.LOW),
    ("/openapi.json", Severity.LOW),
)
#: Key material that ships in tutorials and test suites.
_KNOWN_WEAK = frozenset(
    {b"\x00" * 32, b"changeme" * 4, b"secret" * 5 + b"se", b"0123456789abcdef" * 2, b"a" * 32}
)
_PROBE_ORIGIN = "https://cors-probe.shopguard.invalid"


@dataclass(frozen=True)
class ConfigFinding:
    """One misconfiguration: ``rule`` id, ``severity``, where, what, and the fix."""

    rule: str
    severity: Severity
    where: str
    message: str
    fix: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "where": self.where,
            "message": self.message,
            "fix": self.fix,
        }


def is_loopback(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8, ::1 and Unix sockets (no host)."""
    if not host:
        return True
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _mode_open_to_others(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def _key_file_findings(path: Path, home: Path, what: str) -> Iterable[ConfigFinding]:
    mode = stat.S_IMODE(path.stat().st_mode)
    if _readable_by_others(path, home):
        yield ConfigFinding(
            "key.file_readable_by_others",
            Severity.CRITICAL,
            str(path),
            f"{what} is readable by group or others (mode {mode:o})",
            f"chmod 600 {path}",
        )
    elif mode & (stat.S_IRWXG | stat.S_IRWXO):
        yield ConfigFinding(
            "key.file_mode_open",
            Severity.MEDIUM,
            str(path),
            f"{what} has mode {mode:o}; only its folder's permissions keep others out",
            f"chmod 600 {path}",
        )


def _readable_by_others(path: Path, home: Path) -> bool:
    """Can a user other than the owner read ``path``? Needs read on the file and search
    (x) on every folder from ``home`` down to it: a 0700 state folder protects its files."""
    if not path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH):
        return False
    folder = path.parent
    chain = [folder, *folder.parents]
    for d in chain:
        if not d.stat().st_mode & (stat.S_IXGRP | stat.S_IXOTH):
            return False
        if d == home:
            break
    return True


def _key_strength(raw: bytes) -> str | None:
    """Why a 32-byte symmetric key is weak, or None."""
    if len(raw) < 32:
        return f"{len(raw)} bytes; 32 required"
    if raw in _KNOWN_WEAK:
        return "a well-known default value"
    if len(set(raw)) < 12:
        return "too few distinct bytes to be random"
    if all(32 <= b < 127 for b in raw):
        return "printable text, not random bytes"
    return None


def _static_master_key(settings: Settings) -> Iterable[ConfigFinding]:
    if settings.master_key is not None:
        value = settings.master_key.get_secret_value().strip()
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raw = value.encode()
        weak = _key_strength(raw)
        if weak:
            yield ConfigFinding(
                "key.weak_master_key",
                Severity.CRITICAL,
                "SHOPGUARD_MASTER_KEY",
                f"the master key is weak ({weak})",
                "generate 32 random bytes (shopguard keyring rotate-master or "
                "`python -c 'import secrets,base64;print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())'`)",
            )
        return
    path = settings.master_key_path
    if path.exists():
        yield from _key_file_findings(path, settings.home, "the master key file")
        try:
            text = path.read_text("ascii").strip()
            raw = base64.urlsafe_b64decode(text.splitlines()[-1] + "==")
        except (OSError, UnicodeDecodeError, binascii.Error, ValueError, IndexError):
            raw = b""
        weak = _key_strength(raw)
        if weak:
            yield ConfigFinding(
                "key.weak_master_key",
                Severity.CRITICAL,
                str(path),
                f"the master key file holds a weak key ({weak})",
                "rotate it: shopguard keyring rotate-master",
            )


def _static_files(settings: Settings) -> Iterable[ConfigFinding]:
    home = settings.home
    if home.is_dir() and _mode_open_to_others(home):
        yield ConfigFinding(
            "files.state_dir_open",
            Severity.MEDIUM,
            str(home),
            "the state directory is accessible to group or others",
            f"chmod 700 {home}",
        )
    db = home / "shopguard.db"
    if settings.database_url is None and db.exists() and _readable_by_others(db, home):
        yield ConfigFinding(
            "files.database_readable_by_others",
            Severity.HIGH,
            str(db),
            "the SQLite database (personal data, key ring) is readable by group or others",
            f"chmod 600 {db}",
        )
    if home.is_dir():
        for f in sorted(home.rglob("*")):
            if not f.is_file() or f.suffix not in {".pem", ".key"} or f == settings.master_key_path:
                continue
            try:
                head = f.read_bytes()[:4096]
            except OSError:
                continue
            if b"PRIVATE KEY" in head:
                yield from _key_file_findings(f, home, "a private key file")


def _static_gateway(settings: Settings) -> Iterable[ConfigFinding]:
    guards = set(settings.gateway_guards)
    for guard, rule in (
        ("authn", "gateway.no_authentication"),
        ("authz", "gateway.no_authorisation"),
    ):
        if guard not in guards:
            yield ConfigFinding(
                rule,
                Severity.CRITICAL,
                "gateway_guards",
                f"the {guard} guard is off: every route, admin routes included, is public",
                f"add {guard!r} to gateway_guards",
            )
    if "rate_limit" not in guards:
        yield ConfigFinding(
            "gateway.rate_limits_off",
            Severity.HIGH,
            "gateway_guards",
            "rate limiting is off (model extraction and scraping go unthrottled)",
            "add 'rate_limit' to gateway_guards",
        )
    if settings.rate_limit_fail_open:
        yield ConfigFinding(
            "gateway.rate_limit_fail_open",
            Severity.MEDIUM,
            "rate_limit_fail_open",
            "rate limits are skipped whenever Redis is unreachable",
            "set rate_limit_fail_open = false",
        )
    origins = settings.gateway_cors_origins
    if "*" in origins:
        yield ConfigFinding(
            "cors.wildcard",
            Severity.HIGH,
            "gateway_cors_origins",
            "CORS allows any origin ('*')",
            "list the storefront's exact origins",
        )
    if "null" in origins:
        yield ConfigFinding(
            "cors.null_origin",
            Severity.MEDIUM,
            "gateway_cors_origins",
            "CORS allows the 'null' origin (sandboxed frames, local files)",
            "remove 'null'",
        )
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            yield ConfigFinding(
                "cors.plain_http_origin",
                Severity.MEDIUM,
                "gateway_cors_origins",
                "a CORS origin is plain http on a non-loopback host",
                "serve the storefront over https and list its https origin",
            )
    if settings.log_level.upper() == "DEBUG":
        yield ConfigFinding(
            "debug.log_level",
            Severity.MEDIUM,
            "log_level",
            "debug logging is on",
            "set log_level = 'INFO' in production",
        )
    for name, url in sorted(settings.upstreams.items()):
        parts = urlsplit(url)
        if parts.scheme != "https" and not is_loopback(parts.hostname):
            yield ConfigFinding(
                "tls.upstream_plain_http",
                Severity.HIGH,
                f"upstreams.{name}",
                "an upstream model service is reached without TLS off loopback",
                "use an https:// upstream URL",
            )


def _static_jwt(settings: Settings) -> Iterable[ConfigFinding]:
    jwt_on = bool(settings.jwt_public_key_files or settings.jwt_jwks_file)
    if not jwt_on:
        return
    if not settings.jwt_audience:
        yield ConfigFinding(
            "jwt.no_audience",
            Severity.HIGH,
            "jwt_audience",
            "bearer tokens are accepted without an audience check "
            "(a token minted for another service is accepted here)",
            "set jwt_audience to this gateway's audience",
        )
    if not settings.jwt_issuer:
        yield ConfigFinding(
            "jwt.no_issuer",
            Severity.MEDIUM,
            "jwt_issuer",
            "bearer tokens are accepted from any issuer the keys sign for",
            "set jwt_issuer",
        )
    jwks = settings.jwt_jwks_file
    if jwks is not None and jwks.is_file():
        try:
            doc = json.loads(jwks.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            yield ConfigFinding(
                "jwt.jwks_unreadable",
                Severity.HIGH,
                str(jwks),
                "the JWKS file is not readable JSON",
                "point jwt_jwks_file at a valid JWKS document",
            )
            return
        keys = doc.get("keys", []) if isinstance(doc, dict) else []
        for i, key in enumerate(keys):
            if isinstance(key, dict) and key.get("kty") == "oct":
                yield ConfigFinding(
                    "jwt.symmetric_key",
                    Severity.CRITICAL,
                    f"{jwks} key {i + 1}",
                    "the JWKS holds a symmetric (oct) key: every service that verifies "
                    "with it can also mint tokens",
                    "use asymmetric keys (ES256 / EdDSA); keep private keys with the issuer only",
                )
            if isinstance(key, dict) and "d" in key:
                yield ConfigFinding(
                    "jwt.private_key_in_jwks",
                    Severity.CRITICAL,
                    f"{jwks} key {i + 1}",
                    "the verification JWKS contains private key material",
                    "publish only public keys",
                )


def _static_stores(settings: Settings) -> Iterable[ConfigFinding]:
    if settings.redis_url:
        parts = urlsplit(settings.redis_url)
        if parts.scheme in {"redis", "rediss"} and not is_loopback(parts.hostname):
            if not parts.password:
                yield ConfigFinding(
                    "redis.no_auth",
                    Severity.HIGH,
                    "redis_url",
                    "Redis on a non-loopback host without a password",
                    "enable Redis ACLs / requirepass and put the password in SHOPGUARD_REDIS_URL",
                )
            if parts.scheme != "rediss":
                yield ConfigFinding(
                    "redis.no_tls",
                    Severity.HIGH,
                    "redis_url",
                    "Redis on a non-loopback host without TLS",
                    "use a rediss:// URL",
                )
    if settings.database_url and settings.database_url.startswith("postgresql"):
        parts = urlsplit(settings.database_url)
        query = parse_qs(parts.query)
        hosts = [parts.hostname, *query.get("host", [])]
        remote = any(h is not None and not h.startswith("/") and not is_loopback(h) for h in hosts)
        if remote:
            if not parts.password and "passfile" not in query:
                yield ConfigFinding(
                    "postgres.no_auth",
                    Severity.HIGH,
                    "database_url",
                    "PostgreSQL on a non-loopback host without a password (trust auth?)",
                    "use scram-sha-256 auth and put the password in SHOPGUARD_DATABASE_URL",
                )
            sslmode = (query.get("sslmode") or [""])[0]
            if sslmode not in {"require", "verify-ca", "verify-full"}:
                yield ConfigFinding(
                    "postgres.no_tls",
                    Severity.HIGH,
                    "database_url",
                    "PostgreSQL on a non-loopback host without TLS required",
                    "add ?sslmode=verify-full",
                )


def audit_settings(settings: Settings) -> list[ConfigFinding]:
    """Lint ``settings`` and the state directory they point at."""
    findings: list[ConfigFinding] = []
    for rule in (_static_master_key, _static_files, _static_gateway, _static_jwt, _static_stores):
        findings.extend(rule(settings))
    return findings


def audit_live(
    base_url: str,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 10.0,
) -> list[ConfigFinding]:
    """Probe a running gateway without credentials.

    Raises
    ------
    ConfigError
        The URL is not http(s) or the gateway cannot be reached.
    """
    from shopguard.core.errors import ConfigError

    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError("--url must be an http:// or https:// URL with a host")
    findings: list[ConfigFinding] = []
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        findings.append(
            ConfigFinding(
                "tls.off",
                Severity.HIGH,
                base_url,
                "the gateway is served without TLS on a non-loopback address",
                "terminate TLS in front of the gateway and use its https:// URL",
            )
        )
    try:
        with httpx.Client(
            base_url=base_url, transport=transport, timeout=timeout, follow_redirects=False
        ) as client:
            for path, severity in ADMIN_PATHS:
                r = client.get(path)
                if r.status_code == 200:
                    findings.append(
                        ConfigFinding(
                            "routes.public_admin",
                            severity,
                            path,
                            f"{path} answers 200 without credentials",
                            "declare scopes on the route (add_guarded_route) or disable it",
                        )
                    )
            pre = client.options(
                "/healthz",
                headers={"Origin": _PROBE_ORIGIN, "Access-Control-Request-Method": "GET"},
            )
            got = client.get("/healthz", headers={"Origin": _PROBE_ORIGIN})
            for resp in (pre, got):
                allowed = resp.headers.get("access-control-allow-origin")
                if allowed in {"*", _PROBE_ORIGIN}:
                    findings.append(
                        ConfigFinding(
                            "cors.any_origin_live",
                            Severity.HIGH,
                            "/healthz",
                            "the gateway grants CORS to an arbitrary origin",
                            "list exact origins in gateway_cors_origins",
                        )
                    )
                    break
            missing = client.get(f"/__shopguard_probe_{uuid.uuid4().hex[:8]}")
            body = missing.text
            if "Traceback" in body or 'File "' in body:
                findings.append(
                    ConfigFinding(
                        "debug.tracebacks",
                        Severity.HIGH,
                        "error responses",
                        "error responses include a Python traceback (debug mode)",
                        "run without debug; map errors to problem+json",
                    )
                )
            if got.headers.get("x-content-type-options") != "nosniff":
                findings.append(
                    ConfigFinding(
                        "headers.missing",
                        Severity.LOW,
                        "/healthz",
                        "responses lack X-Content-Type-Options: nosniff",
                        "serve through the gateway's SecurityHeaders middleware",
                    )
                )
            if parts.scheme == "https" and "strict-transport-security" not in got.headers:
                findings.append(
                    ConfigFinding(
                        "headers.no_hsts",
                        Severity.MEDIUM,
                        "/healthz",
                        "HTTPS responses lack Strict-Transport-Security",
                        "send HSTS on every https response",
                    )
                )
    except httpx.HTTPError as exc:
        raise ConfigError(f"cannot reach the gateway ({type(exc).__name__})") from None
    return findings


def audit_config(
    settings: Settings,
    *,
    base_url: str | None = None,
    transport: httpx.BaseTransport | None = None,
    environ: Callable[[str], str | None] = os.environ.get,
) -> list[ConfigFinding]:
    """Static rules, plus live ones when ``base_url`` is given; most severe first."""
    findings = audit_settings(settings)
    if (environ("SHOPGUARD_DEBUG") or "").lower() in {"1", "true", "yes"}:
        findings.append(
            ConfigFinding(
                "debug.env",
                Severity.MEDIUM,
                "SHOPGUARD_DEBUG",
                "a debug switch is set in the environment",
                "unset SHOPGUARD_DEBUG",
            )
        )
    if base_url:
        findings.extend(audit_live(base_url, transport=transport))
    findings.sort(key=lambda f: (-f.severity.rank, f.rule, f.where))
    return findings
