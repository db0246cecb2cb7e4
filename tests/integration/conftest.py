"""A trained store, built once per test session, and gateways over it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shopguard.core.runtime import Runtime, init_state
from shopguard.core.settings import Settings, load_settings
from shopguard.gateway.app import STORE_SCOPES
from shopguard.gateway.keys import ApiKeyStore
from shopguard.store.fraud import train_fraud
from shopguard.store.generate import generate_store, write_store
from shopguard.store.recommender import order_sequences, train_recommender
from shopguard.store.reviews import train_review_ranker
from shopguard.store.service import STORE_DIR, TENANTS_DIR

ALL_SCOPES = list(STORE_SCOPES)


def _train_into(root: Path, *, seed: int, customers: int) -> None:
    store = generate_store(seed=seed, customers=customers)
    write_store(store, root / STORE_DIR, fmt="parquet", overwrite=True)
    train_fraud(store.transactions, random_state=seed, validation_days=0).save(
        root / "models" / "fraud"
    )
    train_recommender(order_sequences(store.orders), random_state=seed).save(
        root / "models" / "recommender"
    )
    train_review_ranker(store.reviews, random_state=seed).save(root / "models" / "reviews")


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``.shopguard``-like folder: tenant ``default`` (1,000 customers) and tenant ``other`` (300)."""
    home = tmp_path_factory.mktemp("trained") / ".shopguard"
    _train_into(home, seed=5, customers=1000)
    other = home / TENANTS_DIR / "other"
    store = generate_store(seed=11, customers=300)
    write_store(store, other / STORE_DIR, fmt="parquet", overwrite=True)
    shutil.copytree(home / "models", other / "models")
    return home


@pytest.fixture
def gateway_home(trained_home: Path, tmp_path: Path) -> Path:
    """A private copy of the trained store's files with a fresh database and key ring."""
    home = tmp_path / ".shopguard"
    shutil.copytree(trained_home, home)
    return home


def make_settings(home: Path, **over: object) -> Settings:
    s = load_settings(home=home, **over)
    init_state(s)
    return s


def idp_settings(home: Path, idp: Any, **over: object) -> Settings:
    """:func:`make_settings` trusting ``idp``'s tokens (its key, audience and issuer)."""
    return make_settings(
        home,
        jwt_public_key_files=[idp.public_key_path],
        jwt_audience=idp.audience,
        jwt_issuer=idp.issuer,
        **over,
    )


class SyncASGIClient:
    """A synchronous client over httpx's ASGI transport, on its own event loop."""

    def __init__(self, app: Any) -> None:
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(
            app=app, raise_app_exceptions=False, client=("203.0.113.7", 50000)
        )
        self._client = httpx.AsyncClient(transport=transport, base_url="http://gw")

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kw))

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", url, **kw)

    def options(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("OPTIONS", url, **kw)

    def __enter__(self) -> SyncASGIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


class Gateway:
    """An app, its runtime, and a way to mint keys."""

    def __init__(self, settings: Settings) -> None:
        from shopguard.gateway.app import create_app

        self.settings = settings
        self.runtime = Runtime.open(settings)
        self.app = create_app(settings, runtime=self.runtime)
        self.keys = ApiKeyStore(self.runtime.engine, self.runtime.keyring)

    def key(self, *scopes: str, tenant: str = "default") -> str:
        return self.keys.create(
            name="test", tenant=tenant, scopes=list(scopes or ALL_SCOPES)
        ).secret

    def client(self) -> SyncASGIClient:
        return SyncASGIClient(self.app)

    def close(self) -> None:
        self.runtime.close()


@pytest.fixture
def gateway(gateway_home: Path) -> Iterator[Gateway]:
    gw = Gateway(make_settings(gateway_home))
    yield gw
    gw.close()
