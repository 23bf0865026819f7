"""/state and /districts/{district}: the state's and a district's attendance roll-up for a day or a month, by
district (state) or office (district) and by department, the furthest behind first, with server-drawn SVG
charts (reports.rollup_view counts the stored days in SQL). Read only: a GET stores nothing."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from central_server.access.tokens import Role, district_site_ids
from central_server.api.deps import STATE_ADMIN_ROLES, Conn, request_clock
from central_server.attendance.day import BadDay, parse_day
from central_server.errors import Forbidden, NotFound
from central_server.reports.period import Period, ReportInputError, day_period, month_period
from central_server.reports.rollup_view import Group, Rollup, Tally, district_key, read_rollup
from central_server.web import charts
from central_server.web.deps import PageUser, page_user
from central_server.web.i18n import N_, Formatter, translations
from central_server.web.render import render_page
from central_server.web.status_marks import mark_for

router = APIRouter(tags=["web"], include_in_schema=False)

# Who reads roll-ups: the state admin, and district officers (their district; one without a district reads the
# state, as the API lets such a token see every site). Office heads have their board; IT staff their kiosks.
ROLLUP_ROLES = STATE_ADMIN_ROLES | {Role.DISTRICT_OFFICER}
RollupReaderOnPage = Annotated[PageUser, Depends(page_user(ROLLUP_ROLES))]
# The bar chart shows the rows furthest behind; the table below it lists every one.
CHART_ROWS = 15
# The stacked parts of a bar, in order (no_entry: working days with nothing stored yet).
PARTS = ("present", "late", "half_day", "absent", "on_leave", "on_tour", "no_entry")
NO_ENTRY = N_("No entry")


@dataclass(frozen=True)
class Choice:
    """What the page shows: a day or a month (view), the period, and what was wrong with the request."""

    view: str
    day: date
    month: str
    period: Period | None
    error: str | None = None


def local_today(request: Request) -> date:
    return datetime.fromtimestamp(request_clock(request), ZoneInfo(request.app.state.config.timezone)).date()


def choose_period(day: str | None, month: str | None, today: date, gettext) -> Choice:
    """?month=YYYY-MM is the month view, else ?day=YYYY-MM-DD (default today) the day view; a bad or future
    value is said beside the picker (422) instead of a period."""
    if month:
        try:
            period = month_period(month, today)
        except ReportInputError:
            return Choice("month", today, month, None, gettext("Choose a month that has begun (YYYY-MM)."))
        return Choice("month", period.last, month, period)
    try:
        chosen = parse_day(day, "day") if day else today
        return Choice("day", chosen, chosen.isoformat()[:7], day_period(chosen, today))
    except (BadDay, ReportInputError):
        return Choice("day", today, today.isoformat()[:7], None,
                      gettext("Choose a day that is not in the future (DD-MM-YYYY)."))


@router.get("/state", response_class=HTMLResponse)
def get_state(request: Request, conn: Conn, user: RollupReaderOnPage, day: str | None = None,
              month: str | None = None) -> HTMLResponse:
    """The whole state by district (state admin, or a district officer without a district)."""
    if user.principal.district is not None:
        raise Forbidden(f"this page covers the whole state; yours is district {user.principal.district}")
    return _render(request, conn, user, "state", None, None, day, month)


@router.get("/districts/{district}", response_class=HTMLResponse)
def get_district(request: Request, conn: Conn, user: RollupReaderOnPage, district: str, day: str | None = None,
                 month: str | None = None) -> HTMLResponse:
    """One district by office (state admin; the district officer of that district only)."""
    mine = user.principal.district
    if mine is not None and district_key(mine) != district_key(district):
        raise Forbidden(f"this login is limited to district {mine}")
    site_ids = district_site_ids(conn, district)
    if not site_ids:
        raise NotFound(f"no offices are registered in district {district!r}")
    return _render(request, conn, user, "district", district, site_ids, day, month)


def _render(request: Request, conn: sa.Connection, user: PageUser, level: str, district: str | None,
            site_ids: frozenset[str] | None, day: str | None, month: str | None) -> HTMLResponse:
    _ = translations(user.language).gettext
    choice = choose_period(day, month, local_today(request), _)
    base = "/state" if level == "state" else f"/districts/{quote(district or '', safe='')}"
    context: dict[str, Any] = {"level": level, "district": district, "choice": choice, "base": base,
                               "chart_rows": CHART_ROWS, "district_name": district}
    if choice.period is None:
        return render_page(request, "rollup.html", user, status_code=422, rollup=None, **context)
    rollup = read_rollup(conn, choice.period, site_ids, daily=choice.view == "month")
    rows = rollup.districts if level == "state" else rollup.offices
    if level == "district" and rows:
        context["district_name"] = rows[0].district  # as the register spells it, whatever the URL's case
    links = {g.key: _link(level, g, choice) for g in rows}
    fmt = Formatter(user.language)
    return render_page(request, "rollup.html", user, rollup=rollup, rows=rows, links=links,
                       pct=lambda v: percent(fmt, v),
                       gap=lambda t: gap_text(fmt, t, rollup.total),
                       bar_chart=bar_chart(rows, links, rollup, level, _, fmt),
                       trend=trend_chart(rollup, _, fmt) if choice.view == "month" else None, **context)


def _link(level: str, group: Group, choice: Choice) -> str:
    """Drill-down: the state page goes to the district page (same day or month), a district to the board."""
    if level == "state":
        query = {"month": choice.month} if choice.view == "month" else {"day": choice.day.isoformat()}
        return f"/districts/{quote(group.district or group.key, safe='')}?{urlencode(query)}"
    return f"/sites/{quote(group.key, safe='')}?{urlencode({'day': choice.day.isoformat()})}"


def percent(fmt: Formatter, value: float | None) -> str:
    """72.5% (one decimal), or an em dash for no working day."""
    return "—" if value is None else f"{fmt.number(round(value, 1))}%"


def gap_text(fmt: Formatter, tally: Tally, total: Tally) -> str:
    """How far a row is from the whole page's attendance %, in points: −12.5 behind, +3 ahead."""
    mine, overall = tally.attendance_pct, total.attendance_pct
    if mine is None or overall is None:
        return "—"
    diff = round(mine - overall, 1)
    return ("−" if diff < 0 else "+" if diff > 0 else "±") + fmt.number(abs(diff))


