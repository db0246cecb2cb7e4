"""Database engine and migrations.

SQLite under the state directory is the embedded default; PostgreSQL (psycopg 3)
by ``SHOPGUARD_DATABASE_URL``. The schema is owned by Alembic migrations: each
capability may keep its own ``migrations/versions`` folder beside its code, and
:func:`migrate` upgrades every branch to its head.
"""

from __future__ import annotations

import importlib.resources
import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine

from shopguard.core.errors import StorageError
from shopguard.core.settings import Settings

__all__ = ["create_engine", "is_postgres", "metadata", "migrate"]

logger = logging.getLogger(__name__)

#: The one MetaData every shopguard table is declared on.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL: readers never block the writer; committed transactions survive a killed process.
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk before it returns (group commit keeps this cheap).
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def create_engine(settings: Settings) -> Engine:
    """Create the engine for ``settings`` and check it can connect.

    Raises
    ------
    StorageError
        The URL is malformed or the database cannot be reached. The message
        names the backend, never the URL (it may hold a password).
    """
    url = settings.sqlalchemy_url
    kwargs: dict[str, Any] = {"future": True}
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise StorageError("database_url is not a valid URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 5}
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (sa.exc.ArgumentError, ImportError):
        raise StorageError(f"cannot create a {backend} engine from database_url") from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise StorageError(
            f"cannot connect to the {backend} database ({type(getattr(exc, 'orig', None) or exc).__name__})"
        ) from None
    return engine


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _version_locations() -> list[str]:
    root = importlib.resources.files("shopguard")
    found = []
    for pkg in sorted(p.name for p in Path(str(root)).iterdir() if p.is_dir()):
        versions = Path(str(root)) / pkg / "migrations" / "versions"
        if versions.is_dir():
            found.append(str(versions))
    return found


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("version_locations", " ".join(_version_locations()))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Upgrade the schema to every branch's head (idempotent)."""
    try:
        command.upgrade(alembic_config(engine), "heads")
    except sa.exc.SQLAlchemyError as exc:
        raise StorageError(f"database migration failed ({type(exc).__name__})") from None
