"""Two real gateway worker processes behave as one: shared rate limits (Redis) and revocation."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shopguard.core.runtime import Runtime
from shopguard.gateway.keys import ApiKeyStore
from tests.conftest import fresh_postgres_schema
from tests.integration.conftest import make_settings

pytestmark = pytest.mark.slow


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("worker did not start")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def workers(
    request, trained_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[list[str], Runtime]]:
    # One pair of workers per backend for the module (each start imports the whole gateway
    # and loads every model): every test issues its own keys, so the tests stay independent.
    home = tmp_path_factory.mktemp("workers") / ".shopguard"
    shutil.copytree(trained_home, home)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SHOPGUARD_")},
        "SHOPGUARD_HOME": str(home),
        "SHOPGUARD_REDIS_URL": "redis://127.0.0.1:6379/0",
        "SHOPGUARD_RATE_LIMIT_KEY": "20/minute",
        "SHOPGUARD_RATE_LIMIT_IP": "1000/minute",
    }
    with contextlib.ExitStack() as stack:
        over = {}
        if request.param == "postgres":
            url = stack.enter_context(fresh_postgres_schema())
            env["SHOPGUARD_DATABASE_URL"] = url
            over["database_url"] = url
        settings = make_settings(home, **over)
        procs, urls = [], []
        for _ in range(2):
            port = _port()
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "shopguard.cli", "serve", "--port", str(port)],
                    env=env,
                    cwd=home.parent,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        rt = Runtime.open(settings)
        try:
            for url, proc in zip(urls, procs, strict=True):
                _wait(url, proc)
            yield urls, rt
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=20)
            rt.close()


def test_rate_limit_when_two_workers_share_redis_then_limit_holds_across_them(workers) -> None:
    urls, rt = workers
    secret = (
        ApiKeyStore(rt.engine, rt.keyring)
        .create(name=f"flood-{uuid.uuid4().hex}", tenant="default", scopes=["reviews:read"])
        .secret
    )
    allowed = 0
    with httpx.Client(timeout=10) as client:
        for i in range(40):
            r = client.get(
                f"{urls[i % 2]}/v1/products/P00001/reviews?limit=1", headers={"X-API-Key": secret}
            )
            assert r.status_code in (200, 429), r.text
            allowed += r.status_code == 200
    assert allowed == 20  # not 40: the two workers count together


def test_revoke_when_key_in_use_on_both_workers_then_refused_everywhere_within_a_second(
    workers,
) -> None:
    urls, rt = workers
    store = ApiKeyStore(rt.engine, rt.keyring)
    issued = store.create(name="to-revoke", tenant="default", scopes=["reviews:read"])
    h = {"X-API-Key": issued.secret}
    with httpx.Client(timeout=10) as client:
        for url in urls:
            assert (
                client.get(f"{url}/v1/products/P00001/reviews?limit=1", headers=h).status_code
                == 200
            )
        store.revoke(issued.record.key_id)
        time.sleep(1.0)
        codes = [
            client.get(f"{url}/v1/products/P00001/reviews?limit=1", headers=h).status_code
            for url in urls
        ]
    assert codes == [401, 401]
