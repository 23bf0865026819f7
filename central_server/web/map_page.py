"""/sites/{site_id}/map: a site's office areas (geofence polygons) and one day's mobile check-ins drawn as SVG
over them (no map tiles, nothing from the internet), with the check-ins as a table beside it. The state admin,
the district officer of the site's district and the site's office head. Read only: a GET stores nothing."""

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from central_server.api.deps import Conn, check_site_scope
from central_server.attendance.day import BadDay, parse_day
from central_server.attendance.rules.timeline import parse_instant
from central_server.org.site_map import SiteMap, read_site_map
from central_server.web import charts
from central_server.web.board_shared import KIND_LABELS, flag_label
from central_server.web.deps import OfficerOnPage
from central_server.web.i18n import Formatter, translations
from central_server.web.render import render_page
from central_server.web.rollup_page import local_today

router = APIRouter(tags=["web"], include_in_schema=False)


@router.get("/sites/{site_id}/map", response_class=HTMLResponse)
def get_map(request: Request, conn: Conn, user: OfficerOnPage, site_id: str, day: str | None = None) -> HTMLResponse:
    """The map and the day's check-ins (another site than one's own: 403, before anything is read)."""
    check_site_scope(user.principal, site_id)
    _ = translations(user.language).gettext
    today = local_today(request)
    error = None
    try:
        chosen = parse_day(day, "day") if day else today
        if chosen > today:
            raise BadDay("day: in the future")
    except BadDay:
        chosen, error = today, _("Choose a day that is not in the future (DD-MM-YYYY).")
    tz = request.app.state.config.timezone
    site_map = read_site_map(conn, site_id, chosen, tz)
    context = {"site_map": site_map, "day": chosen, "error": error, "flag_label": flag_label,
               "kind_labels": KIND_LABELS}
    if error is not None:
        return render_page(request, "map.html", user, status_code=422, svg=None, rows=[], **context)
    fmt = Formatter(user.language)
    rows = [{"n": i + 1, "spot": c, "at": parse_instant(c.event_time).astimezone(ZoneInfo(tz))}
            for i, c in enumerate(site_map.checkins)]
    return render_page(request, "map.html", user, svg=draw_map(site_map, rows, _, fmt), rows=rows, **context)


def draw_map(site_map: SiteMap, rows: list[dict], gettext, fmt: Formatter) -> charts.Markup | None:
    """The SVG: fences, the reference point, each check-in numbered as in the table."""
    if site_map.origin is None:
        return None
    areas = [charts.MapArea(f.name, f.rings) for f in site_map.fences]
    spots = [charts.MapSpot(r["spot"].x, r["spot"].y, r["spot"].inside, r["spot"].accuracy_m, str(r["n"]),
                            _tooltip(r, gettext, fmt)) for r in rows]
    words = charts.MapText(
        label=gettext("Map of %(site)s: office areas and the day's mobile check-ins") % {"site": site_map.name},
        origin=gettext("Office location") if site_map.origin_is_site else gettext("Map centre"),
        inside=gettext("Inside the office area"), outside=gettext("Outside the office area"),
        accuracy=gettext("GPS accuracy"), north=gettext("N"))
    return charts.site_map(areas, spots, words)


def _tooltip(row: dict, gettext, fmt: Formatter) -> str:
    spot = row["spot"]
    where = (gettext("Inside the office area") if spot.inside else gettext("No office area is drawn")
             if spot.inside is None else gettext("Outside the office area"))
    parts = [f"{row['n']}. {spot.name}", f"{fmt.time(row['at'])} {gettext(KIND_LABELS.get(spot.event, spot.event))}",
             where]
    if spot.distance_m:
        parts.append(gettext("%(m)s m from the office area") % {"m": fmt.number(spot.distance_m, 0)})
    parts.append(gettext("GPS accuracy %(m)s m") % {"m": fmt.number(spot.accuracy_m, 0)})
    return " · ".join(parts)
