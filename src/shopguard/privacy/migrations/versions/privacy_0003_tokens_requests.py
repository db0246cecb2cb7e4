"""privacy: token vault (audited re-identification), data-subject requests, retraining flags.

Revision ID: privacy_0003
Revises: privacy_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "privacy_0003"
down_revision = "privacy_0002"
branch_labels = None
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "privacy_token_vault",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("token", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "purpose", "token", name="pk_privacy_token_vault"),
    )
    op.create_index(
        "ix_privacy_token_vault_subject", "privacy_token_vault", ["tenant", "customer_id"]
    )
    op.create_table(
        "privacy_requests",
        sa.Column("request_id", sa.String(32), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("law", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("received_at", sa.String(40), nullable=False),
        sa.Column("due_at", sa.String(40), nullable=False),
        sa.Column("completed_at", sa.String(40), nullable=True),
        sa.Column("steps", sa.Text, nullable=False),
    )
    op.create_index("ix_privacy_requests_status", "privacy_requests", ["status", "due_at"])
    op.create_table(
        "privacy_retrain_flags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("flagged_at", sa.String(40), nullable=False),
        sa.Column("cleared_at", sa.String(40), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("privacy_retrain_flags")
    op.drop_index("ix_privacy_requests_status", "privacy_requests")
    op.drop_table("privacy_requests")
    op.drop_index("ix_privacy_token_vault_subject", "privacy_token_vault")
    op.drop_table("privacy_token_vault")
