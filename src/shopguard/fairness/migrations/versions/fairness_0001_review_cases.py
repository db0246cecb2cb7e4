"""fairness: human-review cases of automated decisions.

Revision ID: fairness_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "fairness_0001"
down_revision = None
branch_labels = ("fairness",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "fairness_review_cases",
        sa.Column("case_id", sa.String(40), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("decision_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.String(40), nullable=False),
        sa.Column("deadline_at", sa.String(40), nullable=False),
        sa.Column("statement", sa.LargeBinary, nullable=True),
    )
    op.create_index(
        "ux_fairness_review_decision",
        "fairness_review_cases",
        ["tenant", "decision_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_fairness_review_decision", "fairness_review_cases")
    op.drop_table("fairness_review_cases")
