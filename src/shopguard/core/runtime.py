"""The runtime: settings, database, key ring, audit log and event bus, opened together."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from shopguard.core.audit import AuditLog
from shopguard.core.audit_spool import AuditSpool
from shopguard.core.db import create_engine, migrate
from shopguard.core.errors import ConfigError
from shopguard.core.events import EventBus, persist_alerts
from shopguard.core.keyring import KeyRing, create_master_key_file
from shopguard.core.settings import Settings

__all__ = ["Runtime", "init_state"]

_DEFAULT_TOML = """# shopguard configuration. Environment variables SHOPGUARD_* override these.
# database_url = "postgresql://user@127.0.0.1:5432/shop"   # default: SQLite in this folder
# redis_url = "redis://127.0.0.1:6379/0"                    # default: in-process counters
log_level = "INFO"
"""


def init_state(settings: Settings) -> list[str]:
    """Create the state directory, master key, config and schema (idempotent).

    Returns what was created, for the CLI to report.
    """
    created: list[str] = []
    home = settings.home
    if home.exists() and not home.is_dir():
        raise ConfigError(f"state path {home} exists and is not a directory")
    if not home.exists():
        home.mkdir(parents=True)
        os.chmod(home, 0o700)
        created.append(str(home))
    toml = home / "shopguard.toml"
    if not toml.exists():
        toml.write_text(_DEFAULT_TOML, "utf-8")
        created.append(str(toml))
    if settings.master_key is None and not settings.master_key_path.exists():
        create_master_key_file(settings.master_key_path)
        created.append(str(settings.master_key_path))
    (home / "models").mkdir(exist_ok=True)
    rt = Runtime.open(settings, migrate_schema=True)
    try:
        rt.audit.ensure_head()
    finally:
        rt.close()
    return created


@dataclass
class Runtime:
    """Everything a command or the gateway needs from core."""

    settings: Settings
    engine: Engine
    keyring: KeyRing
    audit: AuditLog
    bus: EventBus

    @classmethod
    def open(cls, settings: Settings, *, migrate_schema: bool = True) -> Runtime:
        engine = create_engine(settings)
        if migrate_schema:
            migrate(engine)
        keyring = KeyRing.open(engine, settings)
        spool = (
            AuditSpool(settings.home / "audit-spool", max_bytes=settings.audit_spool_max_bytes)
            if settings.audit_spool
            else None
        )
        audit = AuditLog(
            engine,
            keyring,
            batch_max=settings.audit_batch_max,
            commit_delay_ms=settings.audit_commit_delay_ms,
            sqlite_synchronous=settings.audit_sqlite_synchronous,
            spool=spool,
        )
        if settings.audit_writer == "process":
            from shopguard.core.audit_proc import ProcessAuditWriter

            audit.use_process_writer(ProcessAuditWriter(settings))
        bus = EventBus()
        persist_alerts(bus, engine)
        return cls(settings, engine, keyring, audit, bus)

    @property
    def home(self) -> Path:
        return self.settings.home

    def close(self) -> None:
        self.audit.close()
        self.engine.dispose()
