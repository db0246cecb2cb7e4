from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shopguard.core.errors import AuthenticationError, DataValidationError
from shopguard.core.runtime import Runtime
from shopguard.gateway.keys import ApiKeyStore
from shopguard.gateway.keys import api_keys as table


def test_create_when_issued_then_only_keyed_hash_stored(runtime: Runtime) -> None:
    store = ApiKeyStore(runtime.engine, runtime.keyring)
    issued = store.create(name="checkout", tenant="default", scopes=["fraud:score"])
    secret_part = issued.secret[len("sgk_") + 16 + 1 :]  # the 43-character secret
    assert len(secret_part) == 43
    with runtime.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(table.select()).mappings()]
    dump = repr(rows)
    assert secret_part not in dump and issued.secret not in dump
    assert store.authenticate(issued.secret).scopes == {"fraud:score"}
    assert issued.secret not in repr(issued)


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"), id="wrong-secret"),
        pytest.param(lambda s: "sgk_" + "0" * 16 + s[20:], id="unknown-id"),
        pytest.param(lambda s: s + "x", id="malformed"),
        pytest.param(lambda s: "", id="empty"),
    ],
)
def test_authenticate_when_key_wrong_then_same_error(runtime: Runtime, mangle) -> None:
    store = ApiKeyStore(runtime.engine, runtime.keyring)
    issued = store.create(name="n", tenant="default", scopes=["a:b"])
    with pytest.raises(AuthenticationError, match=r"^invalid API key$"):
        store.authenticate(mangle(issued.secret))


def test_revoke_when_other_worker_caches_key_then_refused_within_ttl(runtime: Runtime) -> None:
    worker_a = ApiKeyStore(runtime.engine, runtime.keyring, cache_ttl=0.5)
    worker_b = ApiKeyStore(runtime.engine, runtime.keyring, cache_ttl=0.5)
    issued = worker_a.create(name="n", tenant="default", scopes=["a:b"])
    worker_b.authenticate(issued.secret)  # now cached in worker B
    worker_a.revoke(issued.record.key_id)
    import time

    time.sleep(0.6)
    with pytest.raises(AuthenticationError):
        worker_b.authenticate(issued.secret)


def test_authenticate_when_expired_then_refused(runtime: Runtime) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    store = ApiKeyStore(runtime.engine, runtime.keyring, clock=lambda: now[0])
    issued = store.create(name="n", tenant="default", scopes=["a:b"], expires_in=timedelta(days=30))
    store.authenticate(issued.secret)
    now[0] += timedelta(days=31)
    with pytest.raises(AuthenticationError):
        store.authenticate(issued.secret)


@pytest.mark.parametrize(
    ("kw", "column"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["Bad Scope"]}, "scopes"),
        ({"tenant": "a b"}, "tenant"),
    ],
)
def test_create_when_bad_fields_then_validation_error(runtime: Runtime, kw, column) -> None:
    args = {"name": "n", "tenant": "default", "scopes": ["a:b"], **kw}
    with pytest.raises(DataValidationError) as info:
        ApiKeyStore(runtime.engine, runtime.keyring).create(**args)
    assert info.value.column == column
