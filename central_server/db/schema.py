"""The one schema: every central table as SQLAlchemy Core, on one `metadata`.

The numbered migrations in `central_server/db/migrations/` create these tables (raw SQL, frozen once shipped);
this module is what queries use. tests/central_server/db/test_migrate.py checks the two agree, table by table and
column by column, on SQLite and PostgreSQL. A new column is a new migration plus its line here.
"""

import sqlalchemy as sa

metadata = sa.MetaData()


# ---- Migration 1: sites, people, devices, signed records, rejections, API tokens, audit log ----

sites = sa.Table(
    "sites", metadata,
    sa.Column("site_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

people = sa.Table(
    "people", metadata,
    sa.Column("person_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.site_id"), nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

devices = sa.Table(
    "devices", metadata,
    sa.Column("device_id", sa.Text, primary_key=True),
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.site_id"), nullable=False),
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("registered_at", sa.Text, nullable=False),
)

records = sa.Table(
    "records", metadata,
    sa.Column("record_id", sa.Text, primary_key=True),
    sa.Column("device_id", sa.Text, sa.ForeignKey("devices.device_id"), nullable=False),
    sa.Column("site_id", sa.Text, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("person_id", sa.Text),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("wall_time", sa.Text, nullable=False),
    sa.Column("boot_id", sa.Text, nullable=False),
    sa.Column("mono_ns", sa.BigInteger, nullable=False),
    sa.Column("clock_synced", sa.Boolean, nullable=False),
    sa.Column("match_score", sa.Float),
    sa.Column("liveness_score", sa.Float),
    sa.Column("model_version", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
    sa.Column("sig", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", sa.Text, nullable=False),
    sa.Column("chain_ok", sa.Boolean),
    sa.Column("chain_note", sa.Text),
)

rejections = sa.Table(
    "rejections", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("received_at", sa.Text, nullable=False),
    sa.Column("device_id", sa.Text),
    sa.Column("record_id", sa.Text),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("payload_sha256", sa.Text, nullable=False),
    sa.Column("payload_excerpt", sa.Text, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("token_sha256", sa.Text, primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("site_id", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)


# ---- Migration 2 (sync): latest heartbeat per device, clock anchors per boot, corrected record times ----

# The newest heartbeat of each device (the whole message as JSON, plus what queries filter on).
device_heartbeats = sa.Table(
    "device_heartbeats", metadata,
    sa.Column("device_id", sa.Text, primary_key=True),
    sa.Column("received_at", sa.Text, nullable=False),
    sa.Column("received_unix_ms", sa.BigInteger, nullable=False),
    sa.Column("sent_at", sa.Text, nullable=False),
    sa.Column("boot_id", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)

# What the server itself observed about a boot: at the kiosk's monotonic `mono_ns` true time was `wall_unix_ms`.
clock_anchors = sa.Table(
    "clock_anchors", metadata,
    sa.Column("device_id", sa.Text, primary_key=True),
    sa.Column("boot_id", sa.Text, primary_key=True),
    sa.Column("mono_ns", sa.BigInteger, nullable=False),
    sa.Column("wall_unix_ms", sa.BigInteger, nullable=False),
    sa.Column("uncertainty_ms", sa.BigInteger, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)

# Records written with an unsynced clock, re-based on their boot's anchor; the signed wall_time stays as sent.
record_times = sa.Table(
    "record_times", metadata,
    sa.Column("record_id", sa.Text, primary_key=True),
    sa.Column("device_id", sa.Text, nullable=False),
    sa.Column("boot_id", sa.Text, nullable=False),
    sa.Column("mono_ns", sa.BigInteger, nullable=False),
    sa.Column("corrected_wall_time", sa.Text),
    sa.Column("time_corrected", sa.Boolean, nullable=False),
    sa.Column("corrected_at", sa.Text),
)


# ---- Migration 3 (domain): departments, geofences, shifts, employees, leave, tours, check-ins, days ----

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
    sa.Column("go_live_on", sa.Text),  # migration 10
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


# ---- Migration 4 (evidence): sealed spoof evidence crops, liveness policy changes ----

# One sealed crop per SPOOF (or UNKNOWN, if the site keeps those) record, with an admin's review of it.
evidence = sa.Table(
    "evidence", metadata,
    sa.Column("record_id", sa.Text, primary_key=True),
    sa.Column("device_id", sa.Text, sa.ForeignKey("devices.device_id"), nullable=False),
    sa.Column("site_id", sa.Text, nullable=False),
    sa.Column("taken_at", sa.Text, nullable=False),
    sa.Column("received_at", sa.Text, nullable=False),
    sa.Column("server_key_id", sa.Text, nullable=False),
    sa.Column("sealed", sa.Text, nullable=False),  # the evidence message as it came (sealed JPEG + signature)
    sa.Column("sealed_sha256", sa.Text, nullable=False),
    sa.Column("review_status", sa.Text, nullable=False),
    sa.Column("reviewed_by", sa.Text),
    sa.Column("reviewed_at", sa.Text),
    sa.Column("note", sa.Text),
)

# Every change of a kiosk's liveness setting as its heartbeats report it (the first report too, if off).
liveness_policy_events = sa.Table(
    "liveness_policy_events", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("device_id", sa.Text, sa.ForeignKey("devices.device_id"), nullable=False),
    sa.Column("site_id", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

REVIEW_STATUSES = ("pending", "confirmed_spoof", "false_alarm")


# ---- Migration 5 (downlink): signed versions per device and kind, device X25519 keys, kiosk status ----

# Every signed downlink, kept whole: the envelope is what was (or will be) published, byte for byte.
downlink_versions = sa.Table(
    "downlink_versions", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("device_id", sa.Text, sa.ForeignKey("devices.device_id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("issued_at", sa.Text, nullable=False),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("envelope", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("published_at", sa.Text),
    sa.UniqueConstraint("device_id", "kind", "version", name="uq_downlink_device_kind_version"),
)

# The X25519 public key galleries for a device are sealed to (sent at registration).
device_enc_keys = sa.Table(
    "device_enc_keys", metadata,
    sa.Column("device_id", sa.Text, sa.ForeignKey("devices.device_id"), primary_key=True),
    sa.Column("enc_public_key", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)

# What each kiosk last reported per kind: the version it applied, and the last one it refused and why.
downlink_status = sa.Table(
    "downlink_status", metadata,
    sa.Column("device_id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("applied_version", sa.BigInteger),
    sa.Column("applied_at", sa.Text),
    sa.Column("refused_version", sa.BigInteger),
    sa.Column("refused_reason", sa.Text),
    sa.Column("refused_detail", sa.Text),
    sa.Column("refused_at", sa.Text),
    sa.Column("refused_count", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)


# ---- Migration 6 (templates): encrypted central face templates, selfie scores ----

employee_templates = sa.Table(
    "employee_templates", metadata,
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), primary_key=True),
    sa.Column("template_no", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("model_version", sa.Text, nullable=False),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

checkin_selfies = sa.Table(
    "checkin_selfies", metadata,
    sa.Column("checkin_id", sa.Text, sa.ForeignKey("checkins.checkin_id"), primary_key=True),
    sa.Column("faces", sa.Integer, nullable=False),
    sa.Column("templates", sa.Integer, nullable=False),
    sa.Column("match_score", sa.Float),
    sa.Column("liveness_score", sa.Float),
    sa.Column("model_version", sa.Text, nullable=False),
)


# ---- Migration 7 (access): users, login throttle, token details, inspections, tasks, notices ----

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
    sa.Column("language", sa.Text),  # migration 10
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
    sa.Column("issued_by", sa.Text, index=True),  # migration 13: the login that issued a phone token
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


# ---- Migration 8 (key rotation): the signing keys a device held before its current one ----

device_keys = sa.Table(
    "device_keys", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("device_id", sa.Text, sa.ForeignKey("devices.device_id"), nullable=False),
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("replaced_by", sa.Text, nullable=False),
    sa.Column("requested_version", sa.BigInteger, nullable=False),
    sa.Column("retired_at", sa.Text, nullable=False),
    sa.UniqueConstraint("device_id", "public_key", name="uq_device_keys_device_key"),
)


# ---- Migration 10 (office web): closed months, their frozen signed files, adjustments after a close ----

month_closes = sa.Table(
    "month_closes", metadata,
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.site_id"), primary_key=True),
    sa.Column("month", sa.Text, primary_key=True),
    sa.Column("closed_at", sa.Text, nullable=False),
    sa.Column("closed_by", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

month_close_files = sa.Table(
    "month_close_files", metadata,
    sa.Column("site_id", sa.Text, primary_key=True),
    sa.Column("month", sa.Text, primary_key=True),
    sa.Column("format", sa.Text, primary_key=True),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(["site_id", "month"], ["month_closes.site_id", "month_closes.month"]),
)

attendance_adjustments = sa.Table(
    "attendance_adjustments", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
    sa.Column("site_id", sa.Text, nullable=False),
    sa.Column("day", sa.Text, nullable=False),
    sa.Column("closed_month", sa.Text, nullable=False),
    sa.Column("applied_month", sa.Text, nullable=False),
    sa.Column("old_status", sa.Text, nullable=False),
    sa.Column("new_status", sa.Text, nullable=False),
    sa.Column("payable_delta", sa.Float, nullable=False),
    sa.Column("cause", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("reviewed_by", sa.Text),
    sa.Column("reviewed_at", sa.Text),
    sa.Column("review_note", sa.Text),
    sa.Index("ix_adjustments_site_month", "site_id", "applied_month"),
    sa.Index("ux_adjustments_day", "employee_id", "day", "new_status", "created_at", unique=True),
)


# ---- Migration 11 (check-in review): a reviewer's decision on a flagged mobile check-in ----

CHECKIN_DECISIONS = ("accepted", "rejected")

checkin_reviews = sa.Table(
    "checkin_reviews", metadata,
    sa.Column("checkin_id", sa.Text, sa.ForeignKey("checkins.checkin_id"), primary_key=True),
    sa.Column("decision", sa.Text, nullable=False),  # CHECKIN_DECISIONS
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("reviewed_by", sa.Text, nullable=False),
    sa.Column("reviewed_at", sa.Text, nullable=False),
)


# ---- Migration 12 (roll-ups): stored days per site and day, by working-day status ----

# Kept by triggers on attendance_days (m0012_site_day_counts): never written by the application, read by the
# state and district roll-ups (central_server.reports.rollup_view) instead of counting every stored day.
attendance_site_days = sa.Table(
    "attendance_site_days", metadata,
    sa.Column("site_id", sa.Text, primary_key=True),
    sa.Column("day", sa.Text, primary_key=True),
    sa.Column("days", sa.Integer, nullable=False),  # every stored day, whatever its status
    *[sa.Column(status, sa.Integer, nullable=False)
      for status in ("present", "late", "half_day", "absent", "on_leave", "on_tour", "pending")],
    sa.Index("ix_attendance_site_days_day", "day"),
)
# The roll-up's count of employees per office, shift and employment span, from the index alone.
sa.Index("ix_employees_rollup", employees.c.site_id, employees.c.shift_id, employees.c.joined_on,
         employees.c.left_on, employees.c.active)
