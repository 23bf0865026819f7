"""The spoof evidence review: the list of crops, one crop decrypted for a caller allowed to see its site (every
view audited), the verdict, and the liveness on/off changes kiosks reported."""

import time

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.db.schema import evidence, liveness_policy_events, records
from central_server.errors import Conflict, NotFound
from central_server.evidence.ingest import open_stored
from hajiri_common.timefmt import utc_iso
from hajiri_wire import WireError
from hajiri_wire.evidence import EvidenceKey


class EvidenceUnreadable(Conflict):
    """A stored crop that does not open with the server's key (409: it is stored, but not readable as is)."""


def list_evidence(conn: sa.Connection, site: str | None, review_status: str | None, limit: int,
                  record_id: str | None = None) -> list[dict]:
    """Newest first; `linked` says whether the record itself has arrived."""
    query = (sa.select(evidence.c.record_id, evidence.c.device_id, evidence.c.site_id, evidence.c.taken_at,
                       evidence.c.received_at, evidence.c.review_status, evidence.c.reviewed_by,
                       evidence.c.reviewed_at, evidence.c.note, records.c.record_id.label("rec"),
                       records.c.event, records.c.person_id, records.c.liveness_score, records.c.wall_time)
             .select_from(evidence.outerjoin(records, records.c.record_id == evidence.c.record_id))
             .order_by(evidence.c.taken_at.desc()).limit(limit))
    if site is not None:
        query = query.where(evidence.c.site_id == site)
    if review_status is not None:
        query = query.where(evidence.c.review_status == review_status)
    if record_id is not None:
        query = query.where(evidence.c.record_id == record_id)
    out = []
    for r in conn.execute(query):
        row = dict(r._mapping)
        row["linked"] = row.pop("rec") is not None
        row["image_url"] = f"/api/v1/evidence/{r.record_id}/image"
        out.append(row)
    return out


def liveness_events(conn: sa.Connection, site: str | None) -> list[dict]:
    """Every liveness on/off change reported by a kiosk, newest first."""
    query = sa.select(liveness_policy_events).order_by(liveness_policy_events.c.id.desc())
    if site is not None:
        query = query.where(liveness_policy_events.c.site_id == site)
    return [dict(r._mapping) for r in conn.execute(query)]


def evidence_row(conn: sa.Connection, record_id: str) -> sa.Row:
    row = conn.execute(sa.select(evidence).where(evidence.c.record_id == record_id)).first()
    if row is None:
        raise NotFound(f"no evidence for record {record_id!r}")
    return row


def view_image(conn: sa.Connection, row: sa.Row, key: EvidenceKey, *, actor: str) -> bytes:
    """The JPEG of one crop (the caller's right to its site checked first); the view is audited."""
    try:
        jpeg = open_stored(row, key)
    except WireError as e:
        raise EvidenceUnreadable(f"evidence for {row.record_id} cannot be opened: {e}") from e
    write_audit(conn, actor, "evidence.view", row.record_id, f"site {row.site_id}, device {row.device_id}")
    return jpeg


def review(conn: sa.Connection, row: sa.Row, status: str, note: str, *, actor: str) -> dict:
    """confirmed_spoof or false_alarm, with a note; a later review replaces it, each one is audited."""
    conn.execute(sa.update(evidence).where(evidence.c.record_id == row.record_id).values(
        review_status=status, reviewed_by=actor, reviewed_at=utc_iso(time.time()), note=note or None))
    write_audit(conn, actor, "evidence.review", row.record_id,
                f"{row.review_status} -> {status}; note: {note}"[:2000])
    return list_evidence(conn, row.site_id, None, 1, row.record_id)[0]
