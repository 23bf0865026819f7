"""/employees/{employee_id}: one employee's month as a calendar with its totals, one day's timeline (every kiosk
and mobile event), their explanation threads (the employee replies here), and the month's leave and tours.

Anyone who may see the employee opens it (an employee: only themselves). A GET stores nothing: days not settled
yet are computed for the page and not stored (attendance.employee_month)."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from central_server.access.tokens import Role
from central_server.api.deps import Conn, check_employee_access
from central_server.attendance.board import site_header
from central_server.attendance.employee_month import (
    day_timeline,
    explanation_threads,
    month_absences,
    month_counts,
    read_employee_days,
    shift_of,
)
from central_server.attendance.explanations import get_request, reply
from central_server.attendance.rules.timeline import parse_instant
from central_server.attendance.schemas import ExplanationReply
from central_server.errors import Forbidden, NotFound
from central_server.reports.monthly import EmployeeMonth
from central_server.web.board_shared import (
    FIRST_DAY,
    Choice,
    choose_day,
    choose_month,
    local_today,
    month_end,
    needs_review,
    page_now,
    template_helpers,
)
from central_server.web.deps import AnyoneOnPage, CheckedForm, PageUser
from central_server.web.i18n import translations
from central_server.web.render import PAGE_HEADERS, render_page

router = APIRouter(tags=["web"], include_in_schema=False)

A_MONDAY = date(2024, 1, 1)  # weekday names are taken from this week (Monday first, as Indian calendars print)
MAX_REPLY = ExplanationReply.model_fields["reply"].metadata[0].max_length


@dataclass(frozen=True)
class Cell:
    day: date
    info: dict | None  # the day as the API shows it (None: a day still to come)
    flagged: bool
    weekend: bool


def month_weeks(first: date, last: date, days: dict[date, dict], open_days: set[str],
                weekly_off: tuple[str, ...]) -> list[list[Cell | None]]:
    """The month as weeks of 7 cells, Monday first; None pads the first and last week."""
    cells: list[Cell | None] = [None] * first.weekday()
    d = first
    while d <= last:
        info = days.get(d)
        flagged = info is not None and (needs_review(info["flags"]) or d.isoformat() in open_days)
        cells.append(Cell(d, info, flagged, ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d.weekday()] in weekly_off))
        d += timedelta(days=1)
    cells += [None] * (-len(cells) % 7)
    return [cells[i:i + 7] for i in range(0, len(cells), 7)]


def employee_url(employee_id: str, month: date, day: date | None = None, anchor: str = "") -> str:
    query = {"month": month.isoformat()[:7]} | ({"day": day.isoformat()} if day else {})
    return f"/employees/{employee_id}?{urlencode(query)}" + (f"#{anchor}" if anchor else "")


def _day_url(employee_id: str, day: date | str) -> str:
    """A day's link: its month's calendar with the day's timeline (scrolled to it)."""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return employee_url(employee_id, d.replace(day=1), d, "day")


def _month_totals(emp: dict, site: dict, n_days: int, days: dict[date, dict]) -> EmployeeMonth:
    """The month's figures as the monthly report defines them (payable days and working days included)."""
    c = month_counts(days)
    return EmployeeMonth(
        employee_id=emp["employee_id"], name=emp["name"], site_id=emp["site_id"], site_name=site["name"],
        district=site["district"], days=n_days, recorded=len(days), present=c["present"], late=c["late"],
        half_day=c["half_day"], half_day_leave=c["half_day_leave"], on_leave=c["on_leave"], on_tour=c["on_tour"],
        holiday=c["holiday"], weekly_off=c["weekly_off"], absent=c["absent"], pending=c["pending"],
        not_employed=c["not_employed"], not_live=c["not_live"])


def _choices(raw_month: str | None, raw_day: str | None, today: date, _) -> tuple[Choice, Choice]:
    """?month= and ?day= checked together: a day alone picks its month; a month alone its last day so far."""
    day = choose_day(raw_day, today, _, default=None)
    month = choose_month(raw_month, today, _)
    if not raw_month and day.error is None and day.value is not None and raw_day:
        month = Choice(day.value.replace(day=1), "")
    if month.error is not None or day.error is not None:
        return month, day
    first = month.value
    if not raw_day:
        return month, Choice(min(month_end(first), today), "")
    if not first <= day.value <= month_end(first):
        return month, Choice(None, day.raw, _("%(d)s is not in the month shown (%(m)s).")
                             % {"d": day.raw, "m": first.isoformat()[:7]})
    return month, day


