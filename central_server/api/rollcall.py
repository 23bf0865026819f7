"""/api/v1/rollcall: a hostel's live roll-call against its curfew, for its warden."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from central_server.api.deps import Conn, check_site_scope
from central_server.api.scope import Reader
from central_server.attendance.presence import parse_day, today
from central_server.attendance.rollcall import NoCurfew, rollcall
from central_server.attendance.rules.timeline import wire

router = APIRouter(prefix="/api/v1/rollcall", tags=["rollcall"])


@router.get("")
def get_rollcall(request: Request, conn: Conn, who: Reader, site_id: str,
                 date: Annotated[str | None, Query(description="local day, YYYY-MM-DD (default today)")] = None) -> dict:
    """Each resident: in / out / not_seen / on_leave as of now, and whether they were in by the curfew
    (null until it has passed). `not_in_by_curfew` lists those to look for."""
    tz = request.app.state.config.timezone
    site_id = check_site_scope(who, site_id)
    try:
        day = today(tz) if date is None else parse_day(date)
        curfew, as_of, residents = rollcall(conn, site_id, day, tz, datetime.now(UTC))
    except (ValueError, NoCurfew) as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(e)) from e
    rows = [{"employee_id": r.employee_id, "name": r.name, "status": r.status, "last_event": r.last_event,
             "last_time": wire(r.last_time) if r.last_time else None, "in_by_curfew": r.in_by_curfew}
            for r in residents]
    return {"site_id": site_id, "date": day.isoformat(), "curfew": wire(curfew), "as_of": wire(as_of),
            "residents": rows, "not_in_by_curfew": [r["employee_id"] for r in rows if r["in_by_curfew"] is False
                                                    and r["status"] != "on_leave"]}
