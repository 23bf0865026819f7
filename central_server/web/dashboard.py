"""GET /dashboard: today's presence per site as a self-refreshing HTML page (every value escaped)."""

from html import escape

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from central_server.api.deps import (
    DASHBOARD_COOKIE,
    OFFICE_HEAD_ROLES,
    Conn,
    authorize,
    bearer_token,
    check_site_scope,
)
from central_server.attendance.day import today
from central_server.attendance.presence import SiteDay, local_clock, presence
from central_server.evidence.notes import dashboard_notes

router = APIRouter(tags=["dashboard"])

REFRESH_S = 5

# No scripts at all; inline styles only. The page cannot run anything even if escaping were missed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

STYLE = """body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}
td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}th{background:#eee}.in{color:#070}
.flag{color:#a00;font-weight:bold}"""


def _site_html(site: SiteDay, tz: str) -> str:
    rows = []
    for p in site.people.values():
        state = "in" if p.last_event == "IN" else ""
        rows.append(
            f"<tr class='{state}'><td>{escape(p.name or '(not on register)')}</td><td>{escape(p.person_id)}</td>"
            f"<td>{escape(local_clock(p.first_in, tz))}</td><td>{escape(local_clock(p.last_out, tz))}</td>"
            f"<td>{escape(p.last_event or '')} {escape(local_clock(p.last_time, tz))}</td></tr>")
    present = sum(1 for p in site.people.values() if p.last_event == "IN")
    flags = f"unknown faces: {site.unknown}, spoof attempts: {site.spoof}"
    flag_class = "flag" if site.spoof else ""
    return (f"<h2>{escape(site.name)} <small>({escape(site.site_id)}, {escape(site.kind)})</small></h2>"
            f"<p>in now: {present} of {len(site.people)} &middot; <span class='{flag_class}'>{escape(flags)}</span></p>"
            "<table><tr><th>Name</th><th>ID</th><th>First IN</th><th>Last OUT</th><th>Last event</th></tr>"
            + "".join(rows) + "</table>")


def render_dashboard(sites: list[SiteDay], day: str, tz: str, notes: str = "") -> str:
    body = "".join(_site_html(s, tz) for s in sites) or "<p>No sites registered yet.</p>"
    return (f"<!doctype html><html><head><meta charset='utf-8'><meta http-equiv='refresh' content='{REFRESH_S}'>"
            f"<title>Hajiri attendance {escape(day)}</title><style>{STYLE}</style></head><body>"
            f"<h1>Attendance {escape(day)} <small>({escape(tz)})</small></h1>{notes}{body}</body></html>")


@router.get("/dashboard", response_class=HTMLResponse, response_model=None)
def get_dashboard(request: Request, conn: Conn, token: str | None = None, site_id: str | None = None) -> Response:
    """Bearer header or the dashboard cookie; `?token=` is swapped for the cookie and stripped from the URL."""
    if token is not None:
        authorize(conn, token, OFFICE_HEAD_ROLES)  # as /api/v1/attendance
        response = RedirectResponse(str(request.url.remove_query_params("token")),
                                    status_code=status.HTTP_303_SEE_OTHER, headers=SECURITY_HEADERS)
        response.set_cookie(DASHBOARD_COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/dashboard")
        return response
    who = authorize(conn, bearer_token(request) or request.cookies.get(DASHBOARD_COOKIE), OFFICE_HEAD_ROLES)
    site_id = check_site_scope(who, site_id)
    tz = request.app.state.config.timezone
    day = today(tz)
    # Notes (already escaped HTML): kiosks without liveness, the spoof evidence review queue.
    html = render_dashboard(presence(conn, day, tz, site_id), day.isoformat(), tz, dashboard_notes(conn, site_id))
    return HTMLResponse(html, headers=SECURITY_HEADERS)
