"""/api/v1/reports: daily muster roll, monthly attendance/salary report, district roll-up, late and absent lists
as CSV (streamed), XLSX, PDF (monthly) or JSON. Each role sees only its offices; an employee only themself.
A closed month's monthly report of one office is served as frozen at the close, with its signature file
(monthly.sig); an open month's shows the adjustments from closed months paid in it (central_server.closing)."""

import io
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from central_server.access.tokens import Principal, Role, district_site_ids
from central_server.api.deps import Conn, ReportReader, check_employee_access, scoped_query, sites_visible_to
from central_server.attendance.day import parse_day
from central_server.closing.files import FORMATS, monthly_file
from central_server.closing.month_close import SIG_SUFFIX, frozen_file, report_adjustments, scope_site
from central_server.errors import Forbidden, Invalid, NotFound
from central_server.org.sites import site_exists
from central_server.reports import (
    ReportScope,
    build_monthly,
    build_muster,
    day_period,
    month_period,
)
from central_server.reports.csv_writer import iter_csv
from central_server.reports.export import monthly_pdf_bytes, monthly_sheets
from central_server.reports.monthly import ABSENT_COLUMNS, LATE_COLUMNS, MONTHLY_COLUMNS, ROLLUP_COLUMNS
from central_server.reports.muster import MUSTER_COLUMNS
from central_server.reports.xlsx_writer import Sheet, write_xlsx

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

# ReportReader: not IT staff. A district officer token with a district sees that district's offices; one
# without a district reads state-wide (as elsewhere in the API).

MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "pdf": "application/pdf", "json": "application/json"}
Month = Annotated[str, Query(description="YYYY-MM; the current month runs to today")]
Site = Annotated[str | None, Query(description="one office or hostel")]
District = Annotated[str | None, Query(description="every office of a district (site_details.district)")]
Employee = Annotated[str | None, Query(description="one employee")]
Format = Annotated[str, Query(description="csv, xlsx or json (monthly also pdf)")]


