"""/kiosks: the kiosk fleet for IT staff and the state admin: each device with its office, how long since its
last heartbeat in plain words (silent ones first and marked), queue, clock, temperature, models, liveness and
whether it is revoked (devices.fleet). A site-scoped IT login sees its site's kiosks only. Read only."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from central_server.api.deps import Conn, request_clock, sites_visible_to
from central_server.devices.fleet import fleet
from central_server.devices.heartbeat import DEFAULT_SILENT_AFTER_S
from central_server.web.deps import ItStaffOnPage
from central_server.web.i18n import Formatter, translations
from central_server.web.render import render_page

router = APIRouter(tags=["web"], include_in_schema=False)

# A clock further off than this, or a CPU this hot, is marked for a look.
CLOCK_WARN_S = 60.0
HOT_C = 75.0


@router.get("/kiosks", response_class=HTMLResponse)
def get_kiosks(request: Request, conn: Conn, user: ItStaffOnPage) -> HTMLResponse:
    """Every kiosk the user may see, silent ones first."""
    now = request_clock(request)
    devices = fleet(conn, sites_visible_to(conn, user.principal), int(now * 1000), DEFAULT_SILENT_AFTER_S)
    _ = translations(user.language).gettext
    fmt = Formatter(user.language)
    return render_page(request, "kiosks.html", user, devices=devices, silent_after_min=int(DEFAULT_SILENT_AFTER_S // 60),
                       age=lambda s: age_words(s, _), seconds=lambda s: signed_seconds(fmt, s),
                       clock_warn_s=CLOCK_WARN_S, hot_c=HOT_C)


def age_words(seconds: float | None, gettext) -> str:
    """How long ago, as people say it: just now, 2 min ago, 3 h ago, 4 days ago; never for no heartbeat."""
    if seconds is None:
        return gettext("never")
    if seconds < 60:
        return gettext("just now")
    if seconds < 3600:
        return gettext("%(n)s min ago") % {"n": int(seconds // 60)}
    if seconds < 48 * 3600:
        return gettext("%(n)s h ago") % {"n": int(seconds // 3600)}
    return gettext("%(n)s days ago") % {"n": int(seconds // 86400)}


def signed_seconds(fmt: Formatter, value: float | None) -> str:
    """A clock offset: +1.2 s ahead of the server's view, −0.4 s behind; — when unknown."""
    if value is None:
        return "—"
    sign = "−" if value < 0 else "+" if value > 0 else "±"
    return f"{sign}{fmt.number(round(abs(value), 1))} s"
