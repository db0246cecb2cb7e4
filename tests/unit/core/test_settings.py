from __future__ import annotations

from pathlib import Path

import pytest

from shopguard.core.errors import ConfigError
from shopguard.core.settings import load_settings


def test_settings_when_nothing_configured_then_safe_embedded_defaults() -> None:
    s = load_settings()
    assert s.sqlalchemy_url.startswith("sqlite:///") and s.sqlalchemy_url.endswith(
        ".shopguard/shopguard.db"
    )
    assert s.redis_url is None and s.master_key is None


def test_settings_when_env_and_toml_disagree_then_env_wins(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "state"
    home.mkdir()
    (home / "shopguard.toml").write_text('log_level = "DEBUG"\naudit_batch_max = 7\n')
    monkeypatch.setenv("SHOPGUARD_HOME", str(home))
    monkeypatch.setenv("SHOPGUARD_AUDIT_BATCH_MAX", "9")
    s = load_settings()
    assert s.log_level == "DEBUG" and s.audit_batch_max == 9


def test_settings_when_toml_has_unknown_key_then_config_error_names_it(
    tmp_path: Path, monkeypatch
) -> None:
    home = tmp_path / "state"
    home.mkdir()
    (home / "shopguard.toml").write_text('databse_url = "sqlite://"\n')
    monkeypatch.setenv("SHOPGUARD_HOME", str(home))
    with pytest.raises(ConfigError, match="databse_url"):
        load_settings()


def test_settings_when_database_url_has_password_then_error_does_not_echo_it(monkeypatch) -> None:
    monkeypatch.setenv("SHOPGUARD_DATABASE_URL", "mysql://u:hunter2@db/x")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "hunter2" not in str(info.value) and "database_url" in str(info.value)


def test_settings_when_postgres_url_then_psycopg3_driver() -> None:
    assert load_settings(database_url="postgresql://h/db").sqlalchemy_url.startswith(
        "postgresql+psycopg://"
    )


def test_settings_when_injection_detector_named_then_only_shipped_names_accepted(
    monkeypatch,
) -> None:
    assert load_settings().assistant_injection_detector == "balanced"
    monkeypatch.setenv("SHOPGUARD_ASSISTANT_INJECTION_DETECTOR", "recall")
    assert load_settings().assistant_injection_detector == "recall"
    monkeypatch.setenv("SHOPGUARD_ASSISTANT_INJECTION_DETECTOR", "fast")
    with pytest.raises(ConfigError, match="assistant_injection_detector"):
        load_settings()


def test_settings_when_injection_detector_file_set_then_read_as_a_path(monkeypatch) -> None:
    assert load_settings().assistant_injection_detector_file is None
    monkeypatch.setenv("SHOPGUARD_ASSISTANT_INJECTION_DETECTOR_FILE", "/srv/r10.npz")
    assert load_settings().assistant_injection_detector_file == Path("/srv/r10.npz")


def test_settings_when_injection_fpr_outside_0_to_half_then_config_error_names_it(
    monkeypatch,
) -> None:
    monkeypatch.setenv("SHOPGUARD_ASSISTANT_INJECTION_FPR", "0.005")
    assert load_settings().assistant_injection_fpr == 0.005
    for bad in ("0", "0.5", "many"):
        monkeypatch.setenv("SHOPGUARD_ASSISTANT_INJECTION_FPR", bad)
        with pytest.raises(ConfigError, match="assistant_injection_fpr"):
            load_settings()
