"""Schema v10 (office web app): a user's language, a site's go-live day, closed months with their frozen and
signed report files, and the adjustments that late records make to a closed month.

Frozen once released (a later change is a new migration)."""

from central_server.db.migrations.ddl import serial_pk


def m0010_office_web(dialect: str) -> list[str]:
    serial = serial_pk(dialect)
    blob = "BLOB" if dialect == "sqlite" else "BYTEA"
    return [
        # 'hi' or 'en'; NULL means the server's default language.
        "ALTER TABLE users ADD COLUMN language TEXT",
        # Local calendar day (YYYY-MM-DD) the site started on Hajiri; days before it are neither absent nor
        # explained. NULL: live since always.
        "ALTER TABLE site_details ADD COLUMN go_live_on TEXT",
        # One row per (site, month) once the DDO closes it; the month's report is frozen in month_close_files.
        """CREATE TABLE month_closes (
            site_id TEXT NOT NULL REFERENCES sites (site_id),
            month TEXT NOT NULL,
            closed_at TEXT NOT NULL,
            closed_by TEXT NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (site_id, month))""",
        # The exact bytes served for a closed month, their sha256 and the server's Ed25519 signature over them.
        f"""CREATE TABLE month_close_files (
            site_id TEXT NOT NULL,
            month TEXT NOT NULL,
            format TEXT NOT NULL,
            content {blob} NOT NULL,
            sha256 TEXT NOT NULL,
            signature TEXT NOT NULL,
            key_id TEXT NOT NULL,
            PRIMARY KEY (site_id, month, format),
            FOREIGN KEY (site_id, month) REFERENCES month_closes (site_id, month))""",
        # A day of a closed month whose status changed after the close (a late record or check-in): shown on the
        # review page and carried into the next open month's report, never written into the paid month.
        f"""CREATE TABLE attendance_adjustments (
            id {serial},
            employee_id TEXT NOT NULL REFERENCES employees (employee_id),
            site_id TEXT NOT NULL,
            day TEXT NOT NULL,
            closed_month TEXT NOT NULL,
            applied_month TEXT NOT NULL,
            old_status TEXT NOT NULL,
            new_status TEXT NOT NULL,
            payable_delta DOUBLE PRECISION NOT NULL,
            cause TEXT NOT NULL,
            created_at TEXT NOT NULL,
            reviewed_by TEXT,
            reviewed_at TEXT,
            review_note TEXT)""",
        "CREATE INDEX ix_adjustments_site_month ON attendance_adjustments (site_id, applied_month)",
        "CREATE UNIQUE INDEX ux_adjustments_day ON attendance_adjustments (employee_id, day, new_status, created_at)",
    ]
