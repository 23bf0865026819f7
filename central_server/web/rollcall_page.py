"""/rollcall/{site_id}: a hostel's roll-call against its curfew for the warden at the gate (a phone, evening):
who is not back first (when they went out, how long ago), then who is on leave, then who is in; and
/rollcall/{site_id}/live, the same lists for static/live.js every 15 s. Read only (attendance.rollcall)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from central_server.access.tokens import Role
from central_server.api.deps import Conn, check_site_scope
from central_server.attendance.board import site_header
from central_server.attendance.rollcall import NoCurfew, Resident, rollcall
from central_server.web.board_shared import (
    choose_day,
    choose_refresh,
    local_today,
    page_now,
    refuse,
    template_helpers,
)
from central_server.web.deps import PageUser, page_user
from central_server.web.i18n import translations
from central_server.web.render import render_fragment, render_page

router = APIRouter(tags=["web"], include_in_schema=False)

# The hostel's warden, the district officer of its district, the state admin (scope: check_site_scope).
ROLLCALL_ROLES = frozenset({Role.WARDEN, Role.DISTRICT_OFFICER, Role.STATE_ADMIN})
RollcallOnPage = Annotated[PageUser, Depends(page_user(ROLLCALL_ROLES))]
REFRESH_S = 15


@dataclass(frozen=True)
class Person:
    employee_id: str
    name: str
    last_time: datetime | None  # local: their last IN or OUT
    away_minutes: int | None  # for those out: since their last OUT, as of the roll-call's time
    back_late: bool  # in now, but not by the curfew


@dataclass(frozen=True)
class RollCall:
    curfew: datetime  # local
    as_of: datetime  # local
    passed: bool  # the curfew has passed as of as_of
    is_today: bool
    not_back: list[Person]  # out or not seen, longest away first
    on_leave: list[Person]
    back: list[Person]  # in, by name

    @property
    def total(self) -> int:
        return len(self.not_back) + len(self.on_leave) + len(self.back)


def _person(r: Resident, as_of: datetime, zone: ZoneInfo) -> Person:
    last = r.last_time.astimezone(zone) if r.last_time else None
    away = int((as_of - last).total_seconds() // 60) if last is not None and r.status == "out" else None
    return Person(r.employee_id, r.name, last, away, r.status == "in" and r.in_by_curfew is False)


def roll_call(conn: sa.Connection, site_id: str, day, tz: str, now: datetime) -> RollCall:
    """The roll-call as the page shows it (NoCurfew for a site without one)."""
    zone = ZoneInfo(tz)
    curfew, as_of, residents = rollcall(conn, site_id, day, tz, now)
    as_of = as_of.astimezone(zone)
    people = [(r, _person(r, as_of, zone)) for r in residents]
    by_name = sorted(people, key=lambda rp: (rp[1].name.casefold(), rp[1].employee_id))
    not_back = sorted((p for r, p in people if r.status in ("out", "not_seen")),
                      key=lambda p: (p.last_time is not None, p.last_time or as_of, p.name.casefold()))
    return RollCall(curfew=curfew.astimezone(zone), as_of=as_of, passed=as_of >= curfew,
                    is_today=now.astimezone(zone).date() == day, not_back=not_back,
                    on_leave=[p for r, p in by_name if r.status == "on_leave"],
                    back=[p for r, p in by_name if r.status == "in"])


def _context(request: Request, conn: sa.Connection, user: PageUser, site_id: str, raw_day: str | None) -> dict:
    check_site_scope(user.principal, site_id)  # a warden: their own hostel only
    today = local_today(request)
    chosen = choose_day(raw_day, today, translations(user.language).gettext)
    return {"site": site_header(conn, site_id), "today": today, "day_choice": chosen, **template_helpers()}


@router.get("/rollcall/{site_id}", response_class=HTMLResponse)
def get_rollcall_page(request: Request, conn: Conn, user: RollcallOnPage, site_id: str, day: str | None = None,
                      refresh: str | None = None) -> HTMLResponse:
    context = _context(request, conn, user, site_id, day)
    context["refresh"] = choose_refresh(refresh, REFRESH_S)
    chosen = context["day_choice"]
    if chosen.error is not None:
        return render_page(request, "rollcall.html", user, status_code=422, call=None, no_curfew=False, **context)
    try:
        call = roll_call(conn, site_id, chosen.value, request.app.state.config.timezone, page_now(request))
    except NoCurfew:
        return render_page(request, "rollcall.html", user, call=None, no_curfew=True, day=chosen.value, **context)
    return render_page(request, "rollcall.html", user, call=call, no_curfew=False, day=chosen.value, **context)


@router.get("/rollcall/{site_id}/live", response_class=HTMLResponse)
def get_rollcall_live(request: Request, conn: Conn, user: RollcallOnPage, site_id: str,
                      day: str | None = None) -> HTMLResponse:
    context = _context(request, conn, user, site_id, day)
    refuse(context["day_choice"])
    call = roll_call(conn, site_id, context["day_choice"].value, request.app.state.config.timezone, page_now(request))
    return render_fragment(request, "rollcall_live.html", user, call=call, **context)
