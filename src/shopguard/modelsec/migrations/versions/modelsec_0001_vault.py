"""modelsec: the model vault (encrypted, signed artifact versions).

Revision ID: modelsec_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "modelsec_0001"
down_revision = None
branch_labels = ("modelsec",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "modelsec_versions",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("manifest", sa.Text, nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("sign_key_id", sa.String(64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_modelsec_versions"),
    )


def downgrade() -> None:
    op.drop_table("modelsec_versions")
