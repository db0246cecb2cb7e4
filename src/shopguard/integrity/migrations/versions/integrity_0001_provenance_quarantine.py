"""integrity: provenance of ingested records, ingestion batches, per-record rejections.

Revision ID: integrity_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "integrity_0001"
down_revision = None
branch_labels = ("integrity",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "integrity_records",
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
        sa.UniqueConstraint(
            "tenant", "kind", "source", "record_key", name="uq_integrity_records_key"
        ),
    )
    op.create_index(
        "ix_integrity_records_hash", "integrity_records", ["tenant", "kind", "content_hash"]
    )
    op.create_index(
        "ix_integrity_records_subject", "integrity_records", ["tenant", "kind", "subject"]
    )
    op.create_index("ix_integrity_records_status", "integrity_records", ["tenant", "status"])
    op.create_table(
        "integrity_batches",
        sa.Column("batch_id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40), nullable=True),
        sa.Column("rows_done", sa.Integer, nullable=False),
    )
    op.create_table(
        "integrity_rejections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("batch_id", sa.String(64), nullable=False, index=True),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("record_key", sa.String(128), nullable=True),
        sa.Column("column", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.UniqueConstraint("batch_id", "row", "column", name="uq_integrity_rejections_row"),
    )


def downgrade() -> None:
    op.drop_table("integrity_rejections")
    op.drop_table("integrity_batches")
    op.drop_index("ix_integrity_records_status", "integrity_records")
    op.drop_index("ix_integrity_records_subject", "integrity_records")
    op.drop_index("ix_integrity_records_hash", "integrity_records")
    op.drop_table("integrity_records")
