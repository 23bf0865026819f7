"""Schema v7 (access): users with KDF password hashes, login throttle, token districts and expiry,
field inspections, tasks and notices."""

from central_server.db.migrations.ddl import serial_pk


def m0007_access(dialect: str) -> list[str]:
    """Raw SQL per dialect; frozen once released (a later change is a new migration)."""
    serial = serial_pk(dialect)
    blob = "BLOB" if dialect == "sqlite" else "BYTEA"
    return [
        # password_hash names its KDF and parameters ("scrypt$n=16384,r=8,p=1$salt$hash") so they can be raised.
        """CREATE TABLE users (
            username TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL,
            site_id TEXT REFERENCES sites (site_id),
            district TEXT,
            employee_id TEXT REFERENCES employees (employee_id),
            disabled BOOLEAN NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        # Every login attempt, so the throttle holds across workers and restarts.
        f"""CREATE TABLE login_attempts (
            id {serial},
            at TEXT NOT NULL,
            at_epoch DOUBLE PRECISION NOT NULL,
            username TEXT NOT NULL,
            client_ip TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'throttled')))""",
        "CREATE INDEX ix_login_attempts_user ON login_attempts (username, at_epoch)",
        "CREATE INDEX ix_login_attempts_ip ON login_attempts (client_ip, at_epoch)",
        # Beside api_tokens (migration 1 stays as it is): a district officer's district, a login token's expiry.
        """CREATE TABLE token_details (
            token_sha256 TEXT PRIMARY KEY REFERENCES api_tokens (token_sha256),
            district TEXT,
            expires_at TEXT,
            username TEXT)""",
        """CREATE TABLE inspection_settings (
            site_id TEXT PRIMARY KEY REFERENCES sites (site_id),
            keep_photos BOOLEAN NOT NULL)""",
        f"""CREATE TABLE inspections (
            inspection_id TEXT PRIMARY KEY,
            employee_id TEXT NOT NULL REFERENCES employees (employee_id),
            site_id TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            tour_id BIGINT,
            lat DOUBLE PRECISION NOT NULL,
            lon DOUBLE PRECISION NOT NULL,
            accuracy_m DOUBLE PRECISION NOT NULL,
            block TEXT NOT NULL,
            village TEXT NOT NULL,
            village_key TEXT NOT NULL,
            work_item TEXT NOT NULL,
            notes TEXT NOT NULL,
            device_time TEXT NOT NULL,
            event_time TEXT NOT NULL,
            received_at TEXT NOT NULL,
            photo_sha256 TEXT NOT NULL,
            photo_bytes INTEGER NOT NULL,
            photo {blob},
            flags TEXT NOT NULL,
            CONSTRAINT uq_inspections_idem UNIQUE (employee_id, idempotency_key))""",
        "CREATE INDEX ix_inspections_village ON inspections (employee_id, village_key, event_time)",
        "CREATE INDEX ix_inspections_site_time ON inspections (site_id, event_time)",
        f"""CREATE TABLE tasks (
            id {serial},
            employee_id TEXT NOT NULL REFERENCES employees (employee_id),
            site_id TEXT NOT NULL,
            title TEXT NOT NULL,
            details TEXT NOT NULL,
            due_day TEXT,
            status TEXT NOT NULL CHECK (status IN ('open', 'done')),
            assigned_by TEXT NOT NULL,
            done_note TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        "CREATE INDEX ix_tasks_employee ON tasks (employee_id, status)",
        "CREATE INDEX ix_tasks_site ON tasks (site_id)",
        f"""CREATE TABLE notices (
            id {serial},
            audience TEXT NOT NULL CHECK (audience IN ('site', 'district', 'all')),
            site_id TEXT REFERENCES sites (site_id),
            district TEXT,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            sent_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            CHECK ((audience = 'site') = (site_id IS NOT NULL)),
            CHECK ((audience = 'district') = (district IS NOT NULL)))""",
        "CREATE INDEX ix_notices_created ON notices (created_at)",
    ]
