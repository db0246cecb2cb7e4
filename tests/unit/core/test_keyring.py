from __future__ import annotations

import base64
import os

import pytest

from shopguard.core import crypto
from shopguard.core.errors import ConfigError, InvalidCiphertext, KeyRingError
from shopguard.core.keyring import KeyRing, load_keks
from shopguard.core.runtime import Runtime
from shopguard.core.settings import Settings, load_settings


def test_rotate_when_new_version_active_then_old_tokens_still_open(runtime: Runtime) -> None:
    kr = runtime.keyring
    old = kr.seal("fields", b"alice@example.com", context=b"c/1/email")
    first = kr.active("fields")
    second = kr.rotate("fields")
    assert second.version == first.version + 1
    new = kr.seal("fields", b"bob@example.com", context=b"c/2/email")
    assert new[1 : 1 + new[0]].decode() == second.key_id
    assert kr.open_(old, context=b"c/1/email") == b"alice@example.com"
    assert kr.open_(new, context=b"c/2/email") == b"bob@example.com"
    states = {kid: state for _, _, state, kid in kr.purposes()}
    assert states[first.key_id] == "retired" and states[second.key_id] == "active"


def test_keyring_when_reopened_by_another_worker_then_same_keys(runtime: Runtime) -> None:
    token = runtime.keyring.seal("fields", b"x", context=b"ctx")
    other = KeyRing.open(runtime.engine, runtime.settings)
    assert other.open_(token, context=b"ctx") == b"x"
    assert other.pseudonym("p", "C1") == runtime.keyring.pseudonym("p", "C1")


def test_rewrap_when_master_key_replaced_then_data_readable_with_new_key_only(
    runtime: Runtime,
) -> None:
    token = runtime.keyring.seal("fields", b"payload", context=b"ctx")
    new_kek = crypto.new_key()
    assert runtime.keyring.rewrap(new_kek) >= 1
    fresh = KeyRing(runtime.engine, [new_kek])
    assert fresh.open_(token, context=b"ctx") == b"payload"
    stale = KeyRing(runtime.engine, [crypto.new_key()])
    with pytest.raises(InvalidCiphertext):
        stale.open_(token, context=b"ctx")
    with pytest.raises(KeyRingError):
        stale.active("fields")


def test_pseudonym_when_key_rotated_then_stable(runtime: Runtime) -> None:
    before = runtime.keyring.pseudonym("audit.pseudonym", "alice@example.com")
    runtime.keyring.rotate("audit.pseudonym")
    after = KeyRing.open(runtime.engine, runtime.settings).pseudonym(
        "audit.pseudonym", "alice@example.com"
    )
    assert before == after
    assert "alice" not in before


def test_load_keks_when_key_file_group_readable_then_config_error(settings: Settings) -> None:
    os.chmod(settings.master_key_path, 0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_keks(settings)


def test_load_keks_when_key_file_garbage_then_config_error_without_content(
    settings: Settings,
) -> None:
    settings.master_key_path.write_text("not-a-key-SECRETISH")
    os.chmod(settings.master_key_path, 0o600)
    with pytest.raises(ConfigError) as info:
        load_keks(settings)
    assert "SECRETISH" not in str(info.value)


def test_master_key_file_mode_is_0600(settings: Settings) -> None:
    assert settings.master_key_path.stat().st_mode & 0o777 == 0o600


def test_load_keks_when_env_master_key_then_used(tmp_path) -> None:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    s = load_settings(home=tmp_path / "h", master_key=key)
    assert load_keks(s) == [base64.urlsafe_b64decode(key)]
    with pytest.raises(ConfigError):
        load_keks(load_settings(home=tmp_path / "h", master_key="short"))
