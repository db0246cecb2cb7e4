"""privacy: per-customer data keys and an encrypted customers table.

Revision ID: privacy_0002
Revises: privacy_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "privacy_0002"
down_revision = "privacy_0001"
branch_labels = None
depends_on = "core_0001"

_PERSONAL = ("name", "email", "phone", "address", "date_of_birth", "card_number")


def upgrade() -> None:
    op.create_table(
        "privacy_subject_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("wrap_key_id", sa.String(64), nullable=True),
        sa.Column("wrapped", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("destroyed_at", sa.String(40), nullable=True),
        sa.UniqueConstraint(
            "tenant", "customer_id", "generation", name="uq_privacy_subject_keys_generation"
        ),
    )
    op.create_index("ix_privacy_subject_keys_wrap_key_id", "privacy_subject_keys", ["wrap_key_id"])
    op.create_table(
        "privacy_customers",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("key_generation", sa.Integer, nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False),
        *(sa.Column(name, sa.LargeBinary, nullable=True) for name in _PERSONAL),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "customer_id", name="pk_privacy_customers"),
    )


def downgrade() -> None:
    op.drop_table("privacy_customers")
    op.drop_index("ix_privacy_subject_keys_wrap_key_id", "privacy_subject_keys")
    op.drop_table("privacy_subject_keys")
