"""/api/v1/attendance: one local day's records, optionally for one site."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from central_server.api.deps import Conn, OfficeHead, check_site_scope
from central_server.attendance.day import parse_day
from central_server.attendance.presence import day_records
from central_server.attendance.schemas import AttendanceDay

router = APIRouter(prefix="/api/v1/attendance", tags=["attendance"])


@router.get("", response_model=AttendanceDay)
def get_attendance(request: Request, conn: Conn, who: OfficeHead,
                   date: Annotated[str, Query(description="local day, YYYY-MM-DD")],
                   site_id: str | None = None) -> dict:
    day = parse_day(date)
    site_id = check_site_scope(who, site_id)
    tz = request.app.state.config.timezone
    return {"date": day.isoformat(), "timezone": tz, "site_id": site_id,
            "records": day_records(conn, day, tz, site_id)}
