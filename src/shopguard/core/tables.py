"""Core tables, mirroring migration ``core_0001``. Other packages never touch these directly."""

from __future__ import annotations

import sqlalchemy as sa

from shopguard.core.db import metadata

__all__ = ["alerts", "audit_head", "audit_log", "keyring_keys"]

keyring_keys = sa.Table(
    "keyring_keys",
    metadata,
    sa.Column("key_id", sa.String(64), primary_key=True),
    sa.Column("purpose", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("kek_id", sa.String(32), nullable=False),
    sa.Column("wrapped", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.String(32), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("request_id", sa.String(64)),
    sa.Column("principal", sa.String(128)),
    sa.Column("action", sa.String(128), nullable=False),
    sa.Column("target", sa.String(256)),
    sa.Column("decision", sa.String(32), nullable=False),
    sa.Column("findings", sa.Text, nullable=False),
    sa.Column("input_digest", sa.String(64)),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    sa.Column("mac", sa.String(64), nullable=False),
    sa.Column("mac_key_id", sa.String(64), nullable=False),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    sa.Column("mac", sa.String(64), nullable=False),
    sa.Column("mac_key_id", sa.String(64), nullable=False),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("topic", sa.String(128), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("summary", sa.String(512), nullable=False),
    sa.Column("details", sa.Text, nullable=False),
)
