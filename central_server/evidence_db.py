"""The evidence tables of migration 4 as SQLAlchemy Core objects, on the same metadata as central_server.db."""

import sqlalchemy as sa

from central_server.db import metadata

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