def check_format(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise Invalid(f"format: {value!r} is not one of {', '.join(allowed)}")
    return value


def resolve_scope(conn: sa.Connection, who: Principal, site_id: str | None, district: str | None,
                  employee_id: str | None) -> ReportScope:
    """What the caller may see of what they asked: 403 outside their offices (a site, or a district officer's
    district), 404 for offices or districts that do not exist."""
    if site_id is not None and district is not None:
        raise Invalid("site_id, district: give one of them, not both")
    if who.role is Role.EMPLOYEE:
        if district is not None:
            raise Forbidden("an employee token sees its own employee only")
        site_id, employee_id = scoped_query(who, site_id, employee_id)
        return ReportScope(site_id=site_id, employee_id=employee_id)
    visible = sites_visible_to(conn, who)  # None: every site
    limit = f"site {who.site_id}" if who.site_id is not None else f"district {who.district}"
    if site_id is not None:
        if visible is not None and site_id not in visible:
            raise Forbidden(f"this token is limited to {limit}")
        if not site_exists(conn, site_id):
            raise NotFound(f"site_id: {site_id!r} is not registered")
        visible = {site_id}
    if district is not None:
        if who.site_id is not None or (who.district is not None
                                       and district.strip().lower() != who.district.strip().lower()):
            raise Forbidden(f"this token is limited to {limit}")
        if not district_site_ids(conn, district):
            raise NotFound(f"district: {district!r} has no registered offices")
    if employee_id is not None:
        check_employee_access(conn, who, employee_id)
    if site_id is None and district is None and who.district is not None:
        district = who.district  # the same offices as `visible`; names the report
    return ReportScope(site_id=site_id, district=district, employee_id=employee_id,
                       site_ids=None if visible is None else frozenset(visible))


def _today(request: Request) -> tuple[str, datetime]:
    tz = request.app.state.config.timezone
    return tz, datetime.now(ZoneInfo(tz))


def table_response(fmt: str, name: str, columns: tuple[str, ...], rows: list[tuple],
                   xlsx: Callable[[], list[Sheet]] | None = None) -> Response:
    """The table as a download: CSV streamed in chunks of rows, XLSX as one workbook, or JSON objects."""
    if fmt == "json":
        return Response(_json(columns, rows), media_type=MEDIA["json"])
    disposition = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "csv":
        return StreamingResponse(iter_csv(columns, rows), media_type=MEDIA["csv"], headers=disposition)
    buf = io.BytesIO()
    write_xlsx(buf, xlsx() if xlsx else [Sheet(name, columns, rows)])
    return Response(buf.getvalue(), media_type=MEDIA["xlsx"], headers=disposition)


def _json(columns: tuple[str, ...], rows: list[tuple]) -> bytes:
    return json.dumps([dict(zip(columns, r, strict=True)) for r in rows]).encode()


@router.get("/muster")
def get_muster(request: Request, conn: Conn, who: ReportReader,
               day: Annotated[str, Query(description="local day, YYYY-MM-DD")], site_id: Site = None,
               district: District = None, employee_id: Employee = None, format: Format = "csv") -> Response:
    """Daily muster roll: per employee first IN, last OUT, hours, status, late, remarks (holiday, leave, tour).
    Days not computed yet are computed by the day rules and stored first."""
    fmt = check_format(format, ("csv", "xlsx", "json"))
    tz, now = _today(request)
    when = day_period(parse_day(day, "day"), now.date()).first
    scope = resolve_scope(conn, who, site_id, district, employee_id)
    muster = build_muster(conn, when, scope, tz, now=now)
    return table_response(fmt, f"muster-{scope.file_label}-{when.isoformat()}", MUSTER_COLUMNS, muster.rows)


def _monthly(request, conn, who, month, site_id, district, employee_id):
    tz, now = _today(request)
    period = month_period(month, now.date())
    scope = resolve_scope(conn, who, site_id, district, employee_id)
    return build_monthly(conn, period, scope, tz, now=now), f"{scope.file_label}-{month}"


def _attachment(filename: str, closed_at: str | None = None) -> dict[str, str]:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if closed_at is not None:
        headers["X-Hajiri-Closed"] = closed_at  # when the month was closed: these are the frozen bytes
    return headers


def monthly_response(conn: sa.Connection, who: Principal, month: str, site_id: str | None, district: str | None,
                     employee_id: str | None, fmt: str, *, tz: str, now: datetime) -> tuple[ReportScope, Response]:
    """The monthly report as a file or JSON, for the API and the reports page alike. One office's closed month
    (CSV, XLSX, PDF) is the file frozen at the close, byte for byte, with X-Hajiri-Closed: <closed_at>; an open
    month's XLSX and PDF add the adjustments from closed months paid in it."""
    period = month_period(month, now.date())
    scope = resolve_scope(conn, who, site_id, district, employee_id)
    name = f"{scope.file_label}-{month}"
    site = scope_site(scope) if fmt in FORMATS else None
    frozen = frozen_file(conn, site, month, fmt) if site is not None else None
    if frozen is not None:  # read as stored: nothing is filled in or computed for a closed month
        return scope, Response(frozen.content, media_type=MEDIA[fmt],
                               headers=_attachment(f"monthly-{name}.{fmt}", frozen.closed_at))
    report = build_monthly(conn, period, scope, tz, now=now)
    adjustments = report_adjustments(conn, report.scope, month) if fmt in ("xlsx", "pdf") else []
    if adjustments:
        return scope, Response(monthly_file(report, fmt, adjustments), media_type=MEDIA[fmt],
                               headers=_attachment(f"monthly-{name}.{fmt}"))
    if fmt == "pdf":
        return scope, Response(monthly_pdf_bytes(report), media_type=MEDIA["pdf"],
                               headers=_attachment(f"monthly-{name}.pdf"))
    return scope, table_response(fmt, f"monthly-{name}", MONTHLY_COLUMNS, report.rows(),
                                 lambda: monthly_sheets(report))


@router.get("/monthly")
def get_monthly(request: Request, conn: Conn, who: ReportReader, month: Month, site_id: Site = None,
                district: District = None, employee_id: Employee = None, format: Format = "csv") -> Response:
    """Monthly attendance/salary report per employee (formula: central_server.reports.monthly). XLSX adds the
    district roll-up, late and absent sheets; PDF adds them as sections. One office's closed month (CSV, XLSX,
    PDF) is the file frozen at the close, byte for byte, with X-Hajiri-Closed: <closed_at>; an open month's XLSX
    and PDF add the adjustments from closed months paid in it."""
    fmt = check_format(format, ("csv", "xlsx", "pdf", "json"))
    tz, now = _today(request)
    return monthly_response(conn, who, month, site_id, district, employee_id, fmt, tz=tz, now=now)[1]


@router.get("/monthly.sig")
def get_monthly_signature(request: Request, conn: Conn, who: ReportReader, month: Month, site_id: Site = None,
                          format: Annotated[str, Query(description="csv, xlsx or pdf")] = "csv") -> Response:
    """The signature file of one office's closed month in one format (JSON: file_sha256, the Ed25519 signature,
    key_id and public key, closed_at, closed_by); check a download with `hajiri server verify-report`."""
    fmt = check_format(format, FORMATS)
    _, now = _today(request)
    month_period(month, now.date())
    if who.role is Role.EMPLOYEE:
        raise Forbidden("the signed file is the whole office's report; an employee token sees its own rows only")
    scope = resolve_scope(conn, who, site_id, None, None)
    site = scope_site(scope)
    if site is None:
        raise Invalid("site_id: a signature file is of one office's closed month; name the office")
    sig = frozen_file(conn, site, month, fmt + SIG_SUFFIX)
    if sig is None:
        raise NotFound(f"month: {month} of site {site} is not closed; only a closed month's files are signed")
    return Response(sig.content, media_type=MEDIA["json"],
                    headers=_attachment(f"monthly-{site}-{month}.{fmt}.sig", sig.closed_at))


@router.get("/rollup")
def get_rollup(request: Request, conn: Conn, who: ReportReader, month: Month, site_id: Site = None,
               district: District = None, format: Format = "csv") -> Response:
    """Totals per office, per district and overall."""
    fmt = check_format(format, ("csv", "xlsx", "json"))
    report, name = _monthly(request, conn, who, month, site_id, district, None)
    return table_response(fmt, f"rollup-{name}", ROLLUP_COLUMNS, report.rollup())


@router.get("/late")
def get_late(request: Request, conn: Conn, who: ReportReader, month: Month, site_id: Site = None,
             district: District = None, employee_id: Employee = None, format: Format = "csv") -> Response:
    """Every late day of the month: first IN (local time) and minutes after the shift's start."""
    fmt = check_format(format, ("csv", "xlsx", "json"))
    report, name = _monthly(request, conn, who, month, site_id, district, employee_id)
    return table_response(fmt, f"late-{name}", LATE_COLUMNS, report.late)


@router.get("/absent")
def get_absent(request: Request, conn: Conn, who: ReportReader, month: Month, site_id: Site = None,
               district: District = None, employee_id: Employee = None, format: Format = "csv") -> Response:
    """Every absent day of the month (no IN, or too little time worked: flags say which)."""
    fmt = check_format(format, ("csv", "xlsx", "json"))
    report, name = _monthly(request, conn, who, month, site_id, district, employee_id)
    return table_response(fmt, f"absent-{name}", ABSENT_COLUMNS, report.absent)
