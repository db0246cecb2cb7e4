"""The integrity package's tables (its migrations own the schema)."""

from __future__ import annotations

import sqlalchemy as sa

from shopguard.core.db import metadata

__all__ = ["batches", "records", "rejections"]

records = sa.Table(
    "integrity_records",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("record_key", sa.String(128), nullable=False),
    sa.Column("subject", sa.String(128), nullable=True),
    sa.Column("batch_id", sa.String(64), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("received_at", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("score", sa.Float, nullable=True),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("decided_by", sa.String(128), nullable=True),
    sa.Column("decided_at", sa.String(40), nullable=True),
)

batches = sa.Table(
    "integrity_batches",
    metadata,
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("file_hash", sa.String(64), nullable=False),
    sa.Column("started_at", sa.String(40), nullable=False),
    sa.Column("finished_at", sa.String(40), nullable=True),
    sa.Column("rows_done", sa.Integer, nullable=False),
)

rejections = sa.Table(
    "integrity_rejections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.String(64), nullable=False),
    sa.Column("row", sa.Integer, nullable=False),
    sa.Column("record_key", sa.String(128), nullable=True),
    sa.Column("column", sa.String(64), nullable=True),
    sa.Column("reason", sa.String(200), nullable=False),
)
