"""The audit log: who changed what, one row per change, written in the change's own transaction."""

import time

import sqlalchemy as sa

from central_server.db.schema import audit_log
from hajiri_common.timefmt import utc_iso


def write_audit(conn: sa.Connection, actor: str, action: str, target: str, detail: str = "") -> None:
    conn.execute(sa.insert(audit_log).values(at=utc_iso(time.time()), actor=actor, action=action,
                                             target=target, detail=detail))
