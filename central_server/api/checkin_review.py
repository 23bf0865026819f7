"""POST /api/v1/checkins/{checkin_id}/review: an office head or warden accepts or rejects a flagged mobile
check-in with a short reason; the decision is stored, audited and recomputes the employee's day."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import StringConstraints

from central_server.api.deps import Conn, Supervisor, check_employee_access
from central_server.attendance.checkin_review import MAX_REASON, get_checkin, review_checkin
from hajiri_common.strict import Strict

router = APIRouter(prefix="/api/v1/checkins", tags=["checkins"])


class CheckinReviewBody(Strict):
    """accept: the reviewer vouches for the check-in (its office-area flags no longer keep it out); reject: it
    no longer counts toward the day, whatever its flags."""

    decision: Literal["accept", "reject"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON)]


class CheckinReviewPublic(Strict):
    checkin_id: str
    employee_id: str
    day: str
    decision: str  # accepted | rejected
    reason: str
    reviewed_by: str
    reviewed_at: str


@router.post("/{checkin_id}/review", response_model=CheckinReviewPublic,
             responses={409: {"description": "already reviewed"}, 404: {"description": "no such check-in"}})
def post_checkin_review(checkin_id: str, body: CheckinReviewBody, request: Request, conn: Conn,
                        who: Supervisor) -> dict:
    """Once per check-in; the caller must see the check-in's employee (403 for another site's)."""
    check_employee_access(conn, who, get_checkin(conn, checkin_id)["employee_id"])
    done = review_checkin(conn, checkin_id, body.decision, body.reason, who.label, datetime.now(UTC),
                          tz=request.app.state.config.timezone)
    return done.public()
