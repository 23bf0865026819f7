"""The tables of migration 6 (central templates, selfie scores) as SQLAlchemy Core objects on the shared metadata."""

import sqlalchemy as sa

from central_server.db import metadata
from central_server.domain_db import checkins, employees  # noqa: F401  (the foreign keys' tables, same metadata)

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
