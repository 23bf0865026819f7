"""/api/v1/departments, /shifts, /employees: the register behind the rules, and employee tokens."""

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, status

from central_server.access.tokens import Principal, Role, TokenError, create_token
from central_server.api.deps import Conn, check_site_scope, require_roles
from central_server.api.domain_schemas import (
    DepartmentCreate,
    EmployeeCreate,
    EmployeeFences,
    EmployeePublic,
    ShiftCreate,
    ShiftPublic,
    TokenIssued,
)
from central_server.api.scope import Admin, Anyone, Manager, Reader, check_employee_access, scoped_query
from central_server.db.schema import departments, employees, geofences, shifts
from central_server.org.employees import (
    create_department,
    create_employee,
    create_shift,
    employee_fence_ids,
    set_employee_fences,
    shift_row,
)
from central_server.org.registry import AlreadyExists, NotRegistered, list_rows

router = APIRouter(prefix="/api/v1", tags=["employees"])

Staff = Annotated[Principal, Depends(require_roles(Role.STATE_ADMIN, Role.IT_STAFF))]


def _created(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except AlreadyExists as e:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(e)) from e
    except NotRegistered as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(e)) from e


@router.post("/departments", status_code=status.HTTP_201_CREATED, response_model=DepartmentCreate)
def post_department(body: DepartmentCreate, conn: Conn, who: Admin) -> dict:
    return _created(create_department, conn, body.department_id, body.name, actor=who.label)


@router.get("/departments", response_model=list[DepartmentCreate])
def get_departments(conn: Conn, who: Reader) -> list[dict]:
    return [{"department_id": r["department_id"], "name": r["name"]}
            for r in list_rows(conn, departments, departments.c.department_id)]


@router.post("/shifts", status_code=status.HTTP_201_CREATED, response_model=ShiftPublic)
def post_shift(body: ShiftCreate, conn: Conn, who: Staff) -> dict:
    return _created(create_shift, conn, body.model_dump(), actor=who.label)


@router.get("/shifts", response_model=list[ShiftPublic])
def get_shifts(conn: Conn, who: Reader) -> list[dict]:
    return [shift_row(r) for r in conn.execute(sa.select(shifts).order_by(shifts.c.shift_id))]


@router.post("/employees", status_code=status.HTTP_201_CREATED, response_model=EmployeePublic)
def post_employee(body: EmployeeCreate, conn: Conn, who: Manager) -> dict:
    check_site_scope(who, body.site_id)
    return _created(create_employee, conn, body.model_dump(), actor=who.label)


@router.get("/employees", response_model=list[EmployeePublic])
def get_employees(conn: Conn, who: Anyone, site_id: str | None = None) -> list[dict]:
    site_id, employee_id = scoped_query(who, site_id, None)
    q = sa.select(employees).order_by(employees.c.employee_id)
    if site_id is not None:
        q = q.where(employees.c.site_id == site_id)
    if employee_id is not None:
        q = q.where(employees.c.employee_id == employee_id)
    return [{**dict(r._mapping), "geofence_ids": employee_fence_ids(conn, r.employee_id)} for r in conn.execute(q)]


@router.get("/employees/{employee_id}", response_model=EmployeePublic)
def get_employee_one(employee_id: str, conn: Conn, who: Anyone) -> dict:
    emp = check_employee_access(conn, who, employee_id)
    return {**emp, "geofence_ids": employee_fence_ids(conn, employee_id)}


@router.put("/employees/{employee_id}/geofences", response_model=EmployeePublic)
def put_employee_fences(employee_id: str, body: EmployeeFences, conn: Conn, who: Manager) -> dict:
    emp = check_employee_access(conn, who, employee_id)
    fence_sites = conn.execute(sa.select(geofences.c.site_id).where(
        geofences.c.geofence_id.in_(body.geofence_ids))).scalars().all()
    for site_id in set(fence_sites):
        check_site_scope(who, site_id)  # a site-scoped caller hands out their own site's fences only
    _created(set_employee_fences, conn, employee_id, body.geofence_ids, actor=who.label)
    return {**emp, "geofence_ids": employee_fence_ids(conn, employee_id)}


@router.post("/employees/{employee_id}/token", status_code=status.HTTP_201_CREATED, response_model=TokenIssued)
def post_employee_token(employee_id: str, conn: Conn, who: Manager) -> dict:
    """A token for the employee's phone: it may check in and read that employee's own records only."""
    emp = check_employee_access(conn, who, employee_id)
    try:
        token = create_token(conn, Role.EMPLOYEE, f"phone of {employee_id}", emp["site_id"],
                             employee_id=employee_id, actor=who.label)
    except TokenError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(e)) from e
    return {"employee_id": employee_id, "token": token}
