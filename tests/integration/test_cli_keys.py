from __future__ import annotations

import pytest

from shopguard.cli import main
from shopguard.core.runtime import Runtime
from shopguard.core.settings import load_settings
from shopguard.gateway.keys import ApiKeyStore


def test_keys_create_when_valid_then_printed_once_and_usable_until_revoked(capsys) -> None:
    assert main(["init"]) == 0
    capsys.readouterr()
    code = main(
        [
            "keys",
            "create",
            "--name",
            "checkout",
            "--tenant",
            "default",
            "--scopes",
            "fraud:score",
            "--expires",
            "30d",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    secret = out.strip()
    assert secret.startswith("sgk_") and "key id" in err
    rt = Runtime.open(load_settings())
    try:
        store = ApiKeyStore(rt.engine, rt.keyring, cache_ttl=0)
        rec = store.authenticate(secret)
        assert rec.tenant == "default" and rec.expires_at is not None
        assert main(["keys", "list"]) == 0
        listing = capsys.readouterr().out
        assert rec.key_id[:8] in listing and secret not in listing
        assert main(["keys", "revoke", rec.key_id]) == 0
        with pytest.raises(Exception):
            store.authenticate(secret)
        actions = [r.action for r in rt.audit.records()]
        assert actions.count("keys.create") == 1 and actions.count("keys.revoke") == 1
        assert all(secret not in str(r.to_json()) for r in rt.audit.records())
    finally:
        rt.close()


@pytest.mark.parametrize(
    "argv",
    [
        ["keys", "create", "--name", "n", "--tenant", "t", "--scopes", "Bad Scope"],
        [
            "keys",
            "create",
            "--name",
            "n",
            "--tenant",
            "t",
            "--scopes",
            "a:b",
            "--expires",
            "forever",
        ],
        ["keys", "revoke", "0123456789abcdef"],
        ["keys", "create", "--name", "n"],
    ],
)
def test_keys_when_bad_input_then_exit_2(capsys, argv) -> None:
    main(["init"])
    capsys.readouterr()
    assert main(argv) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
