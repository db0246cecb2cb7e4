"""``shopguard serve`` opens the default store before the port answers (``warm``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shopguard.core.runtime import Runtime
from shopguard.gateway.app import create_app
from shopguard.gateway.keys import ApiKeyStore
from shopguard.store import service as store_service
from shopguard.store.service import STORE_DIR
from tests.integration.conftest import ALL_SCOPES, SyncASGIClient, make_settings


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Tenants whose store was opened from disk, in order."""
    seen: list[str] = []
    real = store_service.StoreService.open.__func__  # type: ignore[attr-defined]

    def counting(cls, home, engine, *, tenant="default"):  # type: ignore[no-untyped-def]
        seen.append(tenant)
        return real(cls, home, engine, tenant=tenant)

    monkeypatch.setattr(store_service.StoreService, "open", classmethod(counting))
    return seen


@pytest.mark.parametrize("warm", [False, True])
def test_create_app_when_warm_then_store_opened_before_first_request_else_by_it(
    gateway_home: Path, opens: list[str], warm: bool
) -> None:
    settings = make_settings(gateway_home)
    rt = Runtime.open(settings)
    try:
        app = create_app(settings, runtime=rt, warm=warm)
        assert opens == (["default"] if warm else [])
        key = ApiKeyStore(rt.engine, rt.keyring).create(
            name="t", tenant="default", scopes=ALL_SCOPES
        )
        with SyncASGIClient(app) as client:
            r = client.get("/v1/products/P00001/reviews?limit=1", headers={"X-API-Key": key.secret})
        assert r.status_code == 200, r.text
        assert opens == ["default"]  # opened once, by whichever came first
    finally:
        rt.close()


def test_create_app_when_warm_and_no_store_then_starts_and_requests_say_so(
    gateway_home: Path, opens: list[str]
) -> None:
    shutil.rmtree(gateway_home / STORE_DIR)
    settings = make_settings(gateway_home)
    rt = Runtime.open(settings)
    try:
        app = create_app(settings, runtime=rt, warm=True)
        key = ApiKeyStore(rt.engine, rt.keyring).create(
            name="t", tenant="default", scopes=ALL_SCOPES
        )
        with SyncASGIClient(app) as client:
            r = client.get("/v1/products/P00001/reviews?limit=1", headers={"X-API-Key": key.secret})
        assert r.status_code == 404 and r.headers["content-type"].startswith(
            "application/problem+json"
        ), r.text
    finally:
        rt.close()
