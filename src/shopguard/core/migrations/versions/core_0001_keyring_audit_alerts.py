"""core: key ring, audit log (entries + head anchor) and alerts.

Revision ID: core_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "keyring_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("purpose", sa.String(64), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("kek_id", sa.String(32), nullable=False),
        sa.Column("wrapped", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("purpose", "version", name="uq_keyring_purpose_version"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(32), nullable=False, unique=True),
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
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.Column("mac_key_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("topic", sa.String(128), nullable=False, index=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("summary", sa.String(512), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("audit_head")
    op.drop_table("audit_log")
    op.drop_table("keyring_keys")
