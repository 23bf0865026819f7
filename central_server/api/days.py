"""/api/v1/days: each employee's status for a local day (computed on read), and recompute for admins."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from central_server.access.tokens import Principal, Role
from central_server.api.deps import Conn, require_roles
from central_server.api.domain_schemas import DayPublic, RecomputeRequest
from central_server.api.scope import Anyone, scoped_query
from central_server.attendance.presence import parse_day
from central_server.attendance.rules.recompute import (
    compute_days,
    public_day,
    recompute_days,
    select_employees,
    store_days,
)

router = APIRouter(prefix="/api/v1/days", tags=["days"])

Staff = Annotated[Principal, Depends(require_roles(Role.STATE_ADMIN, Role.IT_STAFF))]


def _day(value: str, field: str = "date"):
    try:
        return parse_day(value)
    except ValueError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"{field}: {e}") from e


@router.get("", response_model=list[DayPublic])
def get_days(request: Request, conn: Conn, who: Anyone,
             date: Annotated[str, Query(description="local day, YYYY-MM-DD")],
             site_id: str | None = None, employee_id: str | None = None) -> list[dict]:
    """Statuses: present, late, half_day, absent, on_leave, on_tour, holiday, weekly_off, pending (the
    shift has not ended and there is no IN yet). Computed from the records as they are now and stored."""
    day = _day(date)
    site_id, employee_id = scoped_query(who, site_id, employee_id)
    emps = select_employees(conn, site_id=site_id, employee_id=employee_id)
    results = compute_days(conn, emps, [day], request.app.state.config.timezone)
    store_days(conn, results)
    return [public_day(emp, r) for emp, r in results]


@router.post("/recompute", response_model=list[DayPublic])
def post_recompute(body: RecomputeRequest, request: Request, conn: Conn, who: Staff) -> list[dict]:
    """Recompute and store days (after a kiosk that was offline for days synced late, or a rule change)."""
    days = [_day(d, "dates") for d in body.dates]
    results = recompute_days(conn, body.employee_id, days, request.app.state.config.timezone,
                             site_id=body.site_id)
    return [public_day(emp, r) for emp, r in results]
