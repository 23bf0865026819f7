"""/reports: the attendance reports of the offices a person may see (an employee: their own rows), chosen by
filters above a preview of the table (the first rows), with downloads in CSV, XLSX and (monthly) PDF.

Every table is built by the API's own functions (api/reports.py: resolve_scope, build_monthly, build_muster,
table_response; reports/export.py for the monthly workbook and PDF), so a page download and an API download of the
same report hold the same rows. Reading a report computes the days nobody computed yet, as the API does; here that
happens inside a savepoint rolled back afterwards, so opening the page or downloading writes nothing."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from central_server.access.tokens import Principal, Role
from central_server.api.deps import Conn, sites_visible_to
from central_server.api.reports import MEDIA, check_format, monthly_response, resolve_scope, table_response
from central_server.attendance.day import parse_day
from central_server.closing.month_close import closed_month, scope_site
from central_server.org.directory import site_directory
from central_server.org.employees import get_employee
from central_server.reports import (
    MonthlyReport,
    ReportInputError,
    ReportScope,
    build_monthly,
    build_muster,
    day_period,
    month_period,
)
from central_server.reports.export import monthly_pdf_bytes, monthly_sheets
from central_server.reports.monthly import ABSENT_COLUMNS, LATE_COLUMNS, MONTHLY_COLUMNS, ROLLUP_COLUMNS
from central_server.reports.muster import MUSTER_COLUMNS
from central_server.web.deps import PageUser, ReportReaderOnPage
from central_server.web.i18n import N_, translations
from central_server.web.render import render_page

router = APIRouter(tags=["web"], include_in_schema=False)

PREVIEW_ROWS = 100
KINDS = {"monthly": N_("Monthly attendance and salary"), "muster": N_("Muster roll (one day)"),
         "rollup": N_("District roll-up"), "late": N_("Late arrivals"), "absent": N_("Absences")}
FORMATS = {"monthly": ("csv", "xlsx", "pdf"), "muster": ("csv", "xlsx"), "rollup": ("csv", "xlsx"),
           "late": ("csv", "xlsx"), "absent": ("csv", "xlsx")}
COLUMNS = {"monthly": MONTHLY_COLUMNS, "muster": MUSTER_COLUMNS, "rollup": ROLLUP_COLUMNS, "late": LATE_COLUMNS,
           "absent": ABSENT_COLUMNS}
# Column headings as people read them (the files keep the API's column names).
HEADINGS = {
    "district": N_("District"), "site_id": N_("Office code"), "office": N_("Office"),
    "employee_id": N_("Employee code"), "name": N_("Employee"), "days": N_("Days"),
    "working_days": N_("Working days"), "present": N_("Present"), "half_days": N_("Half day"),
    "leave": N_("On leave"), "tour": N_("On tour"), "absent": N_("Absent"), "late_count": N_("Late"),
    "holidays": N_("Holiday"), "weekly_offs": N_("Weekly off"), "pending": N_("Pending"),
    "not_recorded": N_("Not recorded"), "payable_days": N_("Payable days"), "level": N_("Level"),
    "employees": N_("Employees"), "day": N_("Date"), "first_in": N_("First IN"), "last_out": N_("Last OUT"),
    "late_minutes": N_("Minutes late"), "hours": N_("Hours worked"), "status": N_("Status"), "late": N_("Late"),
    "remarks": N_("Remarks"), "flags": N_("Flags"),
}
NUMERIC = frozenset({"days", "working_days", "present", "half_days", "leave", "tour", "absent", "late_count",
                     "holidays", "weekly_offs", "pending", "not_recorded", "payable_days", "employees",
                     "late_minutes", "hours"})
# Status marks beside the headings of the columns that count a status (ui.md: never colour alone).
HEADING_MARKS = {"present": "present", "half_days": "half_day", "leave": "on_leave", "tour": "on_tour",
                 "absent": "absent", "late_count": "late", "holidays": "holiday", "weekly_offs": "weekly_off",
                 "pending": "pending"}
# Characters no file system takes in a name (and commas, spaces): a download's name turns them into '-'.
UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|,;\s]+')
LEVELS = {"office": N_("Office"), "district": N_("District"), "total": N_("Total")}


@dataclass(frozen=True)
class ReportAsk:
    """What the filters ask for (as typed: checked when the report is built)."""

    kind: str
    month: str
    day: str
    site_id: str | None
    district: str | None

    def query(self, **extra: str) -> str:
        params = {"kind": self.kind, "month": self.month, "day": self.day, "site_id": self.site_id or "",
                  "district": self.district or "", **extra}
        return urlencode({k: v for k, v in params.items() if v})


@dataclass
class ReportTable:
    """One report as a table: the API's columns and rows, what it covers, and the report behind it."""

    kind: str
    columns: tuple[str, ...]
    rows: list[tuple]
    scope: ReportScope
    period: str  # YYYY-MM, or YYYY-MM-DD for the muster roll
    monthly: MonthlyReport | None = None

    @property
    def file_stem(self) -> str:
        """The API's file name (ASCII: codes, not names)."""
        return f"{self.kind}-{self.scope.file_label}-{self.period}"


