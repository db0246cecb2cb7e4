"""governance (operations): staff, sessions, reviews, training, drills, risks, incidents.

Revision ID: ops_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "ops_0001"
down_revision = None
branch_labels = ("ops",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "ops_staff",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("manager", sa.String(64)),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("password_changed_at", sa.String(40), nullable=False),
        sa.Column("mfa_secret", sa.LargeBinary),
        sa.Column("mfa_enabled", sa.Boolean, nullable=False),
        sa.Column("mfa_last_step", sa.BigInteger),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.String(40)),
        sa.Column("last_login_at", sa.String(40)),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("disabled_at", sa.String(40)),
    )
    op.create_table(
        "ops_recovery_codes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("used_at", sa.String(40)),
    )
    op.create_table(
        "ops_sessions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
        sa.Column("last_seen_at", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.String(40)),
    )
    op.create_table(
        "ops_break_glass",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(512), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
        sa.Column("ended_at", sa.String(40)),
    )
    op.create_table(
        "ops_review_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("flags", sa.String(256), nullable=False),
        sa.Column("note", sa.String(512), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("next_due", sa.String(40), nullable=False),
    )
    op.create_table(
        "ops_training_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("course", sa.String(64), nullable=False),
        sa.Column("completed_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "ops_drills",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("scenario", sa.String(64), nullable=False),
        sa.Column("run_at", sa.String(40), nullable=False),
        sa.Column("detect_s", sa.Float),
        sa.Column("respond_s", sa.Float),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("notes", sa.String(None), nullable=False),
    )
    op.create_table(
        "ops_risks",
        sa.Column("risk_id", sa.String(32), primary_key=True),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("threat", sa.String(32), nullable=False),
        sa.Column("likelihood", sa.Integer, nullable=False),
        sa.Column("impact", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("controls", sa.String(None), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "ops_incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_key", sa.String(256), nullable=False),
        sa.Column("threat", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("opened_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.Column("closed_at", sa.String(40)),
        sa.Column("alert_count", sa.Integer, nullable=False),
        sa.Column("fingerprints", sa.String(None), nullable=False),
        sa.Column("personal_data", sa.Boolean, nullable=False),
        sa.Column("notify_deadline", sa.String(40)),
        sa.Column("notified_at", sa.String(40)),
    )
    op.create_table(
        "ops_incident_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("summary", sa.String(512), nullable=False),
        sa.Column("details", sa.String(None), nullable=False),
    )
    op.create_table(
        "ops_incident_steps",
        sa.Column("incident_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("step_id", sa.String(64), primary_key=True),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("action", sa.String(32)),
        sa.Column("done_by", sa.String(64)),
        sa.Column("done_at", sa.String(40)),
    )
    op.create_table(
        "ops_containment",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("incident_id", sa.Integer),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("lifted_at", sa.String(40)),
    )
    op.create_index("ix_ops_recovery_codes_username", "ops_recovery_codes", ["username"])
    op.create_index("ix_ops_sessions_username", "ops_sessions", ["username"])
    op.create_index("ix_ops_review_decisions_subject", "ops_review_decisions", ["subject"])
    op.create_index("ix_ops_training_records_username", "ops_training_records", ["username"])
    op.create_index("ix_ops_incidents_group_key", "ops_incidents", ["group_key"])
    op.create_index("ix_ops_incident_events_incident_id", "ops_incident_events", ["incident_id"])
    op.create_table(
        "ops_owners",
        sa.Column("subject", sa.String(128), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ops_owners")
    op.drop_index("ix_ops_incident_events_incident_id", "ops_incident_events")
    op.drop_index("ix_ops_incidents_group_key", "ops_incidents")
    op.drop_index("ix_ops_training_records_username", "ops_training_records")
    op.drop_index("ix_ops_review_decisions_subject", "ops_review_decisions")
    op.drop_index("ix_ops_sessions_username", "ops_sessions")
    op.drop_index("ix_ops_recovery_codes_username", "ops_recovery_codes")
    op.drop_table("ops_containment")
    op.drop_table("ops_incident_steps")
    op.drop_table("ops_incident_events")
    op.drop_table("ops_incidents")
    op.drop_table("ops_risks")
    op.drop_table("ops_drills")
    op.drop_table("ops_training_records")
    op.drop_table("ops_review_decisions")
    op.drop_table("ops_break_glass")
    op.drop_table("ops_sessions")
    op.drop_table("ops_recovery_codes")
    op.drop_table("ops_staff")
