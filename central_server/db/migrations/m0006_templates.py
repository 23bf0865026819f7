"""Migration 6: encrypted central face templates per employee, and the scores of each check-in's selfie."""


def m0006_templates(dialect: str) -> list[str]:
    """Raw SQL per dialect; frozen once released (a later change is a new migration)."""
    blob = "BLOB" if dialect == "sqlite" else "BYTEA"
    return [
        # ciphertext = 12-byte nonce + AES-256-GCM of the float32 (little-endian) embedding; the associated
        # data binds it to (employee_id, template_no, model_version), so a row copied elsewhere fails to open.
        f"""CREATE TABLE employee_templates (
            employee_id TEXT NOT NULL REFERENCES employees (employee_id),
            template_no INTEGER NOT NULL,
            model_version TEXT NOT NULL,
            ciphertext {blob} NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (employee_id, template_no))""",
        # Only numbers about a selfie are kept, never the image (privacy): faces found, the best 1:1 score
        # against the employee's templates (NULL when nothing was compared) and the passive liveness score.
        """CREATE TABLE checkin_selfies (
            checkin_id TEXT PRIMARY KEY REFERENCES checkins (checkin_id),
            faces INTEGER NOT NULL,
            templates INTEGER NOT NULL,
            match_score DOUBLE PRECISION,
            liveness_score DOUBLE PRECISION,
            model_version TEXT NOT NULL)""",
    ]
