"""/api/v1/rollcall: a hostel's live roll-call against its curfew, for its warden."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from central_server.api.deps import Conn, OfficeStaff, check_site_scope
from central_server.attendance.day import parse_day, today
from central_server.attendance.rollcall import rollcall_report

router = APIRouter(prefix="/api/v1/rollcall", tags=["rollcall"])


@router.get("")
def get_rollcall(request: Request, conn: Conn, who: OfficeStaff, site_id: str,
                 date: Annotated[str | None, Query(description="local day, YYYY-MM-DD (default today)")] = None) -> dict:
    """Each resident: in / out / not_seen / on_leave as of now, and whether they were in by the curfew
    (null until it has passed). `not_in_by_curfew` lists those to look for."""
    tz = request.app.state.config.timezone
    site_id = check_site_scope(who, site_id)
    day = today(tz) if date is None else parse_day(date)
    return rollcall_report(conn, site_id, day, tz, datetime.now(UTC))
