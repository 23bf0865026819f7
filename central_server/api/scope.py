"""Who may see which employee: employees themselves only, site-scoped roles their site, district officers
their district's sites, the rest all."""

from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, status

from central_server.access.tokens import Principal, Role
from central_server.api.deps import check_site_scope, require_roles, sites_visible_to
from central_server.org.employees import get_employee

MANAGERS = (Role.STATE_ADMIN, Role.IT_STAFF, Role.OFFICE_HEAD, Role.WARDEN)
READERS = (Role.STATE_ADMIN, Role.DISTRICT_OFFICER, Role.IT_STAFF, Role.OFFICE_HEAD, Role.WARDEN)
# Those who judge attendance (accept explanations, grant leave): not IT staff.
SUPERVISORS = (Role.STATE_ADMIN, Role.OFFICE_HEAD, Role.WARDEN)

Admin = Annotated[Principal, Depends(require_roles(Role.STATE_ADMIN))]
Manager = Annotated[Principal, Depends(require_roles(*MANAGERS))]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
Supervisor = Annotated[Principal, Depends(require_roles(*SUPERVISORS))]
Anyone = Annotated[Principal, Depends(require_roles(*READERS, Role.EMPLOYEE))]
EmployeeOnly = Annotated[Principal, Depends(require_roles(Role.EMPLOYEE))]


def forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=detail)


def own_employee_id(who: Principal) -> str:
    if who.employee_id is None:
        raise forbidden("this employee token is not bound to an employee; ask for a new one")
    return who.employee_id


def check_employee_access(conn: sa.Connection, who: Principal, employee_id: str) -> dict:
    """The employee's row if the caller may see it (403 otherwise, 404 if there is no such employee)."""
    if who.role is Role.EMPLOYEE and own_employee_id(who) != employee_id:
        raise forbidden("an employee token sees its own employee only")
    emp = get_employee(conn, employee_id)
    if emp is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"employee {employee_id!r} is not registered")
    check_site_scope(who, emp["site_id"])
    return emp


def scoped_query(who: Principal, site_id: str | None, employee_id: str | None) -> tuple[str | None, str | None]:
    """(site_id, employee_id) a list may cover: employees are pinned to themselves, site roles to their site."""
    if who.role is Role.EMPLOYEE:
        mine = own_employee_id(who)
        if employee_id is not None and employee_id != mine:
            raise forbidden("an employee token sees its own employee only")
        return check_site_scope(who, site_id), mine
    return check_site_scope(who, site_id), employee_id


def scoped_sites(conn: sa.Connection, who: Principal, site_id: str | None) -> set[str] | None:
    """The sites a list may cover: the one asked for (if the caller may see it), else all the caller may
    see (None: every site). Unlike check_site_scope, a district officer needs no site_id here."""
    if site_id is not None:
        return {check_site_scope(who, site_id)}
    return sites_visible_to(conn, who)
