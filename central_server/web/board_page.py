"""/sites/{site_id}: a site's presence board for one day (who is in, each employee's status, first IN and last
OUT with where they came from, flags, the day's events), and /sites/{site_id}/live, the summary and table that
static/live.js swaps in every 10 s while the board is open. Read only: a GET stores nothing."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from central_server.api.deps import Conn, check_site_scope
from central_server.attendance.board import Board, site_board, site_header
from central_server.web.board_shared import (
    KIND_LABELS,
    REFRESH_RANGE,
    SOURCE_LABELS,
    choose_day,
    choose_refresh,
    flag_label,
    local_today,
    needs_review,
    page_now,
    refuse,
    template_helpers,
)
from central_server.web.deps import PresenceOnPage
from central_server.web.i18n import N_, translations
from central_server.web.render import render_fragment, render_page
from central_server.web.status_marks import mark_for

router = APIRouter(tags=["web"], include_in_schema=False)

REFRESH_S = 10


@dataclass(slots=True)
class RowView:
    """One employee's row, every word already in the user's language (500 rows render without a macro call
    or a catalog look-up each: the board is refreshed every 10 s)."""

    employee_id: str
    name: str
    status: str
    css: str  # st-* plus "flagged"
    mark: str
    label: str
    late: str
    first_in: str
    first_src: str
    last_out: str
    last_src: str
    now: str  # in | out | ""
    flags: list[str]


@dataclass(slots=True)
class EventView:
    css: str
    time: str
    device_time: str  # the device's own clock where it shows a different minute
    who: str
    kind: str
    source: str
    device: str
    flags: list[str]


def hhmm(t: datetime | None) -> str:
    """What fmt.time gives (24-hour HH:MM, the same digits in both languages), without Babel's per-call cost."""
    return "" if t is None else t.strftime("%H:%M")


def _memo(_: Callable[[str], str]) -> Callable[[str], str]:
    seen: dict[str, str] = {}
    return lambda msgid: seen[msgid] if msgid in seen else seen.setdefault(msgid, _(msgid))


def row_views(board: Board, _: Callable[[str], str]) -> list[RowView]:
    t = _memo(_)
    late = t(N_("late by %(n)d min"))
    out = []
    for r in board.rows:
        m = mark_for(r.status)
        review = needs_review(r.flags)
        out.append(RowView(
            employee_id=r.employee_id, name=r.name, status=r.status, css=m.css + (" flagged" if review else ""),
            mark=m.mark + (" !" if review else ""), label=t(m.label),
            late=late % {"n": r.late_minutes} if r.status == "late" and r.late_minutes else "",
            first_in=hhmm(r.first_in), first_src=t(SOURCE_LABELS[r.first_in_source]) if r.first_in_source else "",
            last_out=hhmm(r.last_out), last_src=t(SOURCE_LABELS[r.last_out_source]) if r.last_out_source else "",
            now="in" if r.in_now else ("out" if r.last_seen else ""), flags=[t(flag_label(f)) for f in r.flags]))
    return out


def event_views(board: Board, _: Callable[[str], str]) -> list[EventView]:
    t = _memo(_)
    clock = t(N_("device clock %(t)s"))
    out = []
    for e in board.events:
        own = hhmm(e.device_time)
        at = hhmm(e.at)
        flags = [t(flag_label(f)) for f in e.flags] + ([] if e.counts else [t(N_("not counted"))])
        out.append(EventView(
            css=f"ev-{e.kind.lower()}" + ("" if e.counts else " not-counted"), time=at,
            device_time=clock % {"t": own} if own and own != at else "",
            who=board.names.get(e.person_id, e.person_id) if e.person_id else "", kind=t(KIND_LABELS[e.kind]),
            source=t(SOURCE_LABELS[e.source]), device=e.device or t(N_("phone")), flags=flags))
    return out


@router.get("/sites/{site_id}", response_class=HTMLResponse)
def get_board(request: Request, conn: Conn, user: PresenceOnPage, site_id: str, day: str | None = None,
              refresh: str | None = None) -> HTMLResponse:
    """The board (state admin; a district officer: their district's sites; an office head or warden: their own)."""
    check_site_scope(user.principal, site_id)  # before anything about the site is read or said
    today = local_today(request)
    chosen = choose_day(day, today, translations(user.language).gettext)
    site = site_header(conn, site_id)
    context = {"site": site, "today": today, "day_choice": chosen, "refresh": choose_refresh(refresh, REFRESH_S),
               "refresh_range": REFRESH_RANGE, **template_helpers()}
    if chosen.error is not None:
        return render_page(request, "board.html", user, status_code=422, board=None, **context)
    board = site_board(conn, site_id, chosen.value, request.app.state.config.timezone, page_now(request))
    _ = translations(user.language).gettext
    return render_page(request, "board.html", user, board=board, rows=row_views(board, _),
                       events=event_views(board, _), **context)


@router.get("/sites/{site_id}/live", response_class=HTMLResponse)
def get_board_live(request: Request, conn: Conn, user: PresenceOnPage, site_id: str,
                   day: str | None = None) -> HTMLResponse:
    """The board's summary and table alone (what the page refreshes without a reload)."""
    check_site_scope(user.principal, site_id)
    chosen = choose_day(day, local_today(request), translations(user.language).gettext)
    refuse(chosen)
    board = site_board(conn, site_id, chosen.value, request.app.state.config.timezone, page_now(request))
    rows = row_views(board, translations(user.language).gettext)
    return render_fragment(request, "board_live.html", user, board=board, rows=rows, site=board.site,
                           **template_helpers())