def legend_items(gettext) -> list[charts.LegendItem]:
    return [charts.LegendItem(key, *_mark_label(key, gettext)) for key in PARTS]


def _mark_label(key: str, gettext) -> tuple[str, str]:
    if key == "no_entry":
        return "…", gettext(NO_ENTRY)
    m = mark_for(key)
    return m.mark, gettext(m.label)


def bar_chart(rows: list[Group], links: dict[str, str], rollup: Rollup, level: str, gettext,
              fmt: Formatter) -> charts.Markup | None:
    """Attendance % per district or office as stacked bars of the working employee-days, furthest behind first."""
    shown = [g for g in rows if g.tally.working][:CHART_ROWS]
    if not shown:
        return None
    bars = []
    for g in shown:
        t = g.tally
        segments = [charts.Segment(key, t.no_entry if key == "no_entry" else t[key], *_mark_label(key, gettext))
                    for key in PARTS]
        figures = ", ".join(f"{s.label} {fmt.number(s.value)}" for s in segments if s.value)
        tooltip = f"{g.name or gettext('No district')}: {percent(fmt, t.attendance_pct)} ({figures})"
        bars.append(charts.Bar(g.name or gettext("No district"), segments, t.working,
                               percent(fmt, t.attendance_pct), tooltip, links.get(g.key)))
    what = gettext("Attendance % by district") if level == "state" else gettext("Attendance % by office")
    return charts.stacked_bars(bars, legend_items(gettext), label=what)


def trend_chart(rollup: Rollup, gettext, fmt: Formatter) -> charts.Markup | None:
    """The month's attendance % per day (days without a working day are gaps)."""
    if not rollup.daily:
        return None
    last = len(rollup.daily) - 1
    # Day numbers on the 1st, 8th, 15th … and the last day, unless that would crowd the one before it.
    labelled = {i for i, (d, _t) in enumerate(rollup.daily) if d.day % 7 == 1 and last - i >= 3} | {0, last}
    points = [charts.Point(fmt.date(d, "short")[:2] if i in labelled else "", t.attendance_pct,
                           f"{fmt.date(d, 'short')}: {percent(fmt, t.attendance_pct)}")
              for i, (d, t) in enumerate(rollup.daily)]
    return charts.trend_line(points, label=gettext("Daily attendance % in the month"))
