"""assistant: returns started through the shopping assistant.

Revision ID: assistant_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "assistant_0001"
down_revision = None
branch_labels = ("assistant",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "assistant_returns",
        sa.Column("return_id", sa.String(40), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("refund", sa.Float, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_assistant_returns_order", "assistant_returns", ["tenant", "order_id"])


def downgrade() -> None:
    op.drop_index("ix_assistant_returns_order", "assistant_returns")
    op.drop_table("assistant_returns")
