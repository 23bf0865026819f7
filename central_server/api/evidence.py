"""/api/v1/evidence: the admin review list of spoof evidence crops, the image (audited), the review verdict."""

import time
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status

from central_server.access.audit import write_audit
from central_server.access.tokens import Principal, Role
from central_server.api.deps import Conn, check_site_scope, require_roles
from central_server.db.schema import evidence, liveness_policy_events, records
from central_server.evidence.ingest import open_stored, server_evidence_key
from central_server.evidence.schemas import (
    EvidenceKeyPublic,
    EvidencePublic,
    EvidenceReview,
    LivenessEventPublic,
)
from hajiri_common.timefmt import utc_iso
from hajiri_wire import WireError
from hajiri_wire.evidence import EvidenceKey

router = APIRouter(prefix="/api/v1/evidence", tags=["evidence"])

# Face images of suspected attacks: the state admin, IT staff, and the head of that office only.
Reviewer = Annotated[Principal, Depends(require_roles(Role.STATE_ADMIN, Role.IT_STAFF, Role.OFFICE_HEAD))]
Staff = Annotated[Principal, Depends(require_roles(Role.STATE_ADMIN, Role.IT_STAFF))]
Status = Literal["pending", "confirmed_spoof", "false_alarm"]


def _row_for(conn: sa.Connection, who: Principal, record_id: str) -> sa.Row:
    row = conn.execute(sa.select(evidence).where(evidence.c.record_id == record_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no evidence for record {record_id!r}")
    check_site_scope(who, row.site_id)
    return row


@router.get("", response_model=list[EvidencePublic])
def get_evidence(conn: Conn, who: Reviewer, site_id: str | None = None, review_status: Annotated[
        Status | None, Query(alias="status")] = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict]:
    """Newest first. Site-scoped tokens see their site only; `linked` says whether the record has arrived."""
    return _listing(conn, check_site_scope(who, site_id), review_status, limit)


def _listing(conn: sa.Connection, site: str | None, review_status: str | None, limit: int,
             record_id: str | None = None) -> list[dict]:
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


@router.get("/server-key", response_model=EvidenceKeyPublic)
def get_server_key(request: Request, who: Staff) -> dict:
    """The public key kiosks seal their crops to (their evidence.server_public_key)."""
    key = server_evidence_key(request.app.state.config)
    return {"public_key": key.public_b64, "key_id": key.key_id}


@router.get("/liveness-events", response_model=list[LivenessEventPublic])
def get_liveness_events(conn: Conn, who: Reviewer, site_id: str | None = None) -> list[dict]:
    """Every liveness on/off change reported by a kiosk, newest first."""
    site = check_site_scope(who, site_id)
    query = sa.select(liveness_policy_events).order_by(liveness_policy_events.c.id.desc())
    if site is not None:
        query = query.where(liveness_policy_events.c.site_id == site)
    return [dict(r._mapping) for r in conn.execute(query)]


@router.get("/{record_id}/image", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
def get_image(record_id: str, request: Request, conn: Conn, who: Reviewer) -> Response:
    """The crop, decrypted now; every view is written to the audit log."""
    return Response(view_image(conn, who, record_id, server_evidence_key(request.app.state.config)),
                    media_type="image/jpeg", headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def view_image(conn: sa.Connection, who: Principal, record_id: str, key: EvidenceKey) -> bytes:
    """The JPEG of one crop for a caller allowed to see its site; the view is audited."""
    row = _row_for(conn, who, record_id)
    try:
        jpeg = open_stored(row, key)
    except WireError as e:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"evidence for {record_id} cannot be opened: {e}") \
            from e
    write_audit(conn, who.label, "evidence.view", record_id, f"site {row.site_id}, device {row.device_id}")
    return jpeg


@router.post("/{record_id}/review", response_model=EvidencePublic)
def post_review(record_id: str, body: EvidenceReview, conn: Conn, who: Reviewer) -> dict:
    """confirmed_spoof or false_alarm, with a note; a later review replaces it, each one is audited."""
    return review(conn, who, record_id, body)


def review(conn: sa.Connection, who: Principal, record_id: str, body: EvidenceReview) -> dict:
    row = _row_for(conn, who, record_id)
    conn.execute(sa.update(evidence).where(evidence.c.record_id == record_id).values(
        review_status=body.status, reviewed_by=who.label, reviewed_at=utc_iso(time.time()),
        note=body.note or None))
    write_audit(conn, who.label, "evidence.review", record_id,
                f"{row.review_status} -> {body.status}; note: {body.note}"[:2000])
    return _listing(conn, row.site_id, None, 1, record_id)[0]