class FilterError(ReportInputError):
    """A filter that cannot be used: `field` is the one to mark on the form."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def read_ask(kind: str, month: str, day: str, site_id: str, district: str, today: date) -> ReportAsk:
    """The filters with their defaults: the monthly report of this month, today's muster roll."""
    return ReportAsk(kind if kind in KINDS else "monthly", month or today.strftime("%Y-%m"),
                     day or today.isoformat(), site_id or None, district or None)


@contextmanager
def rolled_back(conn: sa.Connection) -> Iterator[None]:
    """Whatever the report code stores (days it computed) is undone: a read writes nothing."""
    savepoint = conn.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


def build_table(conn: sa.Connection, who: Principal, ask: ReportAsk, tz: str, now: datetime) -> ReportTable:
    """The report asked for, by the API's functions, for what the caller may see (403 outside it)."""
    if ask.site_id and ask.district:
        raise FilterError("district", N_("Choose an office or a district, not both."))
    scope = resolve_scope(conn, who, ask.site_id, ask.district, None)
    if ask.kind == "muster":
        try:
            when = day_period(parse_day(ask.day, "day"), now.date()).first
        except ReportInputError as e:
            raise FilterError("day", N_("Choose a day up to today.")) from e
        muster = build_muster(conn, when, scope, tz, now=now)
        return ReportTable("muster", MUSTER_COLUMNS, muster.rows, scope, when.isoformat())
    try:
        period = month_period(ask.month, now.date())
    except ReportInputError as e:
        raise FilterError("month", N_("Choose a month that has begun.")) from e
    report = build_monthly(conn, period, scope, tz, now=now)
    rows = {"monthly": report.rows, "rollup": report.rollup, "late": lambda: report.late,
            "absent": lambda: report.absent}[ask.kind]()
    return ReportTable(ask.kind, COLUMNS[ask.kind], rows, scope, ask.month, report)


def scope_name(conn: sa.Connection, scope: ReportScope) -> str:
    """Whose report it is, as people name it: the employee, the office, the district, or all offices."""
    if scope.employee_id:
        emp = get_employee(conn, scope.employee_id)
        return emp["name"] if emp else scope.employee_id
    site = scope.site_id or (min(scope.site_ids) if scope.site_ids is not None and len(scope.site_ids) == 1 else None)
    if site:
        found = site_directory(conn, {site})
        return found[0]["name"] if found else site
    return scope.district or "all"


def download_name(conn: sa.Connection, table: ReportTable, fmt: str) -> str:
    """kind-<whose>-<period>.<fmt> with Hindi names whole: only what a file name cannot hold becomes '-'."""
    whose = UNSAFE_IN_NAMES.sub("-", scope_name(conn, table.scope)).strip("-") or "all"
    return f"{table.kind}-{whose}-{table.period}.{fmt}"


def content_disposition(ascii_name: str, name: str) -> str:
    """attachment; the ASCII name for old clients and, when the name is not ASCII, RFC 6266's filename*."""
    if name.isascii():
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def table_file(table: ReportTable, fmt: str) -> Response:
    """The table as the API answers it: table_response for CSV and XLSX (the monthly workbook with all its
    sheets), the monthly PDF from reports.export."""
    if fmt == "pdf":
        assert table.monthly is not None
        return Response(monthly_pdf_bytes(table.monthly), media_type=MEDIA["pdf"])
    sheets = (lambda: monthly_sheets(table.monthly)) if table.kind == "monthly" and table.monthly else None
    return table_response(fmt, table.file_stem, table.columns, table.rows, sheets)


