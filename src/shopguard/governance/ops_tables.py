"""Tables of the operations side of governance, mirroring migrations ``ops_0001``.

Other packages never touch these directly; they call the public functions of
:mod:`staff`, :mod:`access_review`, :mod:`training`, :mod:`risks` and :mod:`incidents`.
"""

from __future__ import annotations

import sqlalchemy as sa

from shopguard.core.db import metadata

__all__ = [
    "break_glass",
    "containment",
    "drills",
    "incident_events",
    "incident_steps",
    "incidents",
    "owners",
    "recovery_codes",
    "review_decisions",
    "risks",
    "sessions",
    "staff",
    "training_records",
]

staff = sa.Table(
    "ops_staff",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.String(128), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("manager", sa.String(64)),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("password_changed_at", sa.String(40), nullable=False),
    sa.Column("mfa_secret", sa.LargeBinary),
    sa.Column("mfa_enabled", sa.Boolean, nullable=False, default=False),
    sa.Column("mfa_last_step", sa.BigInteger),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.String(40)),
    sa.Column("last_login_at", sa.String(40)),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("disabled_at", sa.String(40)),
)

recovery_codes = sa.Table(
    "ops_recovery_codes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("used_at", sa.String(40)),
)

sessions = sa.Table(
    "ops_sessions",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("expires_at", sa.String(40), nullable=False),
    sa.Column("last_seen_at", sa.String(40), nullable=False),
    sa.Column("revoked_at", sa.String(40)),
)

break_glass = sa.Table(
    "ops_break_glass",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(512), nullable=False),
    sa.Column("started_at", sa.String(40), nullable=False),
    sa.Column("expires_at", sa.String(40), nullable=False),
    sa.Column("ended_at", sa.String(40)),
)

review_decisions = sa.Table(
    "ops_review_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subject", sa.String(128), nullable=False, index=True),
    sa.Column("reviewer", sa.String(64), nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("flags", sa.String(256), nullable=False),
    sa.Column("note", sa.String(512), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("next_due", sa.String(40), nullable=False),
)

training_records = sa.Table(
    "ops_training_records",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("course", sa.String(64), nullable=False),
    sa.Column("completed_at", sa.String(40), nullable=False),
    sa.Column("expires_at", sa.String(40), nullable=False),
)

drills = sa.Table(
    "ops_drills",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("scenario", sa.String(64), nullable=False),
    sa.Column("run_at", sa.String(40), nullable=False),
    sa.Column("detect_s", sa.Float),
    sa.Column("respond_s", sa.Float),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
)

risks = sa.Table(
    "ops_risks",
    metadata,
    sa.Column("risk_id", sa.String(32), primary_key=True),
    sa.Column("title", sa.String(256), nullable=False),
    sa.Column("threat", sa.String(32), nullable=False),
    sa.Column("likelihood", sa.Integer, nullable=False),
    sa.Column("impact", sa.Integer, nullable=False),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("controls", sa.Text, nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

incidents = sa.Table(
    "ops_incidents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("group_key", sa.String(256), nullable=False, index=True),
    sa.Column("threat", sa.String(32), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("title", sa.String(512), nullable=False),
    sa.Column("opened_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Column("closed_at", sa.String(40)),
    sa.Column("alert_count", sa.Integer, nullable=False),
    sa.Column("fingerprints", sa.Text, nullable=False),
    sa.Column("personal_data", sa.Boolean, nullable=False),
    sa.Column("notify_deadline", sa.String(40)),
    sa.Column("notified_at", sa.String(40)),
)

incident_events = sa.Table(
    "ops_incident_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.Integer, nullable=False, index=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("summary", sa.String(512), nullable=False),
    sa.Column("details", sa.Text, nullable=False),
)

incident_steps = sa.Table(
    "ops_incident_steps",
    metadata,
    sa.Column("incident_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("step_id", sa.String(64), primary_key=True),
    sa.Column("phase", sa.String(16), nullable=False),
    sa.Column("title", sa.String(256), nullable=False),
    sa.Column("action", sa.String(32)),
    sa.Column("done_by", sa.String(64)),
    sa.Column("done_at", sa.String(40)),
)

containment = sa.Table(
    "ops_containment",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("value", sa.String(128), nullable=False),
    sa.Column("incident_id", sa.Integer),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("lifted_at", sa.String(40)),
)

owners = sa.Table(
    "ops_owners",
    metadata,
    sa.Column("subject", sa.String(128), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("set_by", sa.String(64), nullable=False),
    sa.Column("set_at", sa.String(40), nullable=False),
)
