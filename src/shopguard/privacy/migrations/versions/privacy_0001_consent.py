"""privacy: the consent ledger (append-only events).

Revision ID: privacy_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "privacy_0001"
down_revision = None
branch_labels = ("privacy",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "privacy_consent_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("policy_version", sa.String(32), nullable=False),
    )
    op.create_index(
        "ix_privacy_consent_customer",
        "privacy_consent_events",
        ["tenant", "customer_id", "purpose", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_privacy_consent_customer", "privacy_consent_events")
    op.drop_table("privacy_consent_events")
