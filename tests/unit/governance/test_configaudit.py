"""Configuration audit: each misconfiguration found with its severity and fix; a safe one is clean."""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

import httpx
import pytest

from shopguard.core.errors import ConfigError
from shopguard.core.runtime import init_state
from shopguard.core.settings import load_settings
from shopguard.governance.configaudit import audit_config, audit_live, audit_settings, is_loopback
from shopguard.governance.depaudit import Severity


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / ".shopguard"
    init_state(load_settings(home=home))
    return home


def _rules(findings) -> set[str]:
    return {f.rule for f in findings}


def test_audit_when_defaults_then_nothing_medium_or_worse(home):
    findings = audit_config(load_settings(home=home), environ=lambda _k: None)
    assert [f for f in findings if f.severity.at_least(Severity.MEDIUM)] == []


@pytest.mark.parametrize(
    ("over", "rule", "severity"),
    [
        ({"gateway_cors_origins": ["*"]}, "cors.wildcard", Severity.HIGH),
        ({"gateway_cors_origins": ["null"]}, "cors.null_origin", Severity.MEDIUM),
        ({"log_level": "DEBUG"}, "debug.log_level", Severity.MEDIUM),
        ({"gateway_guards": ["authn", "authz"]}, "gateway.rate_limits_off", Severity.HIGH),
        ({"gateway_guards": ["authz", "rate_limit"]}, "gateway.no_authentication", Severity.CRITICAL),
        ({"rate_limit_fail_open": True}, "gateway.rate_limit_fail_open", Severity.MEDIUM),
        ({"redis_url": "redis://cache.internal:6379/0"}, "redis.no_auth", Severity.HIGH),
        ({"redis_url": "redis://:pw@10.0.0.5:6379/0"}, "redis.no_tls", Severity.HIGH),
        ({"database_url": "postgresql://app@db.internal/shop"}, "postgres.no_auth", Severity.HIGH),
        (
            {"database_url": "postgresql://app:pw@db.internal/shop?sslmode=prefer"},
            "postgres.no_tls",
            Severity.HIGH,
        ),
        ({"upstreams": {"llm": "http://llm.internal:8000"}}, "tls.upstream_plain_http", Severity.HIGH),
        ({"master_key": base64.urlsafe_b64encode(b"changeme" * 4).decode()}, "key.weak_master_key",
         Severity.CRITICAL),
    ],
)  # fmt: skip
def test_audit_when_misconfigured_then_rule_fires_with_fix(home, over, rule, severity):
    findings = audit_settings(load_settings(home=home, **over))
    hit = [f for f in findings if f.rule == rule]
    assert hit, _rules(findings)
    assert hit[0].severity is severity
    assert hit[0].fix


def test_audit_when_stores_on_loopback_then_no_auth_or_tls_findings(home):
    s = load_settings(
        home=home,
        redis_url="redis://127.0.0.1:6379/0",
        database_url="postgresql://127.0.0.1:5432/test",
    )
    assert not {"redis.no_auth", "redis.no_tls", "postgres.no_auth", "postgres.no_tls"} & _rules(
        audit_settings(s)
    )


def test_audit_when_secure_remote_stores_then_clean(home):
    s = load_settings(
        home=home,
        redis_url="rediss://:pw@cache.internal:6380/0",
        database_url="postgresql://app:pw@db.internal/shop?sslmode=verify-full",
    )
    assert not {"redis.no_auth", "redis.no_tls", "postgres.no_auth", "postgres.no_tls"} & _rules(
        audit_settings(s)
    )


def test_audit_when_strong_master_key_then_not_weak(home):
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    assert "key.weak_master_key" not in _rules(
        audit_settings(load_settings(home=home, master_key=key))
    )


def test_audit_when_master_key_readable_by_others_then_critical(home):
    settings = load_settings(home=home)
    os.chmod(home, 0o755)
    os.chmod(settings.master_key_path, 0o644)
    hit = [f for f in audit_settings(settings) if f.rule == "key.file_readable_by_others"]
    assert hit and hit[0].severity is Severity.CRITICAL
    assert "files.state_dir_open" in _rules(audit_settings(settings))


def test_audit_when_key_mode_open_but_folder_private_then_medium_not_critical(home):
    settings = load_settings(home=home)
    os.chmod(home, 0o700)
    os.chmod(settings.master_key_path, 0o644)
    rules = _rules(audit_settings(settings))
    assert "key.file_mode_open" in rules and "key.file_readable_by_others" not in rules


def test_audit_when_master_key_secret_then_value_never_in_findings(home):
    key = base64.urlsafe_b64encode(b"changeme" * 4).decode()
    text = json.dumps(
        [f.to_json() for f in audit_settings(load_settings(home=home, master_key=key))]
    )
    assert key not in text and "changeme" not in text


def test_audit_when_jwt_without_audience_or_with_symmetric_jwks_then_flagged(home, tmp_path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "shared"}]}))
    findings = audit_settings(load_settings(home=home, jwt_jwks_file=jwks))
    rules = _rules(findings)
    assert {"jwt.no_audience", "jwt.no_issuer", "jwt.symmetric_key"} <= rules
    ok = audit_settings(
        load_settings(home=home, jwt_jwks_file=jwks, jwt_audience="shop", jwt_issuer="idp")
    )
    assert "jwt.no_audience" not in _rules(ok)


def test_is_loopback_when_hosts_then_expected():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("10.0.0.1") and not is_loopback("db.internal")


def _live_app(*, cors: str | None, public_metrics: bool, traceback: bool):
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"x-content-type-options": "nosniff"}
        if cors is not None and "origin" in request.headers:
            headers["access-control-allow-origin"] = cors or request.headers["origin"]
        path = request.url.path
        if path == "/healthz":
            return httpx.Response(200, json={"status": "ok"}, headers=headers)
        if path == "/metrics" and public_metrics:
            return httpx.Response(200, text="requests_total 1", headers=headers)
        if path.startswith("/__shopguard_probe") and traceback:
            return httpx.Response(
                404, text='Traceback (most recent call last):\n  File "app.py"', headers=headers
            )
        return httpx.Response(401, json={"title": "Unauthorized"}, headers=headers)

    return httpx.MockTransport(handler)


def test_live_when_gateway_misconfigured_then_public_admin_cors_and_debug_found():
    transport = _live_app(cors="", public_metrics=True, traceback=True)
    findings = audit_live("https://shop.example.com", transport=transport)
    rules = _rules(findings)
    assert {
        "routes.public_admin",
        "cors.any_origin_live",
        "debug.tracebacks",
        "headers.no_hsts",
    } <= rules


def test_live_when_gateway_hardened_then_no_findings():
    transport = _live_app(cors=None, public_metrics=False, traceback=False)
    findings = audit_live("http://127.0.0.1:8000", transport=transport)
    assert findings == []


def test_live_when_plain_http_off_loopback_then_tls_off():
    transport = _live_app(cors=None, public_metrics=False, traceback=False)
    assert "tls.off" in _rules(audit_live("http://shop.example.com", transport=transport))


def test_live_when_url_bad_or_unreachable_then_config_error():
    with pytest.raises(ConfigError, match="http"):
        audit_live("ftp://x")

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(ConfigError, match="cannot reach"):
        audit_live("http://127.0.0.1:9", transport=httpx.MockTransport(down))


def test_audit_when_debug_env_set_then_flagged(home):
    findings = audit_config(load_settings(home=home), environ={"SHOPGUARD_DEBUG": "1"}.get)
    assert "debug.env" in _rules(findings)
