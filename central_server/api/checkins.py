"""/api/v1/checkins: mobile geofenced check-ins by field staff (their own), and the list for their seniors."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from central_server.api.deps import (
    Conn,
    EmployeeOnly,
    LocationReader,
    check_employee_access,
    own_employee_id,
    scoped_query,
)
from central_server.attendance.checkins import list_checkins, record_checkin
from central_server.attendance.day import parse_day
from central_server.attendance.schemas import CheckinCreate, CheckinResult
from central_server.errors import Forbidden

router = APIRouter(prefix="/api/v1/checkins", tags=["checkins"])


FLAGS_DOC = """Flags on the answer: `outside_fence` (not within any allowed fence widened by the accuracy,
capped at 100 m; raises an explanation request), `no_geofence`, `accuracy_too_poor` (> 100 m),
`mock_location` (client hint), `impossible_travel` (> 150 km/h from the previous kiosk or mobile event),
`device_clock_skew` (phone clock off by > 5 min), `queued_offline` (taken > 5 min before it was sent; the
original time is kept).

Selfie (`selfie_jpeg_b64`: a base64 JPEG, at most 256 KiB, at least 64 px a side; one that does not decode
is a 422 naming the field and nothing is stored): `selfie_no_face` / `selfie_many_faces` (YuNet found no
face / several), `selfie_mismatch` (SFace 1:1 against the employee's encrypted templates, below the kiosk's
shipped cosine threshold), `selfie_spoof` (the kiosk's passive per-frame liveness cues on the selfie: a
printed photo or a screen), `no_templates` (the employee has no enrolled template: nothing to compare; the
check-in is still recorded), `selfie_reused` (the exact JPEG of an earlier check-in), `selfie_unverified`
(the server's template key could not be read). `selfie_status` sums it up: verified, mismatch, spoof,
no_templates, no_face, many_faces or unverified. The selfie image is never stored: only its sha256 and the
scores. Check-ins flagged outside_fence, no_geofence, mock_location or impossible_travel do not count toward
the day unless an explanation is accepted."""


@router.post("", response_model=CheckinResult, description=FLAGS_DOC,
             responses={200: {"description": "a resend of an earlier idempotency key: the first result"},
                        201: {"description": "stored"}, 422: {"description": "bad input; the field is named"}})
def post_checkin(body: CheckinCreate, request: Request, response: Response, conn: Conn, who: EmployeeOnly) -> dict:
    if body.employee_id != own_employee_id(who):
        raise Forbidden("an employee checks in for themselves only")
    emp = check_employee_access(conn, who, body.employee_id)
    if not emp["active"]:
        raise Forbidden(f"employee {body.employee_id} is not active")
    config = request.app.state.config
    result = record_checkin(conn, emp, body.model_dump(), datetime.now(UTC), tz=config.timezone,
                            actor=who.label, key_path=config.templates_key_path)
    response.status_code = status.HTTP_200_OK if result["replayed"] else status.HTTP_201_CREATED
    return result


@router.get("", response_model=list[CheckinResult])
def get_checkins(request: Request, conn: Conn, who: LocationReader,
                 date: Annotated[str, Query(description="local day, YYYY-MM-DD")],
                 site_id: str | None = None, employee_id: str | None = None) -> list[dict]:
    day = parse_day(date, "date")
    site_id, employee_id = scoped_query(who, site_id, employee_id)
    return list_checkins(conn, day, request.app.state.config.timezone, site_id, employee_id)
