"""Migration 1: sites, people, devices, signed records, rejections, API tokens and the audit log."""

from central_server.db.migrations.ddl import serial_pk


def m0001_initial(dialect: str) -> list[str]:
    """Frozen: a later change to the schema is a new migration, never an edit here."""
    serial = serial_pk(dialect)
    return [
        """CREATE TABLE sites (
            site_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('office', 'hostel', 'field')),
            created_at TEXT NOT NULL)""",
        """CREATE TABLE people (
            person_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            site_id TEXT NOT NULL REFERENCES sites (site_id),
            created_at TEXT NOT NULL)""",
        "CREATE INDEX ix_people_site ON people (site_id)",
        """CREATE TABLE devices (
            device_id TEXT PRIMARY KEY,
            site_id TEXT NOT NULL REFERENCES sites (site_id),
            public_key TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
            registered_at TEXT NOT NULL)""",
        """CREATE TABLE records (
            record_id TEXT PRIMARY KEY,
            device_id TEXT NOT NULL REFERENCES devices (device_id),
            site_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            person_id TEXT,
            event TEXT NOT NULL,
            wall_time TEXT NOT NULL,
            boot_id TEXT NOT NULL,
            mono_ns BIGINT NOT NULL,
            clock_synced BOOLEAN NOT NULL,
            match_score DOUBLE PRECISION,
            liveness_score DOUBLE PRECISION,
            model_version TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            sig TEXT NOT NULL,
            body TEXT NOT NULL,
            received_at TEXT NOT NULL,
            chain_ok BOOLEAN,
            chain_note TEXT,
            CONSTRAINT uq_records_device_seq UNIQUE (device_id, seq))""",
        "CREATE INDEX ix_records_wall_time ON records (wall_time)",
        "CREATE INDEX ix_records_site_time ON records (site_id, wall_time)",
        f"""CREATE TABLE rejections (
            id {serial},
            received_at TEXT NOT NULL,
            device_id TEXT,
            record_id TEXT,
            topic TEXT NOT NULL,
            reason TEXT NOT NULL,
            detail TEXT NOT NULL,
            payload_sha256 TEXT NOT NULL,
            payload_excerpt TEXT NOT NULL)""",
        "CREATE INDEX ix_rejections_reason ON rejections (reason)",
        """CREATE TABLE api_tokens (
            token_sha256 TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            label TEXT NOT NULL,
            site_id TEXT,
            created_at TEXT NOT NULL,
            revoked BOOLEAN NOT NULL)""",
        f"""CREATE TABLE audit_log (
            id {serial},
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL)""",
    ]
