"""governance (vendors): the vendor risk register.

Revision ID: governance_vendors_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "governance_vendors_0001"
down_revision = None
branch_labels = ("governance_vendors",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "governance_vendors",
        sa.Column("vendor_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("supplies", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("personal_data", sa.Text, nullable=False),
        sa.Column("depends", sa.Text, nullable=False),
        sa.Column("endpoints", sa.Text, nullable=False),
        sa.Column("clauses", sa.Text, nullable=False),
        sa.Column("breach_notification_hours", sa.Integer, nullable=True),
        sa.Column("certifications", sa.Text, nullable=False),
        sa.Column("reassess_days", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "governance_vendor_assessments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("assessor", sa.String(64), nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("missing", sa.Text, nullable=False),
        sa.Column("critical_failed", sa.Text, nullable=False),
    )
    op.create_table(
        "governance_vendor_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
    )
    op.create_table(
        "governance_vendor_ratings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("risk", sa.Float, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
    )
    for table in (
        "governance_vendor_assessments",
        "governance_vendor_events",
        "governance_vendor_ratings",
    ):
        op.create_index(f"ix_{table}_vendor_id", table, ["vendor_id"])


def downgrade() -> None:
    for table in (
        "governance_vendor_ratings",
        "governance_vendor_events",
        "governance_vendor_assessments",
    ):
        op.drop_index(f"ix_{table}_vendor_id", table)
        op.drop_table(table)
    op.drop_table("governance_vendors")
