"""/review: what waits for a decision at the offices a person may see: explanation requests, flagged mobile
check-ins and spoof evidence, the oldest first. Office heads and wardens decide (each decision with a short
reason, audited); a district officer reads their district's; spoof crops are for the state admin and office heads
only (as /api/v1/evidence)."""

from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from central_server.api.deps import (
    OFFICE_HEAD_ROLES,
    SUPERVISOR_ROLES,
    Conn,
    check_employee_access,
    scoped_sites,
    sites_visible_to,
)
from central_server.api.evidence import row_for
from central_server.attendance.checkin_review import CheckinReviewError, get_checkin, review_checkin
from central_server.attendance.day import parse_day
from central_server.attendance.explanations import decide, get_request
from central_server.attendance.review_queue import checkin_queue, explanation_queue
from central_server.attendance.rules.recompute import recompute_days
from central_server.attendance.rules.timeline import parse_instant
from central_server.evidence.ingest import server_evidence_key
from central_server.evidence.notes import liveness_off
from central_server.evidence.review import list_evidence, review, view_image
from central_server.org.directory import site_directory
from central_server.web.deps import CheckedForm, OfficeHeadOnPage, PageUser, PresenceOnPage, SupervisorOnPage
from central_server.web.i18n import N_, translations
from central_server.web.login import see_other
from central_server.web.render import PAGE_HEADERS, render_page

router = APIRouter(tags=["web"], include_in_schema=False)

MAX_REASON = 500
EVIDENCE_LIMIT = 500
# Check-in flags in the reviewer's words (ui.md: "your office area" to the employee, "the office area" here).
FLAG_WORDS = {
    "outside_fence": N_("outside the office area"),
    "no_geofence": N_("no office area is set"),
    "accuracy_too_poor": N_("location not precise enough"),
    "mock_location": N_("location looks simulated"),
    "impossible_travel": N_("too far from the previous place for the time taken"),
    "device_clock_skew": N_("phone clock was wrong"),
    "queued_offline": N_("sent late (offline)"),
    "selfie_no_face": N_("no face in the selfie"),
    "selfie_many_faces": N_("more than one face in the selfie"),
    "selfie_mismatch": N_("face did not match"),
    "selfie_spoof": N_("selfie looks like a photo or a screen"),
    "selfie_reused": N_("the same selfie as an earlier check-in"),
    "no_templates": N_("no enrolled face to compare"),
    "selfie_unverified": N_("face could not be checked"),
}
EXPLANATION_STATUS = {"open": N_("Waiting for the employee's reply"), "replied": N_("Replied: waiting for a decision"),
                      "accepted": N_("Accepted"), "rejected": N_("Rejected")}
EVIDENCE_STATUS = {"pending": N_("Waiting for review"), "confirmed_spoof": N_("Confirmed spoof"),
                   "false_alarm": N_("False alarm")}


def actor_of(user: PageUser) -> str:
    return user.username or user.principal.label


def _visible_sites(conn: Conn, user: PageUser) -> list[dict]:
    """The offices a person may pick from (only shown when there is more than one)."""
    return site_directory(conn, sites_visible_to(conn, user.principal))


def _evidence(conn: Conn, user: PageUser, site_ids: set[str] | None) -> dict | None:
    """Pending crops (the oldest first), the latest verdicts and kiosks without liveness; None for roles that
    may not see face crops."""
    if user.role not in OFFICE_HEAD_ROLES:
        return None
    site = next(iter(site_ids)) if site_ids is not None and len(site_ids) == 1 else None
    pending = list(reversed(list_evidence(conn, site, "pending", EVIDENCE_LIMIT)))  # listed newest first
    decided = [e for e in list_evidence(conn, site, None, 60) if e["review_status"] != "pending"][:30]
    return {"pending": pending, "decided": decided, "liveness_off": liveness_off(conn, site)}


def review_context(request: Request, conn: Conn, user: PageUser, site_id: str | None) -> dict:
    """Everything the page shows: the three queues of the sites asked for (403 outside the user's)."""
    site_ids = scoped_sites(conn, user.principal, site_id or None)
    tz = request.app.state.config.timezone
    zone = ZoneInfo(tz)
    return {"site_id": site_id or "", "sites": _visible_sites(conn, user),
            "explanations": explanation_queue(conn, site_ids), "checkins": checkin_queue(conn, site_ids, tz),
            "evidence": _evidence(conn, user, site_ids), "can_decide": user.role in SUPERVISOR_ROLES,
            "flag_words": FLAG_WORDS, "explanation_status": EXPLANATION_STATUS, "evidence_status": EVIDENCE_STATUS,
            "local": lambda wire: parse_instant(wire).astimezone(zone) if wire else None,
            "errors": {}, "typed": {}, "max_reason": MAX_REASON}


