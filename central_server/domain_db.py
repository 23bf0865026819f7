"""The domain tables of migration 3 as SQLAlchemy Core objects, on the same metadata as central_server.db."""

import sqlalchemy as sa

from central_server.db import metadata

departments = sa.Table(
    "departments", metadata,
    sa.Column("department_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

site_details = sa.Table(
    "site_details", metadata,
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.site_id"), primary_key=True),
    sa.Column("department_id", sa.Text, sa.ForeignKey("departments.department_id")),
    sa.Column("district", sa.Text),
    sa.Column("lat", sa.Float),
    sa.Column("lon", sa.Float),
    sa.Column("curfew", sa.Text),
)

geofences = sa.Table(
    "geofences", metadata,
    sa.Column("geofence_id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.site_id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("polygon", sa.Text, nullable=False),
    sa.Column("centroid_lat", sa.Float, nullable=False),
    sa.Column("centroid_lon", sa.Float, nullable=False),
    sa.Column("area_m2", sa.Float, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

shifts = sa.Table(
    "shifts", metadata,
    sa.Column("shift_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("start_time", sa.Text, nullable=False),
    sa.Column("end_time", sa.Text, nullable=False),
    sa.Column("grace_late_min", sa.Integer, nullable=False),
    sa.Column("grace_early_min", sa.Integer, nullable=False),
    sa.Column("half_day_hours", sa.Float, nullable=False),
    sa.Column("absent_hours", sa.Float, nullable=False),
    sa.Column("overnight", sa.Boolean, nullable=False),
    sa.Column("weekly_off", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

employees = sa.Table(
    "employees", metadata,
    sa.Column("employee_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.site_id"), nullable=False),
    sa.Column("department_id", sa.Text, sa.ForeignKey("departments.department_id")),
    sa.Column("shift_id", sa.Text, sa.ForeignKey("shifts.shift_id")),
    sa.Column("mobile", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    # Migration 9: the employment period (local days; NULL = open-ended). Days outside it are not_employed.
    sa.Column("joined_on", sa.Text),
    sa.Column("left_on", sa.Text),
)

employee_geofences = sa.Table(
    "employee_geofences", metadata,
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), primary_key=True),
    sa.Column("geofence_id", sa.BigInteger, sa.ForeignKey("geofences.geofence_id"), primary_key=True),
)

token_employees = sa.Table(
    "token_employees", metadata,
    sa.Column("token_sha256", sa.Text, sa.ForeignKey("api_tokens.token_sha256"), primary_key=True),
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
)

holidays = sa.Table(
    "holidays", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("day", sa.Text, nullable=False),
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.site_id")),
    sa.Column("name", sa.Text, nullable=False),
)

leaves = sa.Table(
    "leaves", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
    sa.Column("from_day", sa.Text, nullable=False),
    sa.Column("to_day", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("approved", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

tours = sa.Table(
    "tours", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
    sa.Column("from_day", sa.Text, nullable=False),
    sa.Column("to_day", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("approved", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

checkins = sa.Table(
    "checkins", metadata,
    sa.Column("checkin_id", sa.Text, primary_key=True),
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
    sa.Column("idempotency_key", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("accuracy_m", sa.Float, nullable=False),
    sa.Column("device_time", sa.Text, nullable=False),
    sa.Column("event_time", sa.Text, nullable=False),
    sa.Column("received_at", sa.Text, nullable=False),
    sa.Column("geofence_id", sa.BigInteger),
    sa.Column("distance_m", sa.Float),
    sa.Column("flags", sa.Text, nullable=False),
    sa.Column("selfie_sha256", sa.Text, nullable=False),
    sa.Column("selfie_status", sa.Text, nullable=False),
    sa.Column("mock_location", sa.Boolean),
    sa.Column("app_version", sa.Text),
)

attendance_days = sa.Table(
    "attendance_days", metadata,
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), primary_key=True),
    sa.Column("day", sa.Text, primary_key=True),
    sa.Column("site_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("first_in", sa.Text),
    sa.Column("last_out", sa.Text),
    sa.Column("worked_minutes", sa.Integer),
    sa.Column("late_minutes", sa.Integer, nullable=False),
    sa.Column("early_minutes", sa.Integer, nullable=False),
    sa.Column("flags", sa.Text, nullable=False),
    sa.Column("events", sa.Integer, nullable=False),
    sa.Column("computed_at", sa.Text, nullable=False),
)

explanations = sa.Table(
    "explanations", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
    sa.Column("day", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("ref", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("reply", sa.Text),
    sa.Column("decided_by", sa.Text),
    sa.Column("decision_note", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)
