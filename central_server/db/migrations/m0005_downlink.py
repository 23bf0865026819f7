"""Schema v5 (downlink): signed gallery/config/command versions per device, device X25519 keys, kiosk status.

Frozen once released; central_server/downlink_db.py mirrors these tables for queries.
"""

from central_server.db.migrations.ddl import serial_pk


def m0005_downlink(dialect: str) -> list[str]:
    """Raw SQL per dialect; a later change is a new migration, never an edit here."""
    return [
        f"""CREATE TABLE downlink_versions (
            id {serial_pk(dialect)},
            device_id TEXT NOT NULL REFERENCES devices (device_id),
            kind TEXT NOT NULL CHECK (kind IN ('gallery', 'config', 'command')),
            version BIGINT NOT NULL CHECK (version >= 1),
            issued_at TEXT NOT NULL,
            key_id TEXT NOT NULL,
            envelope TEXT NOT NULL,
            summary TEXT NOT NULL,
            created_by TEXT NOT NULL,
            published_at TEXT,
            CONSTRAINT uq_downlink_device_kind_version UNIQUE (device_id, kind, version))""",
        """CREATE TABLE device_enc_keys (
            device_id TEXT PRIMARY KEY REFERENCES devices (device_id),
            enc_public_key TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        # No foreign key: a report may come from a device the server has since forgotten; it is still news.
        """CREATE TABLE downlink_status (
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            applied_version BIGINT,
            applied_at TEXT,
            refused_version BIGINT,
            refused_reason TEXT,
            refused_detail TEXT,
            refused_at TEXT,
            refused_count BIGINT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (device_id, kind))""",
    ]
