"""/api/v1/explanations: requests raised by the rules; the employee replies, a supervisor decides."""

from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Request, status

from central_server.api.deps import Conn
from central_server.api.domain_schemas import ExplanationDecision, ExplanationPublic, ExplanationReply
from central_server.api.scope import Anyone, EmployeeOnly, Supervisor, check_employee_access, scoped_query
from central_server.attendance.explanations import (
    ExplanationError,
    ExplanationNotFound,
    decide,
    get_request,
    reply,
)
from central_server.attendance.presence import parse_day
from central_server.attendance.rules.recompute import recompute_days
from central_server.db.schema import employees, explanations

router = APIRouter(prefix="/api/v1/explanations", tags=["explanations"])


@router.get("", response_model=list[ExplanationPublic])
def get_explanations(conn: Conn, who: Anyone,
                     status_: Annotated[Literal["open", "replied", "accepted", "rejected", "withdrawn"] | None,
                                        Query(alias="status")] = None,
                     site_id: str | None = None, employee_id: str | None = None) -> list[dict]:
    site_id, employee_id = scoped_query(who, site_id, employee_id)
    q = (sa.select(explanations).join(employees, employees.c.employee_id == explanations.c.employee_id)
         .order_by(explanations.c.id))
    if site_id is not None:
        q = q.where(employees.c.site_id == site_id)
    if employee_id is not None:
        q = q.where(explanations.c.employee_id == employee_id)
    if status_ is not None:
        q = q.where(explanations.c.status == status_)
    return [dict(r._mapping) for r in conn.execute(q)]


def _load(conn, who, request_id: int) -> dict:
    try:
        req = get_request(conn, request_id)
    except ExplanationNotFound as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(e)) from e
    check_employee_access(conn, who, req["employee_id"])
    return req


@router.post("/{request_id}/reply", response_model=ExplanationPublic)
def post_reply(request_id: int, body: ExplanationReply, conn: Conn, who: EmployeeOnly) -> dict:
    _load(conn, who, request_id)
    try:
        return reply(conn, request_id, body.reply, actor=who.label)
    except ExplanationError as e:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(e)) from e


@router.post("/{request_id}/decision", response_model=ExplanationPublic)
def post_decision(request_id: int, body: ExplanationDecision, request: Request, conn: Conn,
                  who: Supervisor) -> dict:
    """Accept or reject a replied request; an accepted outside-fence check-in then counts for the day."""
    req = _load(conn, who, request_id)
    try:
        out = decide(conn, request_id, body.accept, body.note, actor=who.label)
    except ExplanationError as e:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(e)) from e
    recompute_days(conn, req["employee_id"], [parse_day(req["day"])], request.app.state.config.timezone)
    return out
