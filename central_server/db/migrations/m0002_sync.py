"""Migration 2 (sync): the latest heartbeat per device, clock anchors per boot, corrected record times.

The signed record columns are never touched: a corrected time lives beside the record, keyed by its id.
"""


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
