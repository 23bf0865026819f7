"""Schema v2 for sync: latest heartbeat per device, clock anchors per boot, corrected record times.

The SQL is the migration (frozen once released); the SQLAlchemy tables below mirror it for queries. The
signed record columns are never touched: a corrected time lives beside the record, keyed by its id.
"""

import sqlalchemy as sa

from central_server.db import metadata

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


def m0002_sync(dialect: str) -> list[str]:
    """Frozen: a later change is a new migration, never an edit here."""
    return [
        """CREATE TABLE device_heartbeats (
            device_id TEXT PRIMARY KEY,
            received_at TEXT NOT NULL,
            received_unix_ms BIGINT NOT NULL,
            sent_at TEXT NOT NULL,
            boot_id TEXT NOT NULL,
            body TEXT NOT NULL)""",
        """CREATE TABLE clock_anchors (
            device_id TEXT NOT NULL,
            boot_id TEXT NOT NULL,
            mono_ns BIGINT NOT NULL,
            wall_unix_ms BIGINT NOT NULL,
            uncertainty_ms BIGINT NOT NULL,
            source TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (device_id, boot_id))""",
        """CREATE TABLE record_times (
            record_id TEXT PRIMARY KEY,
            device_id TEXT NOT NULL,
            boot_id TEXT NOT NULL,
            mono_ns BIGINT NOT NULL,
            corrected_wall_time TEXT,
            time_corrected BOOLEAN NOT NULL,
            corrected_at TEXT)""",
        "CREATE INDEX ix_record_times_boot ON record_times (device_id, boot_id)",
    ]
