"""The tables of migration 7 (users, login throttle, token details, inspections, tasks, notices) as Core objects."""

import sqlalchemy as sa

from central_server.db import metadata

users = sa.Table(
    "users", metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.site_id")),
    sa.Column("district", sa.Text),
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id")),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)

login_attempts = sa.Table(
    "login_attempts", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("at_epoch", sa.Float, nullable=False),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("client_ip", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
)

token_details = sa.Table(
    "token_details", metadata,
    sa.Column("token_sha256", sa.Text, sa.ForeignKey("api_tokens.token_sha256"), primary_key=True),
    sa.Column("district", sa.Text),
    sa.Column("expires_at", sa.Text),
    sa.Column("username", sa.Text),
)

inspection_settings = sa.Table(
    "inspection_settings", metadata,
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.site_id"), primary_key=True),
    sa.Column("keep_photos", sa.Boolean, nullable=False),
)

inspections = sa.Table(
    "inspections", metadata,
    sa.Column("inspection_id", sa.Text, primary_key=True),
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
    sa.Column("site_id", sa.Text, nullable=False),
    sa.Column("idempotency_key", sa.Text, nullable=False),
    sa.Column("tour_id", sa.BigInteger),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("accuracy_m", sa.Float, nullable=False),
    sa.Column("block", sa.Text, nullable=False),
    sa.Column("village", sa.Text, nullable=False),
    sa.Column("village_key", sa.Text, nullable=False),
    sa.Column("work_item", sa.Text, nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("device_time", sa.Text, nullable=False),
    sa.Column("event_time", sa.Text, nullable=False),
    sa.Column("received_at", sa.Text, nullable=False),
    sa.Column("photo_sha256", sa.Text, nullable=False),
    sa.Column("photo_bytes", sa.Integer, nullable=False),
    sa.Column("photo", sa.LargeBinary),
    sa.Column("flags", sa.Text, nullable=False),
)

tasks = sa.Table(
    "tasks", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
    sa.Column("site_id", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("due_day", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("assigned_by", sa.Text, nullable=False),
    sa.Column("done_note", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)

notices = sa.Table(
    "notices", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("audience", sa.Text, nullable=False),
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.site_id")),
    sa.Column("district", sa.Text),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("sent_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)
