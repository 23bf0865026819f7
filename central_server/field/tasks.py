"""Tasks an officer assigns to an employee (open -> done by the employee) and group notices to a site, a
district or everyone; notices_for_site is what a site's kiosks and phones show."""

import time

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.db.schema import notices, site_details, tasks
from central_server.errors import NotFound
from hajiri_common.timefmt import utc_iso

NOTICES_SHOWN = 50


class TaskNotFound(NotFound):
    """No such task for this employee (someone else's task is reported the same way)."""


def _task(row) -> dict:
    return dict(row._mapping) if hasattr(row, "_mapping") else dict(row)


def assign_task(conn: sa.Connection, employee: dict, title: str, details: str, due_day: str | None, *,
                actor: str) -> dict:
    """A new open task for the employee, at the employee's site (which decides who else may see it)."""
    now = utc_iso(time.time())
    row = {"employee_id": employee["employee_id"], "site_id": employee["site_id"], "title": title, "details": details,
           "due_day": due_day, "status": "open", "assigned_by": actor, "done_note": None, "created_at": now,
           "updated_at": now}
    row["id"] = conn.execute(sa.insert(tasks).values(**row).returning(tasks.c.id)).scalar_one()
    write_audit(conn, actor, "task.create", employee["employee_id"], f"task={row['id']} due={due_day} {title!r}")
    return row


def list_tasks(conn: sa.Connection, *, sites: set[str] | None, employee_id: str | None = None,
               status: str | None = None) -> list[dict]:
    """Open ones first, then by due day; within the visible sites (None: all)."""
    q = sa.select(tasks).order_by(tasks.c.status.desc(), tasks.c.due_day, tasks.c.id)
    if sites is not None:
        q = q.where(tasks.c.site_id.in_(sorted(sites)))
    if employee_id is not None:
        q = q.where(tasks.c.employee_id == employee_id)
    if status is not None:
        q = q.where(tasks.c.status == status)
    return [_task(r) for r in conn.execute(q)]


def mark_done(conn: sa.Connection, task_id: int, employee_id: str, note: str, *, actor: str) -> dict:
    """The employee closes their own task (done again is a no-op that keeps the first note)."""
    row = conn.execute(sa.select(tasks).where(tasks.c.id == task_id, tasks.c.employee_id == employee_id)).first()
    if row is None:
        raise TaskNotFound(f"task {task_id} is not one of yours")
    if row.status == "done":
        return _task(row)
    conn.execute(sa.update(tasks).where(tasks.c.id == task_id).values(
        status="done", done_note=note or None, updated_at=utc_iso(time.time())))
    write_audit(conn, actor, "task.done", employee_id, f"task={task_id}" + (f" note={note!r}" if note else ""))
    return _task(conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).one())


def send_notice(conn: sa.Connection, audience: str, title: str, body: str, *, actor: str,
                site_id: str | None = None, district: str | None = None) -> dict:
    row = {"audience": audience, "site_id": site_id if audience == "site" else None,
           "district": district.strip() if audience == "district" and district else None, "title": title,
           "body": body, "sent_by": actor, "created_at": utc_iso(time.time())}
    row["id"] = conn.execute(sa.insert(notices).values(**row).returning(notices.c.id)).scalar_one()
    write_audit(conn, actor, "notice.create", row["site_id"] or row["district"] or "all",
                f"notice={row['id']} audience={audience} {title!r}")
    return row


def _district_of(conn: sa.Connection, site_id: str) -> str | None:
    return conn.execute(sa.select(site_details.c.district).where(site_details.c.site_id == site_id)).scalar()


def _same_district(district: str) -> sa.ColumnElement:
    return sa.func.lower(sa.func.trim(notices.c.district)) == district.strip().lower()


def notices_for_site(conn: sa.Connection, site_id: str, limit: int = NOTICES_SHOWN) -> list[dict]:
    """Notices for everyone at a site, newest first: those to the site, to its district, and to all."""
    audience = [notices.c.audience == "all", sa.and_(notices.c.audience == "site", notices.c.site_id == site_id)]
    district = _district_of(conn, site_id)
    if district:
        audience.append(sa.and_(notices.c.audience == "district", _same_district(district)))
    q = sa.select(notices).where(sa.or_(*audience)).order_by(notices.c.created_at.desc(), notices.c.id.desc())
    return [_task(r) for r in conn.execute(q.limit(limit))]


def sites_reached(conn: sa.Connection, notice: dict) -> list[str] | None:
    """The sites a notice goes to (their kiosks show it): its site, every site of its district; None: all."""
    if notice["audience"] == "all":
        return None
    if notice["audience"] == "site":
        return [notice["site_id"]]
    district = (notice["district"] or "").strip().lower()
    return [r.site_id for r in conn.execute(sa.select(site_details.c.site_id).where(
        sa.func.lower(sa.func.trim(site_details.c.district)) == district).order_by(site_details.c.site_id))]


def list_notices(conn: sa.Connection, *, sites: set[str] | None, district: str | None,
                 limit: int = 500) -> list[dict]:
    """Notices an officer may read: all of them state-wide (sites None), else those reaching their sites."""
    q = sa.select(notices).order_by(notices.c.created_at.desc(), notices.c.id.desc()).limit(limit)
    if sites is not None:
        districts = {d for s in sites if (d := _district_of(conn, s))} | ({district} if district else set())
        audience = [notices.c.audience == "all",
                    sa.and_(notices.c.audience == "site", notices.c.site_id.in_(sorted(sites)))]
        audience += [sa.and_(notices.c.audience == "district", _same_district(d)) for d in sorted(districts)]
        q = q.where(sa.or_(*audience))
    return [_task(r) for r in conn.execute(q)]
