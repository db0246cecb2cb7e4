"""store: reviews submitted through the API.

Revision ID: store_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "store_0001"
down_revision = None
branch_labels = ("store",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "store_submitted_reviews",
        sa.Column("review_id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, server_default="default"),
        sa.Column("product_id", sa.String(64), nullable=False, index=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("verified_purchase", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("store_submitted_reviews")
