"""FastAPI dependencies: a DB connection per request (one transaction), the callers each route admits (every
role set named once, here), and which sites and employees a caller may see."""

import time
from collections.abc import Callable, Iterator
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request

from central_server.access.tokens import Principal, Role, district_site_ids, lookup_token
from central_server.db.schema import devices
from central_server.errors import Forbidden, Invalid, NotFound, Unauthorized
from central_server.org.employees import get_employee


def get_conn(request: Request) -> Iterator[sa.Connection]:
    """A connection inside a transaction: committed when the endpoint returns, rolled back if it raises."""
    with request.app.state.engine.begin() as conn:
        yield conn


Conn = Annotated[sa.Connection, Depends(get_conn)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def request_clock(request: Request) -> float:
    """Now, in epoch seconds; tests put a settable clock on app.state.clock instead of sleeping."""
    clock = getattr(request.app.state, "clock", None)
    return time.time() if clock is None else clock()


def authorize(conn: sa.Connection, token: str | None, roles: frozenset[Role], *, now: float | None = None) -> Principal:
    """The caller behind the token if their role is one of `roles` (401 without a valid token, 403 wrong role)."""
    if token is None:
        raise Unauthorized("missing credentials: send Authorization: Bearer <token>")
    principal, why = lookup_token(conn, token, now)
    if principal is None:
        raise Unauthorized(why)
    if principal.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise Forbidden(f"role {principal.role.value} may not do this (needs one of: {allowed})")
    return principal


def require_roles(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting only bearer tokens of the given roles, checked in the request's transaction."""
    allowed = frozenset(roles)

    def dependency(request: Request, conn: Conn) -> Principal:
        return authorize(conn, bearer_token(request), allowed, now=request_clock(request))

    return dependency


def require_roles_apart(*roles: Role) -> Callable[..., Principal]:
    """As require_roles, but checked in a transaction of its own, closed before the endpoint runs: endpoints
    that commit their rows and only then publish them (downlinks, notices) cannot hold a request-long
    transaction (SQLite BEGIN IMMEDIATE would lock the publish out)."""
    allowed = frozenset(roles)

    def dependency(request: Request) -> Principal:
        with request.app.state.engine.begin() as conn:
            return authorize(conn, bearer_token(request), allowed, now=request_clock(request))

    return dependency


# Who may do what. Each set is named once; routes name the set, never the roles.
STATE_ADMIN_ROLES = frozenset({Role.STATE_ADMIN})
# IT staff run the kiosks and the server: devices, downlinks, shifts, ingest.
IT_STAFF_ROLES = STATE_ADMIN_ROLES | {Role.IT_STAFF}
# The state admin and office heads: the live attendance views.
OFFICE_HEAD_ROLES = STATE_ADMIN_ROLES | {Role.OFFICE_HEAD}
# IT staff and office heads: the site and people registers, face enrolment, spoof evidence.
IT_STAFF_OR_HEAD_ROLES = IT_STAFF_ROLES | {Role.OFFICE_HEAD}
# Those who keep a site's register (employees, fences, site details): IT staff, office heads, wardens.
SITE_MANAGER_ROLES = IT_STAFF_OR_HEAD_ROLES | {Role.WARDEN}
# Every staff role (all but employees): read the registers and lists of the sites they may see.
OFFICE_STAFF_ROLES = SITE_MANAGER_ROLES | {Role.DISTRICT_OFFICER}
# Those who judge attendance (accept explanations, grant leave, declare holidays): not IT staff.
SUPERVISOR_ROLES = OFFICE_HEAD_ROLES | {Role.WARDEN}
# Officers who hand out work and notices: office heads, district officers, the state admin.
OFFICER_ROLES = OFFICE_HEAD_ROLES | {Role.DISTRICT_OFFICER}
# IT staff run devices, not payroll: every role but IT staff reads reports (an employee: their own).
REPORT_READER_ROLES = SUPERVISOR_ROLES | {Role.DISTRICT_OFFICER, Role.EMPLOYEE}
# Closed months and their adjustments: office heads (the DDO, who closes) and the state admin; district officers
# read them for their district.
PAYROLL_READER_ROLES = OFFICE_HEAD_ROLES | {Role.DISTRICT_OFFICER}
ANY_ROLES = OFFICE_STAFF_ROLES | {Role.EMPLOYEE}
# Where an employee was (check-in GPS): those who judge or supervise their attendance, and the employee; not IT
# staff, who run the machines and have no need to know where anybody stood.
LOCATION_READER_ROLES = SUPERVISOR_ROLES | {Role.DISTRICT_OFFICER, Role.EMPLOYEE}
EMPLOYEE_ROLES = frozenset({Role.EMPLOYEE})

StateAdmin = Annotated[Principal, Depends(require_roles(*STATE_ADMIN_ROLES))]
ItStaff = Annotated[Principal, Depends(require_roles(*IT_STAFF_ROLES))]
ItStaffApart = Annotated[Principal, Depends(require_roles_apart(*IT_STAFF_ROLES))]
OfficeHead = Annotated[Principal, Depends(require_roles(*OFFICE_HEAD_ROLES))]
ItStaffOrHead = Annotated[Principal, Depends(require_roles(*IT_STAFF_OR_HEAD_ROLES))]
SiteManager = Annotated[Principal, Depends(require_roles(*SITE_MANAGER_ROLES))]
OfficeStaff = Annotated[Principal, Depends(require_roles(*OFFICE_STAFF_ROLES))]
Supervisor = Annotated[Principal, Depends(require_roles(*SUPERVISOR_ROLES))]
Officer = Annotated[Principal, Depends(require_roles(*OFFICER_ROLES))]
OfficerApart = Annotated[Principal, Depends(require_roles_apart(*OFFICER_ROLES))]
ReportReader = Annotated[Principal, Depends(require_roles(*REPORT_READER_ROLES))]
PayrollReader = Annotated[Principal, Depends(require_roles(*PAYROLL_READER_ROLES))]
Anyone = Annotated[Principal, Depends(require_roles(*ANY_ROLES))]
LocationReader = Annotated[Principal, Depends(require_roles(*LOCATION_READER_ROLES))]
EmployeeOnly = Annotated[Principal, Depends(require_roles(*EMPLOYEE_ROLES))]


def check_site_scope(principal: Principal, site_id: str | None) -> str | None:
    """The site a caller may look at: their own if their token is site-scoped, else what they asked.

    A district officer may name any site of their district; without a site_id they get their district's only
    site, and a 422 asking for one when it has several (a None here would mean every site in the state).
    List endpoints that can cover several sites use sites_visible_to instead."""
    if principal.district_sites is not None:
        return _district_site(principal, site_id)
    if principal.site_id is None:
        return site_id
    if site_id is not None and site_id != principal.site_id:
        raise Forbidden(f"this token is limited to site {principal.site_id}")
    return principal.site_id


def _district_site(principal: Principal, site_id: str | None) -> str:
    visible = principal.district_sites or frozenset()
    if site_id is not None:
        if site_id not in visible:
            raise Forbidden(f"this token is limited to district {principal.district}")
        return site_id
    if len(visible) == 1:
        return next(iter(visible))
    if not visible:
        raise Forbidden(f"district {principal.district} has no sites yet")
    raise Invalid(f"site_id: district {principal.district} has {len(visible)} sites; name one of "
                  f"{', '.join(sorted(visible))}")


def check_device_scope(conn: sa.Connection, principal: Principal, device_ids: list[str]) -> None:
    """A site-scoped caller (an IT login for one office) acts on its own site's kiosks only. Another site's
    kiosk answers as an unknown one (404), so its name and site are not confirmed to the caller."""
    visible = sites_visible_to(conn, principal)
    if visible is None:
        return
    rows = conn.execute(sa.select(devices.c.device_id, devices.c.site_id).where(
        devices.c.device_id.in_(device_ids))).all()
    at = {r.device_id: r.site_id for r in rows}
    for device_id in device_ids:
        if at.get(device_id) not in visible:
            raise NotFound(f"device {device_id!r} is not registered")


def sites_visible_to(conn: sa.Connection, principal: Principal) -> set[str] | None:
    """The sites a caller may see, for list endpoints: None means every site (state-wide roles)."""
    if principal.district is not None:
        return set(district_site_ids(conn, principal.district))
    if principal.site_id is not None:
        return {principal.site_id}
    return None


def own_employee_id(who: Principal) -> str:
    """The employee an employee token speaks for (403 for one bound to none)."""
    if who.employee_id is None:
        raise Forbidden("this employee token is not bound to an employee; ask for a new one")
    return who.employee_id


def only_own_employee(who: Principal, employee_id: str | None) -> str:
    """For an employee token: its own employee, refusing any other asked for."""
    mine = own_employee_id(who)
    if employee_id is not None and employee_id != mine:
        raise Forbidden("an employee token sees its own employee only")
    return mine


def check_employee_access(conn: sa.Connection, who: Principal, employee_id: str) -> dict:
    """The employee's row if the caller may see it (403 otherwise, 404 if there is no such employee)."""
    if who.role is Role.EMPLOYEE and own_employee_id(who) != employee_id:
        raise Forbidden("an employee token sees its own employee only")
    emp = get_employee(conn, employee_id)
    if emp is None:
        raise NotFound(f"employee {employee_id!r} is not registered")
    check_site_scope(who, emp["site_id"])
    return emp


def scoped_query(who: Principal, site_id: str | None, employee_id: str | None) -> tuple[str | None, str | None]:
    """(site_id, employee_id) a list may cover: employees are pinned to themselves, site roles to their site."""
    if who.role is Role.EMPLOYEE:
        mine = only_own_employee(who, employee_id)
        return check_site_scope(who, site_id), mine
    return check_site_scope(who, site_id), employee_id


def scoped_sites(conn: sa.Connection, who: Principal, site_id: str | None) -> set[str] | None:
    """The sites a list may cover: the one asked for (if the caller may see it), else all the caller may
    see (None: every site). Unlike check_site_scope, a district officer needs no site_id here."""
    if site_id is not None:
        return {check_site_scope(who, site_id)}
    return sites_visible_to(conn, who)
