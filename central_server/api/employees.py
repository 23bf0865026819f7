"""/api/v1/departments, /shifts, /employees: the register behind the rules, and employee tokens."""

from fastapi import APIRouter, status

from central_server.access.phone_tokens import issue_phone_token, list_phone_tokens, revoke_phone_token
from central_server.access.schemas import PhoneToken, TokenIssued
from central_server.api.deps import (
    Anyone,
    Conn,
    ItStaff,
    OfficeStaff,
    SiteManager,
    StateAdmin,
    check_employee_access,
    check_site_scope,
    scoped_query,
)
from central_server.org.employees import (
    create_department,
    create_employee,
    create_shift,
    fence_sites,
    list_departments,
    list_employees,
    list_shifts,
    set_employee_fences,
    with_fences,
)
from central_server.org.schemas import (
    DepartmentCreate,
    EmployeeCreate,
    EmployeeFences,
    EmployeePublic,
    ShiftCreate,
    ShiftPublic,
)

router = APIRouter(prefix="/api/v1", tags=["employees"])


@router.post("/departments", status_code=status.HTTP_201_CREATED, response_model=DepartmentCreate)
def post_department(body: DepartmentCreate, conn: Conn, who: StateAdmin) -> dict:
    return create_department(conn, body.department_id, body.name, actor=who.label)


@router.get("/departments", response_model=list[DepartmentCreate])
def get_departments(conn: Conn, who: OfficeStaff) -> list[dict]:
    return list_departments(conn)


@router.post("/shifts", status_code=status.HTTP_201_CREATED, response_model=ShiftPublic)
def post_shift(body: ShiftCreate, conn: Conn, who: ItStaff) -> dict:
    return create_shift(conn, body.model_dump(), actor=who.label)


@router.get("/shifts", response_model=list[ShiftPublic])
def get_shifts(conn: Conn, who: OfficeStaff) -> list[dict]:
    return list_shifts(conn)


@router.post("/employees", status_code=status.HTTP_201_CREATED, response_model=EmployeePublic)
def post_employee(body: EmployeeCreate, conn: Conn, who: SiteManager) -> dict:
    check_site_scope(who, body.site_id)
    return create_employee(conn, body.model_dump(), actor=who.label)


@router.get("/employees", response_model=list[EmployeePublic])
def get_employees(conn: Conn, who: Anyone, site_id: str | None = None) -> list[dict]:
    site_id, employee_id = scoped_query(who, site_id, None)
    return list_employees(conn, site_id, employee_id)


@router.get("/employees/{employee_id}", response_model=EmployeePublic)
def get_employee_one(employee_id: str, conn: Conn, who: Anyone) -> dict:
    return with_fences(conn, check_employee_access(conn, who, employee_id))


@router.put("/employees/{employee_id}/geofences", response_model=EmployeePublic)
def put_employee_fences(employee_id: str, body: EmployeeFences, conn: Conn, who: SiteManager) -> dict:
    emp = check_employee_access(conn, who, employee_id)
    for site_id in fence_sites(conn, body.geofence_ids):
        check_site_scope(who, site_id)  # a site-scoped caller hands out their own site's fences only
    set_employee_fences(conn, employee_id, body.geofence_ids, actor=who.label)
    return with_fences(conn, emp)


@router.post("/employees/{employee_id}/token", status_code=status.HTTP_201_CREATED, response_model=TokenIssued)
def post_employee_token(employee_id: str, conn: Conn, who: SiteManager) -> dict:
    """A token for the employee's phone: it may check in and read that employee's own records only. It expires
    in 90 days, is listed below, and is revoked when the login that issued it is disabled."""
    return issue_phone_token(conn, check_employee_access(conn, who, employee_id), who)


@router.get("/employees/{employee_id}/tokens", response_model=list[PhoneToken])
def get_employee_tokens(employee_id: str, conn: Conn, who: SiteManager) -> list[dict]:
    """The employee's phone tokens, newest first: active, expired or revoked (never the token itself)."""
    check_employee_access(conn, who, employee_id)
    return list_phone_tokens(conn, employee_id)


@router.post("/employees/{employee_id}/tokens/{token_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
def post_revoke_employee_token(employee_id: str, token_id: str, conn: Conn, who: SiteManager) -> None:
    """Revoke a phone token (a lost phone, a phone passed on): it stops working at once."""
    check_employee_access(conn, who, employee_id)
    revoke_phone_token(conn, employee_id, token_id, actor=who.label)
