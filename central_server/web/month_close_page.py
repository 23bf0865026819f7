"""/month-close: the DDO's month end: the month's open exceptions, closing it with a reason (the report is
frozen and signed), the frozen files and their signature files, and the adjustments later records made."""

from datetime import UTC, date, datetime
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from central_server.api.deps import Conn, check_site_scope, request_clock, sites_visible_to
from central_server.closing.adjustments import get_adjustment, list_adjustments, review_adjustment
from central_server.closing.month_close import SIG_SUFFIX, close_month, frozen_file, month_status, parse_month
from central_server.downlink.keys import load_or_create_signing_key
from central_server.errors import Conflict, Invalid, NotFound
from central_server.org.directory import site_directory
from central_server.web.deps import CheckedForm, OfficeHeadOnPage, PageUser, PayrollOnPage
from central_server.web.login import see_other
from central_server.web.render import render_page

router = APIRouter(tags=["web"], include_in_schema=False)

MEDIA = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def previous_month(today: date) -> str:
    """The month a DDO closes in the first days of the next one."""
    return f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}"


def _today(request: Request) -> date:
    return datetime.fromtimestamp(request_clock(request), ZoneInfo(request.app.state.config.timezone)).date()


def _site(conn: Conn, user: PageUser, site_id: str | None) -> str | None:
    """The office shown: the one asked for (403 outside the user's), an office head's own, or none yet."""
    if site_id:
        return check_site_scope(user.principal, site_id)
    return user.principal.site_id


def _context(request: Request, conn: Conn, user: PageUser, site_id: str | None, month: str) -> dict:
    parse_month(month)
    site = _site(conn, user, site_id)
    tz = request.app.state.config.timezone
    sites = site_directory(conn, sites_visible_to(conn, user.principal))
    status = month_status(conn, site, month, tz=tz) if site else None
    return {"site_id": site or "", "month": month, "sites": sites, "status": status,
            "site_name": next((s["name"] for s in sites if s["site_id"] == site), site or ""),
            "adjustments": list_adjustments(conn, site, month) if site else [],
            "can_close": user.principal.role.value in ("office_head", "state_admin"),
            "errors": {}, "typed": {}, "sig_suffix": SIG_SUFFIX}


def _render(request: Request, conn: Conn, user: PageUser, site_id: str | None, month: str, *,
            status_code: int = 200, errors: dict | None = None, typed: dict | None = None) -> HTMLResponse:
    context = _context(request, conn, user, site_id, month)
    context.update(errors=errors or {}, typed=typed or {})
    return render_page(request, "month_close.html", user, status_code=status_code, **context)


@router.get("/month-close", response_class=HTMLResponse)
def get_month_close(request: Request, conn: Conn, user: PayrollOnPage, site_id: str | None = None,
                    month: str | None = None) -> HTMLResponse:
    """The month's state for one office (reads only); the previous month by default."""
    return _render(request, conn, user, site_id, month or previous_month(_today(request)))


def _back(site_id: str, month: str, anchor: str = "") -> Response:
    return see_other(f"/month-close?{urlencode({'site_id': site_id, 'month': month})}{anchor}")


@router.post("/month-close")
def post_month_close(request: Request, conn: Conn, user: OfficeHeadOnPage, form: CheckedForm) -> Response:
    """Close the month with a reason (and force, when exceptions are open); a refused close keeps the reason
    and says beside the field what was wrong (422 for the reason, 409 for a month closed or not over)."""
    site, month = form.get("site_id", ""), form.get("month", "")
    parse_month(month)
    site = check_site_scope(user.principal, site or None)
    if not site:
        raise Invalid("site_id: choose the office")
    config = request.app.state.config
    try:
        with conn.begin_nested():  # a refused close leaves nothing behind, and the page can still be drawn
            close_month(conn, site, month, user.username or user.principal.label, form.get("reason", ""),
                        datetime.fromtimestamp(request_clock(request), UTC),
                        key=load_or_create_signing_key(config.downlink_key_path), tz=config.timezone,
                        force=form.get("force") == "yes")
    except (Invalid, Conflict) as e:
        return _render(request, conn, user, site, month, status_code=e.status_code,
                       errors={"reason": str(e)}, typed={"reason": form.get("reason", "")})
    return _back(site, month)


@router.post("/month-close/adjustments/{adjustment_id}/review")
def post_adjustment_review(adjustment_id: int, request: Request, conn: Conn, user: OfficeHeadOnPage,
                           form: CheckedForm) -> Response:
    """The office head acknowledges an adjustment to a closed month, with a short note; audited."""
    adj = get_adjustment(conn, adjustment_id)
    check_site_scope(user.principal, adj["site_id"])
    note = form.get("note", "").strip()
    if not 0 < len(note) <= 500:
        return _render(request, conn, user, adj["site_id"], form.get("month") or adj["closed_month"],
                       status_code=422, errors={f"adj-{adjustment_id}": "note: 1 to 500 characters"},
                       typed={f"adj-{adjustment_id}": note[:500]})
    review_adjustment(conn, adjustment_id, note, actor=user.username or user.principal.label,
                      now=request_clock(request))
    return _back(adj["site_id"], form.get("month") or adj["closed_month"], f"#adj-{adjustment_id}")


@router.get("/month-close/file")
def get_frozen_file(conn: Conn, user: PayrollOnPage, site_id: str, month: str, format: str) -> Response:
    """A closed month's frozen file (csv, xlsx, pdf) or its signature file (csv.sig …), byte for byte."""
    parse_month(month)
    site = check_site_scope(user.principal, site_id)
    base = format.removesuffix(SIG_SUFFIX)
    if base not in MEDIA:
        raise Invalid(f"format: {format!r} is not one of csv, xlsx, pdf (or with {SIG_SUFFIX})")
    frozen = frozen_file(conn, site, month, format)
    if frozen is None:
        raise NotFound(f"{month} of {site} is not closed: there is no frozen report yet")
    name = f"monthly-{site}-{month}.{format}"
    media = "application/json" if format.endswith(SIG_SUFFIX) else MEDIA[base]
    return Response(frozen.content, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}",
        "X-Hajiri-Closed": frozen.closed_at, "Cache-Control": "no-store"})
