"""/api/v1/holidays, /leave, /tours: the days the rules must not count as absent."""

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, status

from central_server.access.tokens import Role
from central_server.api.deps import Conn, check_site_scope
from central_server.api.domain_schemas import HolidayCreate, LeaveCreate, TourCreate
from central_server.api.scope import Anyone, Supervisor, check_employee_access, scoped_query
from central_server.db.schema import employees, holidays, leaves, tours
from central_server.org.employees import add_absence, add_holiday
from central_server.org.registry import NotRegistered

router = APIRouter(prefix="/api/v1", tags=["leave"])


@router.post("/holidays", status_code=status.HTTP_201_CREATED)
def post_holiday(body: HolidayCreate, conn: Conn, who: Supervisor) -> dict:
    """A holiday for one site, or for every site (state admin only)."""
    if body.site_id is None and who.role is not Role.STATE_ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only a state admin declares a holiday for all sites")
    check_site_scope(who, body.site_id)
    try:
        return add_holiday(conn, body.day, body.name, body.site_id, actor=who.label)
    except NotRegistered as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(e)) from e


@router.get("/holidays")
def get_holidays(conn: Conn, who: Anyone, year: int | None = None) -> list[dict]:
    q = sa.select(holidays).order_by(holidays.c.day)
    if who.site_id is not None:
        q = q.where(sa.or_(holidays.c.site_id.is_(None), holidays.c.site_id == who.site_id))
    if year is not None:
        q = q.where(holidays.c.day.like(f"{year:04d}-%"))
    return [dict(r._mapping) for r in conn.execute(q)]


def _post(conn, who, table, body) -> dict:
    check_employee_access(conn, who, body.employee_id)
    return add_absence(conn, table, body.model_dump(), actor=who.label)


@router.post("/leave", status_code=status.HTTP_201_CREATED)
def post_leave(body: LeaveCreate, conn: Conn, who: Supervisor) -> dict:
    """Leave as granted by the office (approved=false keeps a request on file without effect)."""
    return _post(conn, who, leaves, body)


@router.post("/tours", status_code=status.HTTP_201_CREATED)
def post_tour(body: TourCreate, conn: Conn, who: Supervisor) -> dict:
    return _post(conn, who, tours, body)


def _list(conn, who, table, site_id, employee_id) -> list[dict]:
    site_id, employee_id = scoped_query(who, site_id, employee_id)
    q = sa.select(table).join(employees, employees.c.employee_id == table.c.employee_id).order_by(table.c.from_day)
    if site_id is not None:
        q = q.where(employees.c.site_id == site_id)
    if employee_id is not None:
        q = q.where(table.c.employee_id == employee_id)
    return [dict(r._mapping) for r in conn.execute(q)]


@router.get("/leave")
def get_leave(conn: Conn, who: Anyone, site_id: str | None = None, employee_id: str | None = None) -> list[dict]:
    return _list(conn, who, leaves, site_id, employee_id)


@router.get("/tours")
def get_tours(conn: Conn, who: Anyone, site_id: str | None = None, employee_id: str | None = None) -> list[dict]:
    return _list(conn, who, tours, site_id, employee_id)
