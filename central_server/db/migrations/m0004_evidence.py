"""Schema v4 (evidence): sealed spoof evidence crops with their review state, and liveness policy changes.

`evidence.record_id` has no foreign key to `records`: a crop may arrive before its record (they travel on
separate topics) and is linked when the record comes, by the join in the review list. The crop stays exactly
as the kiosk sealed it to the server's X25519 evidence key: at rest it opens only with that key.
"""

from central_server.db.migrations.ddl import serial_pk


def m0004_evidence(dialect: str) -> list[str]:
    """Raw SQL per dialect; frozen once released (a later change is a new migration)."""
    serial = serial_pk(dialect)
    return [
        """CREATE TABLE evidence (
            record_id TEXT PRIMARY KEY,
            device_id TEXT NOT NULL REFERENCES devices (device_id),
            site_id TEXT NOT NULL,
            taken_at TEXT NOT NULL,
            received_at TEXT NOT NULL,
            server_key_id TEXT NOT NULL,
            sealed TEXT NOT NULL,
            sealed_sha256 TEXT NOT NULL,
            review_status TEXT NOT NULL CHECK (review_status IN ('pending', 'confirmed_spoof', 'false_alarm')),
            reviewed_by TEXT,
            reviewed_at TEXT,
            note TEXT)""",
        "CREATE INDEX ix_evidence_site_status ON evidence (site_id, review_status, taken_at)",
        f"""CREATE TABLE liveness_policy_events (
            id {serial},
            device_id TEXT NOT NULL REFERENCES devices (device_id),
            site_id TEXT NOT NULL,
            enabled BOOLEAN NOT NULL,
            at TEXT NOT NULL,
            changed_by TEXT NOT NULL,
            reason TEXT NOT NULL)""",
        "CREATE INDEX ix_liveness_policy_device ON liveness_policy_events (device_id, id)",
    ]
