"""/api/v1/holidays, /leave, /tours: the days the rules must not count as absent."""

from fastapi import APIRouter, Request, status

from central_server.access.tokens import Principal, Role
from central_server.api.deps import (
    Anyone,
    Conn,
    Supervisor,
    check_employee_access,
    check_site_scope,
    scoped_query,
)
from central_server.attendance.rules.recompute import recompute_stored
from central_server.db.schema import leaves, tours
from central_server.errors import Forbidden
from central_server.org.employees import add_absence, add_holiday, list_absences, list_holidays
from central_server.org.schemas import AbsenceCreate, HolidayCreate, LeaveCreate, TourCreate

router = APIRouter(prefix="/api/v1", tags=["leave"])


@router.post("/holidays", status_code=status.HTTP_201_CREATED)
def post_holiday(body: HolidayCreate, request: Request, conn: Conn, who: Supervisor) -> dict:
    """A holiday for one site, or for every site (state admin only)."""
    if body.site_id is None and who.role is not Role.STATE_ADMIN:
        raise Forbidden("only a state admin declares a holiday for all sites")
    check_site_scope(who, body.site_id)
    row = add_holiday(conn, body.day, body.name, body.site_id, actor=who.label)
    # An input of that day changed: the days already stored are recomputed by their one owner.
    recompute_stored(conn, body.day, body.day, request.app.state.config.timezone, site_id=body.site_id)
    return row


@router.get("/holidays")
def get_holidays(conn: Conn, who: Anyone, year: int | None = None) -> list[dict]:
    return list_holidays(conn, who.site_id, year)


def _post(request: Request, conn, who: Principal, table, body: AbsenceCreate) -> dict:
    check_employee_access(conn, who, body.employee_id)
    row = add_absence(conn, table, body.model_dump(), actor=who.label)
    # An input of those days changed: the days already stored are recomputed by their one owner.
    recompute_stored(conn, body.from_day, body.to_day, request.app.state.config.timezone,
                     employee_id=body.employee_id)
    return row


@router.post("/leave", status_code=status.HTTP_201_CREATED)
def post_leave(body: LeaveCreate, request: Request, conn: Conn, who: Supervisor) -> dict:
    """Leave as granted by the office (approved=false keeps a request on file without effect)."""
    return _post(request, conn, who, leaves, body)


@router.post("/tours", status_code=status.HTTP_201_CREATED)
def post_tour(body: TourCreate, request: Request, conn: Conn, who: Supervisor) -> dict:
    return _post(request, conn, who, tours, body)


@router.get("/leave")
def get_leave(conn: Conn, who: Anyone, site_id: str | None = None, employee_id: str | None = None) -> list[dict]:
    return list_absences(conn, leaves, *scoped_query(who, site_id, employee_id))


@router.get("/tours")
def get_tours(conn: Conn, who: Anyone, site_id: str | None = None, employee_id: str | None = None) -> list[dict]:
    return list_absences(conn, tours, *scoped_query(who, site_id, employee_id))