def render_review(request: Request, conn: Conn, user: PageUser, site_id: str | None, *, status_code: int = 200,
                  errors: dict[str, str] | None = None, typed: dict[str, str] | None = None) -> HTMLResponse:
    context = review_context(request, conn, user, site_id)
    context.update(errors=errors or {}, typed=typed or {})
    return render_page(request, "review.html", user, status_code=status_code, **context)


@router.get("/review", response_class=HTMLResponse)
def get_review(request: Request, conn: Conn, user: PresenceOnPage, site_id: str | None = None) -> HTMLResponse:
    """The review page (reads only)."""
    return render_review(request, conn, user, site_id)


def back_to_review(form: dict[str, str], anchor: str) -> Response:
    """Back to the page as it was (the same office filter), at the section decided in."""
    site = form.get("site_id") or ""
    return see_other(f"/review{'?' + urlencode({'site_id': site}) if site else ''}#{anchor}")


def _refused(request: Request, conn: Conn, user: PageUser, form: dict[str, str], key: str, why: str) -> Response:
    """The page again (422) with what was typed kept and the reason beside the field."""
    _ = translations(user.language).gettext
    return render_review(request, conn, user, form.get("site_id") or None, status_code=422,
                         errors={key: _(why)}, typed={key: form.get("reason", "")})


def check_reason(form: dict[str, str]) -> str | None:
    """The stripped reason, or None when missing or too long (the caller answers 422)."""
    reason = form.get("reason", "").strip()
    return reason if 0 < len(reason) <= MAX_REASON else None


@router.post("/review/explanations/{request_id}/decision")
def post_explanation_decision(request_id: int, request: Request, conn: Conn, user: SupervisorOnPage,
                              form: CheckedForm) -> Response:
    """Accept or reject a replied explanation (as POST /api/v1/explanations/{id}/decision): the day is then
    recomputed, so an accepted outside-the-office-area check-in counts."""
    req = get_request(conn, request_id)
    check_employee_access(conn, user.principal, req["employee_id"])
    key = f"explanation-{request_id}"
    if form.get("decision") not in ("accept", "reject"):
        return _refused(request, conn, user, form, key, N_("Choose accept or reject."))
    reason = check_reason(form)
    if reason is None:
        return _refused(request, conn, user, form, key, N_("Write a short reason (at most 500 characters)."))
    decide(conn, request_id, form["decision"] == "accept", reason, actor=actor_of(user))
    recompute_days(conn, req["employee_id"], [parse_day(req["day"])], request.app.state.config.timezone)
    return back_to_review(form, "explanations")


@router.post("/review/checkins/{checkin_id}")
def post_checkin_review(checkin_id: str, request: Request, conn: Conn, user: SupervisorOnPage,
                        form: CheckedForm) -> Response:
    """Accept or reject a flagged check-in with a reason (as POST /api/v1/checkins/{id}/review)."""
    check_employee_access(conn, user.principal, get_checkin(conn, checkin_id)["employee_id"])
    key = f"checkin-{checkin_id}"
    try:
        review_checkin(conn, checkin_id, form.get("decision", ""), form.get("reason", ""), actor_of(user),
                       datetime.now(UTC), tz=request.app.state.config.timezone)
    except CheckinReviewError as e:
        why = N_("Choose accept or reject.") if e.field == "decision" else \
            N_("Write a short reason (at most 500 characters).")
        return _refused(request, conn, user, form, key, why)
    return back_to_review(form, "checkins")


@router.post("/review/evidence/{record_id}")
def post_evidence_review(record_id: str, request: Request, conn: Conn, user: OfficeHeadOnPage,
                         form: CheckedForm) -> Response:
    """Confirm spoof or false alarm with a note (as POST /api/v1/evidence/{id}/review)."""
    row = row_for(conn, user.principal, record_id)
    key = f"evidence-{record_id}"
    if form.get("status") not in ("confirmed_spoof", "false_alarm"):
        return _refused(request, conn, user, form, key, N_("Choose confirm spoof or false alarm."))
    reason = check_reason(form)
    if reason is None:
        return _refused(request, conn, user, form, key, N_("Write a short reason (at most 500 characters)."))
    review(conn, row, form["status"], reason, actor=actor_of(user))
    return back_to_review(form, "evidence")


@router.get("/review/evidence/{record_id}/image")
def get_evidence_image(record_id: str, request: Request, conn: Conn, user: OfficeHeadOnPage) -> Response:
    """One crop, decrypted for this view; the view is written to the audit log (as the API's)."""
    row = row_for(conn, user.principal, record_id)
    jpeg = view_image(conn, row, server_evidence_key(request.app.state.config), actor=actor_of(user))
    return Response(jpeg, media_type="image/jpeg", headers=PAGE_HEADERS)

