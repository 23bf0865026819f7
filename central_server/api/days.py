"""/api/v1/days: each employee's status for a local day (read, never written here), and recompute for admins."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from central_server.api.deps import Anyone, Conn, ItStaff, scoped_query
from central_server.attendance.day import parse_day
from central_server.attendance.rules.recompute import public_day, read_days, recompute_days
from central_server.attendance.schemas import DayPublic, RecomputeRequest

router = APIRouter(prefix="/api/v1/days", tags=["days"])


@router.get("", response_model=list[DayPublic])
def get_days(request: Request, conn: Conn, who: Anyone,
             date: Annotated[str, Query(description="local day, YYYY-MM-DD")],
             site_id: str | None = None, employee_id: str | None = None) -> list[dict]:
    """Statuses: present, late, half_day, absent, on_leave, on_tour, holiday, weekly_off, pending (the
    shift has not ended and there is no IN yet). The stored day once its shift is over, else computed from
    the records as they are now (nothing is stored by a read)."""
    day = parse_day(date, "date")
    site_id, employee_id = scoped_query(who, site_id, employee_id)
    return read_days(conn, day, request.app.state.config.timezone, site_id=site_id, employee_id=employee_id)


@router.post("/recompute", response_model=list[DayPublic])
def post_recompute(body: RecomputeRequest, request: Request, conn: Conn, who: ItStaff) -> list[dict]:
    """Recompute and store days (after a kiosk that was offline for days synced late, or a rule change)."""
    days = [parse_day(d, "dates") for d in body.dates]
    results = recompute_days(conn, body.employee_id, days, request.app.state.config.timezone,
                             site_id=body.site_id)
    return [public_day(emp, r) for emp, r in results]