def monthly_download(conn: sa.Connection, who: Principal, month: str, site_id: str | None, district: str | None,
                     fmt: str, *, tz: str, now: datetime) -> tuple[ReportTable, Response]:
    """The monthly report file exactly as GET /api/v1/reports/monthly answers it (one office's closed month:
    the bytes frozen at the close)."""
    if site_id and district:
        raise FilterError("district", N_("Choose an office or a district, not both."))
    try:
        scope, response = monthly_response(conn, who, month, site_id or None, district or None, None, fmt,
                                           tz=tz, now=now)
    except ReportInputError as e:
        raise FilterError("month", N_("Choose a month that has begun.")) from e
    return ReportTable("monthly", COLUMNS["monthly"], [], scope, month), response


def named_download(conn: sa.Connection, table: ReportTable, response: Response, fmt: str) -> Response:
    response.headers["Content-Disposition"] = content_disposition(f"{table.file_stem}.{fmt}",
                                                                  download_name(conn, table, fmt))
    response.headers["Cache-Control"] = "no-store"  # attendance and salary figures: not kept by proxies
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def closed_note(conn: sa.Connection, table: ReportTable | None) -> dict | None:
    """When and by whom one office's month shown was closed ("this is the frozen report"), else None."""
    if table is None or table.kind != "monthly" or len(table.period) != 7:
        return None
    site = scope_site(table.scope)
    return closed_month(conn, site, table.period) if site is not None else None


def filter_choices(conn: sa.Connection, who: Principal) -> dict:
    """The offices (and, state-wide, the districts) a person may pick; an employee picks neither."""
    if who.role is Role.EMPLOYEE:
        return {"offices": [], "districts": []}
    offices = site_directory(conn, sites_visible_to(conn, who))
    districts = sorted({o["district"] for o in offices if o["district"]}) if who.site_id is None else []
    return {"offices": offices, "districts": districts}


def preview_columns(table: ReportTable) -> list[int]:
    """The columns the preview shows: all but the office's own when every row is of one office (the heading
    names it); the files keep every column."""
    if "site_id" not in table.columns or len({r[table.columns.index("site_id")] for r in table.rows}) > 1:
        return list(range(len(table.columns)))
    return [i for i, c in enumerate(table.columns) if c not in ("district", "site_id", "office")]


def _now(request: Request) -> tuple[str, datetime]:
    tz = request.app.state.config.timezone
    return tz, datetime.now(ZoneInfo(tz))


@router.get("/reports", response_class=HTMLResponse)
def get_reports(request: Request, conn: Conn, user: ReportReaderOnPage, kind: str = "monthly", month: str = "",
                day: str = "", site_id: str = "", district: str = "") -> HTMLResponse:
    """The filters, a preview of the report's first rows and its downloads (reads only)."""
    tz, now = _now(request)
    ask = read_ask(kind, month, day, site_id, district, now.date())
    table, errors = None, {}
    try:
        with rolled_back(conn):
            table = build_table(conn, user.principal, ask, tz, now)
    except FilterError as e:
        errors[e.field] = translations(user.language).gettext(str(e))
    return render_page(request, "reports.html", user, status_code=422 if errors else 200, ask=ask, table=table,
                       errors=errors, kinds=KINDS, formats=FORMATS[ask.kind], headings=HEADINGS, numeric=NUMERIC,
                       heading_marks=HEADING_MARKS, levels=LEVELS, preview_rows=PREVIEW_ROWS,
                       whose=scope_name(conn, table.scope) if table else "", closed=closed_note(conn, table),
                       shown=preview_columns(table) if table else [],
                       **filter_choices(conn, user.principal))


def _download(conn: sa.Connection, user: PageUser, ask: ReportAsk, fmt: str, tz: str,
              now: datetime) -> Response:
    check_format(fmt, FORMATS[ask.kind])
    with rolled_back(conn):
        if ask.kind == "monthly":
            table, response = monthly_download(conn, user.principal, ask.month, ask.site_id, ask.district, fmt,
                                               tz=tz, now=now)
        else:
            table = build_table(conn, user.principal, ask, tz, now)
            response = table_file(table, fmt)
    return named_download(conn, table, response, fmt)


@router.get("/reports/download")
def get_download(request: Request, conn: Conn, user: ReportReaderOnPage, kind: str = "monthly",
                 format: str = "csv", month: str = "", day: str = "", site_id: str = "",
                 district: str = "") -> Response:
    """One report as a file, with the session (no token in the URL): what the preview shows, every row."""
    tz, now = _now(request)
    if kind not in KINDS:
        raise FilterError("kind", f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    return _download(conn, user, read_ask(kind, month, day, site_id, district, now.date()), format, tz, now)
