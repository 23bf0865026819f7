"""/api/v1/checkins: mobile geofenced check-ins by field staff (their own), and the list for their seniors."""

from datetime import UTC, datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from central_server.api.scope import (
    Anyone,
    EmployeeOnly,
    check_employee_access,
    own_employee_id,
    scoped_query,
)
from central_server.attendance import day_bounds, parse_day
from central_server.checkins import CheckinRejected, public, record_checkin
from central_server.deps import Conn
from central_server.domain_db import checkins, employees
from central_server.domain_schemas import CheckinCreate, CheckinPublic

router = APIRouter(prefix="/api/v1/checkins", tags=["checkins"])

FLAGS_DOC = """Flags on the answer: `outside_fence` (not within any allowed fence widened by the accuracy,
capped at 100 m; raises an explanation request), `no_geofence`, `accuracy_too_poor` (> 100 m),
`mock_location` (client hint), `impossible_travel` (> 150 km/h from the previous kiosk or mobile event),
`device_clock_skew` (phone clock off by > 5 min), `queued_offline` (taken > 5 min before it was sent; the
original time is kept), `selfie_no_face` / `selfie_many_faces` (YuNet found no face / several), `selfie_unverified` (the server
holds no face templates yet: the selfie is checked for one face, not matched to the employee; only its
sha256 is kept). Check-ins flagged outside_fence, no_geofence,
mock_location or impossible_travel do not count toward the day unless an explanation is accepted."""


@router.post("", response_model=CheckinPublic, description=FLAGS_DOC,
             responses={200: {"description": "a resend of an earlier idempotency key: the first result"},
                        201: {"description": "stored"}, 422: {"description": "bad input; the field is named"}})
def post_checkin(body: CheckinCreate, request: Request, response: Response, conn: Conn, who: EmployeeOnly) -> dict:
    if body.employee_id != own_employee_id(who):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="an employee checks in for themselves only")
    emp = check_employee_access(conn, who, body.employee_id)
    if not emp["active"]:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"employee {body.employee_id} is not active")
    try:
        result = record_checkin(conn, emp, body.model_dump(), datetime.now(UTC),
                                tz=request.app.state.config.timezone, actor=who.label)
    except CheckinRejected as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"{e.field}: {e}") from e
    response.status_code = status.HTTP_200_OK if result["replayed"] else status.HTTP_201_CREATED
    return result


@router.get("", response_model=list[CheckinPublic])
def get_checkins(request: Request, conn: Conn, who: Anyone,
                 date: Annotated[str, Query(description="local day, YYYY-MM-DD")],
                 site_id: str | None = None, employee_id: str | None = None) -> list[dict]:
    try:
        day = parse_day(date)
    except ValueError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"date: {e}") from e
    site_id, employee_id = scoped_query(who, site_id, employee_id)
    lo, hi = day_bounds(day, request.app.state.config.timezone)
    q = (sa.select(checkins).join(employees, employees.c.employee_id == checkins.c.employee_id)
         .where(checkins.c.event_time >= lo, checkins.c.event_time < hi).order_by(checkins.c.event_time))
    if site_id is not None:
        q = q.where(employees.c.site_id == site_id)
    if employee_id is not None:
        q = q.where(checkins.c.employee_id == employee_id)
    return [public(r) for r in conn.execute(q)]
