"""/dashboard/evidence: the spoof evidence review page (no scripts, every value escaped), and the dashboard's
notes on kiosks running without liveness and crops waiting for review."""

from html import escape
from typing import Annotated
from urllib.parse import parse_qs

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from central_server.access.tokens import Principal
from central_server.api.deps import (
    DASHBOARD_COOKIE,
    IT_STAFF_OR_HEAD_ROLES,
    Conn,
    authorize,
    bearer_token,
    check_site_scope,
)
from central_server.api.evidence import row_for
from central_server.errors import Invalid, TooLarge
from central_server.evidence.ingest import server_evidence_key
from central_server.evidence.notes import liveness_off
from central_server.evidence.review import list_evidence, review, view_image
from central_server.evidence.schemas import EvidenceReview
from central_server.web.dashboard import SECURITY_HEADERS, STYLE

router = APIRouter(prefix="/dashboard/evidence", tags=["dashboard"])

# As the dashboard's, plus the crops themselves (same origin) and forms posting back here.
PAGE_HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy": (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")}
MAX_FORM_BYTES = 4096


def _caller(request: Request, conn: sa.Connection) -> Principal:
    # The dashboard cookie (path /dashboard) covers this page too; a bearer header works as well.
    # Who may review: as /api/v1/evidence (IT staff and office heads).
    return authorize(conn, bearer_token(request) or request.cookies.get(DASHBOARD_COOKIE), IT_STAFF_OR_HEAD_ROLES)


def _row_html(e: dict) -> str:
    rid = escape(e["record_id"])
    score = "" if e["liveness_score"] is None else f"{e['liveness_score']:.2f}"
    form = (f"<form method='post' action='/dashboard/evidence/{rid}/review'>"
            "<input name='note' maxlength='500' placeholder='note'>"
            "<button name='status' value='confirmed_spoof'>Confirm spoof</button>"
            "<button name='status' value='false_alarm'>False alarm</button></form>")
    verdict = escape(e["review_status"])
    if e["reviewed_by"]:
        verdict += f"<br><small>{escape(e['reviewed_by'])}, {escape(e['reviewed_at'] or '')}: " \
                   f"{escape(e['note'] or '')}</small>"
    return (f"<tr><td><img src='/dashboard/evidence/{rid}/image' alt='evidence crop' width='120'></td>"
            f"<td>{escape(e['taken_at'])}</td><td>{escape(e['device_id'])}<br>{escape(e['site_id'])}</td>"
            f"<td>{escape(e['event'] or 'record not arrived yet')}</td><td>{escape(e['person_id'] or '')}</td>"
            f"<td>{score}</td><td>{verdict}</td><td>{form}</td></tr>")


def render_review(items: list[dict], off: list[sa.Row], review_status: str | None) -> str:
    rows = "".join(_row_html(e) for e in items) or "<tr><td colspan='8'>Nothing to review.</td></tr>"
    warnings = "".join(f"<p class='flag'>Liveness is OFF on kiosk {escape(r.device_id)} ({escape(r.site_id)}) "
                       f"since {escape(r.at)}.</p>" for r in off)
    shown = escape(review_status or "all")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Hajiri spoof evidence</title>"
            f"<style>{STYLE}</style></head><body><h1>Spoof evidence <small>({shown})</small></h1>"
            "<p><a href='/dashboard'>attendance</a> &middot; <a href='/dashboard/evidence'>pending</a> &middot; "
            "<a href='/dashboard/evidence?status=all'>all</a></p>"
            f"{warnings}<p>Each image view and verdict is written to the audit log. The best-matching person of "
            "a spoof is whom the presented face looked like, not who held it up.</p>"
            "<table><tr><th>Crop</th><th>Taken</th><th>Kiosk</th><th>Event</th><th>Looked like</th>"
            f"<th>Liveness</th><th>Review</th><th>Verdict</th></tr>{rows}</table></body></html>")


@router.get("", response_class=HTMLResponse, response_model=None)
def get_page(request: Request, conn: Conn, wanted: Annotated[str, Query(alias="status")] = "pending",
             site_id: str | None = None) -> Response:
    who = _caller(request, conn)
    site = check_site_scope(who, site_id)
    if wanted not in ("all", "pending", "confirmed_spoof", "false_alarm"):
        raise Invalid(f"status {wanted!r}: one of all, pending, confirmed_spoof, false_alarm")
    items = list_evidence(conn, site, None if wanted == "all" else wanted, 200)
    return HTMLResponse(render_review(items, liveness_off(conn, site), wanted), headers=PAGE_HEADERS)


@router.get("/{record_id}/image", response_model=None)
def get_image(record_id: str, request: Request, conn: Conn) -> Response:
    who = _caller(request, conn)
    key = server_evidence_key(request.app.state.config)
    jpeg = view_image(conn, row_for(conn, who, record_id), key, actor=who.label)
    return Response(jpeg, media_type="image/jpeg", headers=PAGE_HEADERS)


async def form_fields(request: Request) -> dict[str, str]:
    """An urlencoded form, parsed here (no multipart dependency for two fields)."""
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise TooLarge(f"form over {MAX_FORM_BYTES} bytes")
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", errors="replace")).items()}


@router.post("/{record_id}/review", response_model=None)
def post_review(record_id: str, request: Request, conn: Conn,
                form: Annotated[dict[str, str], Depends(form_fields)]) -> Response:
    """The page's form (no scripts); the SameSite=Strict cookie keeps other sites from posting it."""
    who = _caller(request, conn)
    try:
        body = EvidenceReview(status=form.get("status", ""), note=form.get("note", ""))
    except ValidationError as e:
        raise Invalid(f"review: status must be confirmed_spoof or false_alarm ({e.error_count()} error(s))") from e
    review(conn, row_for(conn, who, record_id), body.status, body.note, actor=who.label)
    return RedirectResponse("/dashboard/evidence", status_code=status.HTTP_303_SEE_OTHER, headers=PAGE_HEADERS)
