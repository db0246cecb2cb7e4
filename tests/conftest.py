"""Shared fixtures: a state directory per test, and every storage backend we support."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from shopguard.core.runtime import Runtime, init_state
from shopguard.core.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()
POSTGRES_URL = os.environ.get("SHOPGUARD_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No test reads the developer's own .shopguard or environment.
    for key in list(os.environ):
        if key.startswith("SHOPGUARD_") and key != "SHOPGUARD_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("SHOPGUARD_NO_PROGRESS", "1")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared datasets not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema; yields a database URL whose search_path points at it."""
    with fresh_postgres_schema() as url:
        yield url


@contextlib.contextmanager
def fresh_postgres_schema() -> Iterator[str]:
    """:func:`postgres_schema` for fixtures of a wider scope: dropped on exit."""
    schema = f"sg_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh state directory on each backend."""
    home = tmp_path / ".shopguard"
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_schema")
        s = load_settings(home=home, database_url=url)
    else:
        s = load_settings(home=home)
    init_state(s)
    return s


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime.open(settings)
    try:
        yield rt
    finally:
        rt.close()
