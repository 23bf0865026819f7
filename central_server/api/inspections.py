"""/api/v1/inspections: field inspections by staff on tour (their own), the list and per-officer counts for
their seniors, and whether a site keeps the photos."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from central_server.access.tokens import Principal, Role
from central_server.api.deps import (
    Anyone,
    Conn,
    EmployeeOnly,
    LocationReader,
    SiteManager,
    check_employee_access,
    check_site_scope,
    only_own_employee,
    own_employee_id,
    scoped_sites,
)
from central_server.attendance.day import day_bounds, parse_day
from central_server.errors import Forbidden
from central_server.field.inspections import (
    list_inspections,
    officer_summary,
    record_inspection,
    set_keep_photos,
)
from central_server.field.schemas import (
    FLAGS,
    InspectionCreate,
    InspectionPublic,
    OfficerSummary,
    PhotoPolicy,
)

router = APIRouter(prefix="/api/v1/inspections", tags=["inspections"])


@router.post("", response_model=InspectionPublic,
             responses={200: {"description": "a resend of an earlier idempotency key: the first result"},
                        201: {"description": "stored"}, 422: {"description": "bad input; the field is named"}})
def post_inspection(body: InspectionCreate, request: Request, response: Response, conn: Conn,
                    who: EmployeeOnly) -> dict:
    """Flags: `repeat_village` (more than access.repeat_village_visits visits by this officer to the village,
    by block and name, within access.repeat_village_days days; defaults 3 in 30), `no_tour` (no approved tour
    covers the day), `accuracy_too_poor` (> 100 m), `device_clock_skew`, `queued_offline` (as for check-ins)."""
    emp = check_employee_access(conn, who, own_employee_id(who))
    if not emp["active"]:
        raise Forbidden(f"employee {emp['employee_id']} is not active")
    access = request.app.state.config.access
    result = record_inspection(conn, emp, body.model_dump(), datetime.now(UTC), actor=who.label,
                               tz=request.app.state.config.timezone, repeat_visits=access.repeat_village_visits,
                               repeat_days=access.repeat_village_days)
    response.status_code = status.HTTP_200_OK if result["replayed"] else status.HTTP_201_CREATED
    return result


def _bounds(request: Request, since: str | None, until: str | None) -> tuple[str | None, str | None]:
    tz = request.app.state.config.timezone
    lo = None if since is None else day_bounds(parse_day(since, "since/until"), tz)[0]
    hi = None if until is None else day_bounds(parse_day(until, "since/until"), tz)[1]
    return lo, hi


def _scoped(request: Request, conn: Conn, who: Principal, site_id, employee_id, since, until,
            flag=None) -> list[dict]:
    if who.role is Role.EMPLOYEE:
        employee_id = only_own_employee(who, employee_id)
    visible = scoped_sites(conn, who, site_id)
    lo, hi = _bounds(request, since, until)
    return list_inspections(conn, sites=visible, employee_id=employee_id, lo=lo, hi=hi, flag=flag)


Since = Annotated[str | None, Query(description="first local day, YYYY-MM-DD")]
Until = Annotated[str | None, Query(description="last local day, YYYY-MM-DD")]


@router.get("", response_model=list[InspectionPublic])
def get_inspections(request: Request, conn: Conn, who: LocationReader, site_id: str | None = None,
                    employee_id: str | None = None, since: Since = None, until: Until = None,
                    flag: FLAGS | None = None) -> list[dict]:
    """Newest first (at most 1000): an employee sees their own, site roles their site, a district officer
    the sites of their district."""
    return _scoped(request, conn, who, site_id, employee_id, since, until, flag)


@router.get("/officers", response_model=list[OfficerSummary])
def get_officer_summary(request: Request, conn: Conn, who: Anyone, site_id: str | None = None,
                        employee_id: str | None = None, since: Since = None, until: Until = None) -> list[dict]:
    """Per officer in scope: inspections and how many were flagged repeat_village, most flagged first."""
    return officer_summary(_scoped(request, conn, who, site_id, employee_id, since, until))


@router.put("/settings/{site_id}", response_model=PhotoPolicy)
def put_photo_policy(site_id: str, body: PhotoPolicy, conn: Conn, who: SiteManager) -> dict:
    """Whether this site keeps inspection photos (default: no, only their sha256 and size)."""
    check_site_scope(who, site_id)
    set_keep_photos(conn, site_id, body.keep_photos, actor=who.label)
    return body.model_dump()
