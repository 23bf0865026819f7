"""/api/v1/evidence: the admin review list of spoof evidence crops, the image (audited), the review verdict."""

from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response

from central_server.access.tokens import Principal
from central_server.api.deps import Conn, ItStaff, ItStaffOrHead, check_site_scope
from central_server.evidence.ingest import server_evidence_key
from central_server.evidence.review import evidence_row, list_evidence, liveness_events, review, view_image
from central_server.evidence.schemas import (
    EvidenceKeyPublic,
    EvidencePublic,
    EvidenceReview,
    LivenessEventPublic,
)

router = APIRouter(prefix="/api/v1/evidence", tags=["evidence"])

# Face images of suspected attacks: the state admin, IT staff, and the head of that office only (ItStaffOrHead).
Status = Literal["pending", "confirmed_spoof", "false_alarm"]


def row_for(conn: sa.Connection, who: Principal, record_id: str) -> sa.Row:
    """The evidence row if the caller may see its site (404 when there is none, 403 another site's)."""
    row = evidence_row(conn, record_id)
    check_site_scope(who, row.site_id)
    return row


@router.get("", response_model=list[EvidencePublic])
def get_evidence(conn: Conn, who: ItStaffOrHead, site_id: str | None = None, review_status: Annotated[
        Status | None, Query(alias="status")] = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict]:
    """Newest first. Site-scoped tokens see their site only; `linked` says whether the record has arrived."""
    return list_evidence(conn, check_site_scope(who, site_id), review_status, limit)


@router.get("/server-key", response_model=EvidenceKeyPublic)
def get_server_key(request: Request, who: ItStaff) -> dict:
    """The public key kiosks seal their crops to (their evidence.server_public_key)."""
    key = server_evidence_key(request.app.state.config)
    return {"public_key": key.public_b64, "key_id": key.key_id}


@router.get("/liveness-events", response_model=list[LivenessEventPublic])
def get_liveness_events(conn: Conn, who: ItStaffOrHead, site_id: str | None = None) -> list[dict]:
    """Every liveness on/off change reported by a kiosk, newest first."""
    return liveness_events(conn, check_site_scope(who, site_id))


@router.get("/{record_id}/image", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
def get_image(record_id: str, request: Request, conn: Conn, who: ItStaffOrHead) -> Response:
    """The crop, decrypted now; every view is written to the audit log."""
    key = server_evidence_key(request.app.state.config)
    jpeg = view_image(conn, row_for(conn, who, record_id), key, actor=who.label)
    return Response(jpeg, media_type="image/jpeg",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.post("/{record_id}/review", response_model=EvidencePublic)
def post_review(record_id: str, body: EvidenceReview, conn: Conn, who: ItStaffOrHead) -> dict:
    """confirmed_spoof or false_alarm, with a note; a later review replaces it, each one is audited."""
    return review(conn, row_for(conn, who, record_id), body.status, body.note, actor=who.label)
