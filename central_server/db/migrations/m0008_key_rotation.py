"""Schema v8 (key rotation): every signing key a device held before its current one."""

from central_server.db.migrations.ddl import serial_pk


def m0008_key_rotation(dialect: str) -> list[str]:
    """Raw SQL per dialect; frozen once released (a later change is a new migration)."""
    serial = serial_pk(dialect)
    return [
        # A retired key still verifies the device's records signed before the swap (its outbox backlog).
        f"""CREATE TABLE device_keys (
            id {serial},
            device_id TEXT NOT NULL REFERENCES devices (device_id),
            public_key TEXT NOT NULL,
            replaced_by TEXT NOT NULL,
            requested_version BIGINT NOT NULL,
            retired_at TEXT NOT NULL,
            CONSTRAINT uq_device_keys_device_key UNIQUE (device_id, public_key))""",
    ]
