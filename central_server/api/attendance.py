"""/api/v1/attendance: one local day's records, optionally for one site."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from central_server.access.tokens import Principal, Role
from central_server.api.deps import Conn, check_site_scope, require_roles
from central_server.api.schemas import AttendanceDay
from central_server.attendance.presence import day_records, parse_day

router = APIRouter(prefix="/api/v1/attendance", tags=["attendance"])

Viewer = Annotated[Principal, Depends(require_roles(Role.STATE_ADMIN, Role.OFFICE_HEAD))]


@router.get("", response_model=AttendanceDay)
def get_attendance(request: Request, conn: Conn, who: Viewer,
                   date: Annotated[str, Query(description="local day, YYYY-MM-DD")],
                   site_id: str | None = None) -> dict:
    try:
        day = parse_day(date)
    except ValueError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(e)) from e
    site_id = check_site_scope(who, site_id)
    tz = request.app.state.config.timezone
    return {"date": day.isoformat(), "timezone": tz, "site_id": site_id,
            "records": day_records(conn, day, tz, site_id)}