def employee_page(request: Request, conn, user: PageUser, emp: dict, month: Choice, day: Choice, *,
                  status_code: int = 200, reply_error: dict | None = None) -> HTMLResponse:
    tz = request.app.state.config.timezone
    zone = ZoneInfo(tz)
    today = local_today(request)
    site = site_header(conn, emp["site_id"])
    can_reply = user.role is Role.EMPLOYEE and user.principal.employee_id == emp["employee_id"]
    context: dict[str, Any] = {
        "emp": emp, "site": site, "today": today, "month_choice": month, "day_choice": day, "can_reply": can_reply,
        "max_reply": MAX_REPLY, "reply_error": reply_error or {},
        "weekdays": [A_MONDAY + timedelta(days=i) for i in range(7)],
        "local": lambda wire: parse_instant(wire).astimezone(zone) if wire else None, **template_helpers()}
    if month.error is not None or day.error is not None:
        return render_page(request, "employee.html", user, status_code=422, month=None, **context)
    first, last = month.value, month_end(month.value)
    shown = [first + timedelta(days=i) for i in range((min(last, today) - first).days + 1)]
    days = read_employee_days(conn, emp, shown, tz, page_now(request))
    threads = explanation_threads(conn, emp["employee_id"], first, last)
    open_days = {t.day for t in threads if t.awaits_reply}
    rule = shift_of(conn, emp)
    prev_month = (first - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    return render_page(
        request, "employee.html", user, status_code=status_code, month=first, month_last=last,
        weeks=month_weeks(first, last, days, open_days, rule.weekly_off), totals=_month_totals(emp, site, len(shown), days),
        chosen=day.value, chosen_day=days.get(day.value), timeline=day_timeline(conn, emp, day.value, tz),
        threads=threads, absences=month_absences(conn, emp["employee_id"], first, last), shift=rule,
        prev_url=employee_url(emp["employee_id"], prev_month) if prev_month >= FIRST_DAY else None,
        next_url=employee_url(emp["employee_id"], following) if following <= today else None,
        day_url=lambda d: _day_url(emp["employee_id"], d), **context)


@router.get("/employees/{employee_id}", response_class=HTMLResponse)
def get_employee_page(request: Request, conn: Conn, user: AnyoneOnPage, employee_id: str, month: str | None = None,
                      day: str | None = None) -> HTMLResponse:
    emp = check_employee_access(conn, user.principal, employee_id)  # an employee: themselves only
    month_choice, day_choice = _choices(month, day, local_today(request), translations(user.language).gettext)
    return employee_page(request, conn, user, emp, month_choice, day_choice)


@router.post("/employees/{employee_id}/explanations/{request_id}/reply", response_model=None)
def post_reply(request: Request, conn: Conn, user: AnyoneOnPage, form: CheckedForm, employee_id: str,
               request_id: int) -> Response:
    """The employee's reply to one of their explanation requests (the domain's reply, as the API's)."""
    if user.role is not Role.EMPLOYEE or user.principal.employee_id != employee_id:
        raise Forbidden("only the employee replies to their own explanation requests")
    emp = check_employee_access(conn, user.principal, employee_id)
    req = get_request(conn, request_id)
    if req["employee_id"] != employee_id:
        raise NotFound(f"explanation request {request_id} does not exist")
    text = form.get("reply", "")
    try:
        body = ExplanationReply(reply=text)
    except ValidationError:
        _ = translations(user.language).gettext
        stripped = text.strip()
        too_long = _("Your reply is %(n)d characters long; it may be at most %(max)d.")
        why = _("Write your reply before sending it.") if not stripped else too_long % {"n": len(stripped), "max": MAX_REPLY}
        day = date.fromisoformat(req["day"])
        return employee_page(request, conn, user, emp, Choice(day.replace(day=1), ""), Choice(day, ""),
                             status_code=422, reply_error={"id": request_id, "message": why, "text": text})
    reply(conn, request_id, body.reply, actor=user.principal.label)
    day = date.fromisoformat(req["day"])
    return RedirectResponse(employee_url(employee_id, day.replace(day=1), day, f"thread-{request_id}"),
                            status_code=303, headers=PAGE_HEADERS)
