"""/api/v1/tasks and /api/v1/notices for officers; /api/v1/me/tasks and /api/v1/me/notices for the mobile app.
A new notice also goes to the kiosks of every site it reaches, as a signed `notices` downlink."""

from typing import Literal

from fastapi import APIRouter, Request, status

from central_server.access.tokens import Principal, Role
from central_server.api.deps import (
    Anyone,
    Conn,
    EmployeeOnly,
    Officer,
    OfficerApart,
    check_employee_access,
    check_site_scope,
    only_own_employee,
    own_employee_id,
    scoped_sites,
)
from central_server.downlink.keys import load_or_create_signing_key
from central_server.downlink.publish import deliver_notices
from central_server.errors import Forbidden, NotFound
from central_server.field.schemas import (
    NoticeCreate,
    NoticePublic,
    NoticeSent,
    TaskCreate,
    TaskDone,
    TaskPublic,
)
from central_server.field.tasks import (
    assign_task,
    list_notices,
    list_tasks,
    mark_done,
    notices_for_site,
    send_notice,
)
from central_server.org.employees import get_employee

router = APIRouter(tags=["tasks"])


@router.post("/api/v1/tasks", status_code=status.HTTP_201_CREATED, response_model=TaskPublic)
def post_task(body: TaskCreate, conn: Conn, who: Officer) -> dict:
    """Assign a task to an employee the caller may see (their site, or their district's sites)."""
    emp = check_employee_access(conn, who, body.employee_id)
    return assign_task(conn, emp, body.title, body.details, body.due_day, actor=who.label)


@router.get("/api/v1/tasks", response_model=list[TaskPublic])
def get_tasks(conn: Conn, who: Anyone, site_id: str | None = None, employee_id: str | None = None,
              status: Literal["open", "done"] | None = None) -> list[dict]:
    if who.role is Role.EMPLOYEE:
        employee_id = only_own_employee(who, employee_id)
    return list_tasks(conn, sites=scoped_sites(conn, who, site_id), employee_id=employee_id, status=status)


@router.get("/api/v1/me/tasks", response_model=list[TaskPublic])
def get_my_tasks(conn: Conn, who: EmployeeOnly, status: Literal["open", "done"] | None = None) -> list[dict]:
    return list_tasks(conn, sites=None, employee_id=own_employee_id(who), status=status)


@router.post("/api/v1/me/tasks/{task_id}/done", response_model=TaskPublic)
def post_task_done(task_id: int, body: TaskDone, conn: Conn, who: EmployeeOnly) -> dict:
    return mark_done(conn, task_id, own_employee_id(who), body.note, actor=who.label)


def _check_audience(who: Principal, body: NoticeCreate) -> None:
    if body.audience == "site":
        check_site_scope(who, body.site_id)
    elif body.audience == "district":
        if who.role is Role.OFFICE_HEAD:
            raise Forbidden("an office head sends notices to their own site only")
        if who.district is not None and body.district.strip().lower() != who.district.strip().lower():
            raise Forbidden(f"this token is limited to district {who.district}")
    elif who.role is not Role.STATE_ADMIN:
        raise Forbidden("only a state admin sends a notice to everyone")


@router.post("/api/v1/notices", status_code=status.HTTP_201_CREATED, response_model=NoticeSent)
def post_notice(body: NoticeCreate, request: Request, who: OfficerApart) -> dict:
    """A group notice: to one site, to every site of a district, or (state admin) to all; sent on to their kiosks."""
    _check_audience(who, body)
    with request.app.state.engine.begin() as conn:
        row = send_notice(conn, body.audience, body.title, body.body, actor=who.label, site_id=body.site_id,
                          district=body.district)
    config = request.app.state.config
    kiosks = deliver_notices(request.app.state.engine, config.mqtt,
                             lambda: load_or_create_signing_key(config.downlink_key_path), row)
    return {**row, "kiosks": kiosks}


@router.get("/api/v1/notices", response_model=list[NoticePublic])
def get_notices(conn: Conn, who: Anyone, site_id: str | None = None) -> list[dict]:
    """Notices reaching the caller's sites (an employee: their own site's), newest first."""
    return list_notices(conn, sites=scoped_sites(conn, who, site_id), district=who.district)


@router.get("/api/v1/me/notices", response_model=list[NoticePublic])
def get_my_notices(conn: Conn, who: EmployeeOnly) -> list[dict]:
    """What the mobile app shows: notices to the employee's site, its district and everyone."""
    emp = get_employee(conn, own_employee_id(who))
    if emp is None:
        raise NotFound("this token's employee is no longer registered")
    return notices_for_site(conn, emp["site_id"])
