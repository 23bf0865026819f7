"""/api/v1/explanations: requests raised by the rules; the employee replies, a supervisor decides."""

from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request

from central_server.access.tokens import Principal
from central_server.api.deps import (
    Anyone,
    Conn,
    EmployeeOnly,
    Supervisor,
    check_employee_access,
    scoped_query,
)
from central_server.attendance.day import parse_day
from central_server.attendance.explanations import decide, get_request, list_requests, reply
from central_server.attendance.rules.recompute import recompute_days
from central_server.attendance.schemas import ExplanationDecision, ExplanationPublic, ExplanationReply

router = APIRouter(prefix="/api/v1/explanations", tags=["explanations"])


@router.get("", response_model=list[ExplanationPublic])
def get_explanations(conn: Conn, who: Anyone,
                     status_: Annotated[Literal["open", "replied", "accepted", "rejected", "withdrawn"] | None,
                                        Query(alias="status")] = None,
                     site_id: str | None = None, employee_id: str | None = None) -> list[dict]:
    site_id, employee_id = scoped_query(who, site_id, employee_id)
    return list_requests(conn, site_id=site_id, employee_id=employee_id, status=status_)


def _load(conn: sa.Connection, who: Principal, request_id: int) -> dict:
    """The request if the caller may see its employee (404 when there is none)."""
    req = get_request(conn, request_id)
    check_employee_access(conn, who, req["employee_id"])
    return req


@router.post("/{request_id}/reply", response_model=ExplanationPublic)
def post_reply(request_id: int, body: ExplanationReply, conn: Conn, who: EmployeeOnly) -> dict:
    _load(conn, who, request_id)
    return reply(conn, request_id, body.reply, actor=who.label)


@router.post("/{request_id}/decision", response_model=ExplanationPublic)
def post_decision(request_id: int, body: ExplanationDecision, request: Request, conn: Conn,
                  who: Supervisor) -> dict:
    """Accept or reject a replied request; an accepted outside-fence check-in then counts for the day."""
    req = _load(conn, who, request_id)
    out = decide(conn, request_id, body.accept, body.note, actor=who.label)
    # The decision is an input of the day: its one owner recomputes it.
    recompute_days(conn, req["employee_id"], [parse_day(req["day"])], request.app.state.config.timezone)
    return out
