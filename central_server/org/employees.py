"""The domain register: departments, site details (with the go-live day), shifts, employees, geofences,
holidays, leave and tours."""

import json
import time
from datetime import date, timedelta

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.closing.adjustments import closed_months
from central_server.db.schema import (
    departments,
    employee_geofences,
    employees,
    geofences,
    holidays,
    people,
    shifts,
    site_details,
    sites,
)
from central_server.errors import Conflict
from central_server.org.geofence import Fence, GeofenceError, parse_fence
from central_server.org.sites import AlreadyExists, Missing, NotRegistered
from hajiri_common.timefmt import utc_iso


def _exists(conn: sa.Connection, column: sa.Column, value: object) -> bool:
    return conn.execute(sa.select(column).where(column == value)).first() is not None


def _need(conn: sa.Connection, column: sa.Column, value: object, what: str,
          missing: type[NotRegistered] = NotRegistered) -> None:
    """NotRegistered (422) for an id the body refers to; Missing (404) for the site the path names."""
    if value is not None and not _exists(conn, column, value):
        raise missing(f"{what} {value!r} is not registered")


def create_department(conn: sa.Connection, department_id: str, name: str, *, actor: str) -> dict:
    if _exists(conn, departments.c.department_id, department_id):
        raise AlreadyExists(f"department {department_id!r} already exists")
    row = {"department_id": department_id, "name": name, "created_at": utc_iso(time.time())}
    conn.execute(sa.insert(departments).values(**row))
    write_audit(conn, actor, "department.create", department_id, f"name={name!r}")
    return row


class GoLiveConflict(Conflict):
    """A go-live day that would change a month already closed (409)."""


def site_go_live(conn: sa.Connection, site_id: str) -> str | None:
    """The site's go-live day (YYYY-MM-DD), or None: live since always."""
    return conn.execute(sa.select(site_details.c.go_live_on).where(site_details.c.site_id == site_id)).scalar()


def site_district(conn: sa.Connection, site_id: str) -> str | None:
    """The district a site's details name, or None."""
    return conn.execute(sa.select(site_details.c.district).where(site_details.c.site_id == site_id)).scalar()


def same_district(a: str | None, b: str | None) -> bool:
    """Districts are matched as officers type them: case and surrounding spaces do not count."""
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def go_live_span(old: str | None, new: str | None) -> tuple[str, str] | None:
    """The days (first, last; YYYY-MM-DD) whose status a go-live change from `old` to `new` changes: those
    between the two days (from the earliest day there is when one of them is None), or None if it is the same."""
    if old == new:
        return None
    later = max(d for d in (old, new) if d is not None)
    earlier = min(old, new) if old is not None and new is not None else "0001-01-01"
    return earlier, (date.fromisoformat(later) - timedelta(days=1)).isoformat()


def _check_go_live(conn: sa.Connection, site_id: str, old: str | None, new: str | None) -> None:
    span = go_live_span(old, new)
    if span is None:
        return
    # A closed month was paid as it stood: moving go-live across it would turn paid days into not_live (or the
    # other way) for everyone at once. Adjustments are for single late facts, not for re-deciding a month.
    touched = sorted(m for _, m in closed_months(conn, [site_id]) if span[0][:7] <= m <= span[1][:7])
    if touched:
        raise GoLiveConflict(f"go_live_on: moving the go-live day from {old or 'none'} to {new or 'none'} would "
                             f"change closed month(s) {', '.join(touched)} of site {site_id}")


def set_site_details(conn: sa.Connection, site_id: str, details: dict, *, actor: str) -> dict:
    """Insert or replace a site's department, district, reference point, curfew and go-live day. go_live_on left
    out of `details` keeps the stored day (None clears it); a change across a closed month is refused
    (GoLiveConflict). The caller recomputes the stored days in go_live_span(old, new)."""
    _need(conn, sites.c.site_id, site_id, "site", Missing)
    _need(conn, departments.c.department_id, details.get("department_id"), "department", Missing)
    old = site_go_live(conn, site_id)
    go_live = details.get("go_live_on", old)
    _check_go_live(conn, site_id, old, go_live)
    row = {"site_id": site_id, **{k: details.get(k) for k in ("department_id", "district", "lat", "lon", "curfew")},
           "go_live_on": go_live}
    conn.execute(sa.delete(site_details).where(site_details.c.site_id == site_id))
    conn.execute(sa.insert(site_details).values(**row))
    write_audit(conn, actor, "site.details", site_id, json.dumps({k: v for k, v in row.items() if k != "site_id"}))
    return row


def create_shift(conn: sa.Connection, shift: dict, *, actor: str) -> dict:
    if _exists(conn, shifts.c.shift_id, shift["shift_id"]):
        raise AlreadyExists(f"shift {shift['shift_id']!r} already exists")
    row = {**shift, "weekly_off": ",".join(shift.get("weekly_off") or []), "created_at": utc_iso(time.time())}
    conn.execute(sa.insert(shifts).values(**row))
    write_audit(conn, actor, "shift.create", shift["shift_id"],
                f"{shift['start_time']}-{shift['end_time']} overnight={shift['overnight']}")
    return shift_row(row)


def list_departments(conn: sa.Connection) -> list[dict]:
    return [{"department_id": r.department_id, "name": r.name}
            for r in conn.execute(sa.select(departments).order_by(departments.c.department_id))]


def list_shifts(conn: sa.Connection) -> list[dict]:
    return [shift_row(r) for r in conn.execute(sa.select(shifts).order_by(shifts.c.shift_id))]


def shift_row(row) -> dict:
    d = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    d["weekly_off"] = [w for w in (d.get("weekly_off") or "").split(",") if w]
    return d


def create_employee(conn: sa.Connection, emp: dict, *, actor: str) -> dict:
    """Register an employee; their id is the person_id kiosks record, so the people register gets it too."""
    if _exists(conn, employees.c.employee_id, emp["employee_id"]):
        raise AlreadyExists(f"employee {emp['employee_id']!r} already exists")
    _need(conn, sites.c.site_id, emp["site_id"], "site")
    _need(conn, departments.c.department_id, emp.get("department_id"), "department")
    _need(conn, shifts.c.shift_id, emp.get("shift_id"), "shift")
    now = utc_iso(time.time())
    row = {"employee_id": emp["employee_id"], "name": emp["name"], "role": emp.get("role", "staff"),
           "site_id": emp["site_id"], "department_id": emp.get("department_id"), "shift_id": emp.get("shift_id"),
           "mobile": emp.get("mobile"), "active": emp.get("active", True), "created_at": now,
           "joined_on": emp.get("joined_on"), "left_on": emp.get("left_on")}
    conn.execute(sa.insert(employees).values(**row))
    if not _exists(conn, people.c.person_id, emp["employee_id"]):
        conn.execute(sa.insert(people).values(person_id=emp["employee_id"], name=emp["name"],
                                              site_id=emp["site_id"], created_at=now))
    write_audit(conn, actor, "employee.create", emp["employee_id"], f"site={emp['site_id']} role={row['role']}")
    return row


def list_employees(conn: sa.Connection, site_id: str | None, employee_id: str | None) -> list[dict]:
    """Employees (of one site, or the one given) with the fences each may check in from."""
    q = sa.select(employees).order_by(employees.c.employee_id)
    if site_id is not None:
        q = q.where(employees.c.site_id == site_id)
    if employee_id is not None:
        q = q.where(employees.c.employee_id == employee_id)
    return [with_fences(conn, dict(r._mapping)) for r in conn.execute(q)]


def with_fences(conn: sa.Connection, emp: dict) -> dict:
    """The employee's row as the API shows it: with geofence_ids."""
    return {**emp, "geofence_ids": employee_fence_ids(conn, emp["employee_id"])}


def get_employee(conn: sa.Connection, employee_id: str) -> dict | None:
    row = conn.execute(sa.select(employees).where(employees.c.employee_id == employee_id)).first()
    return None if row is None else dict(row._mapping)


def add_geofence(conn: sa.Connection, site_id: str, name: str, polygon: object, *, actor: str) -> dict:
    """Validate (GeofenceError, naming the polygon) and store a fence for a site."""
    _need(conn, sites.c.site_id, site_id, "site", Missing)
    try:
        fence = parse_fence(polygon)
    except GeofenceError as e:
        raise GeofenceError(f"polygon: {e}") from e
    row = {"site_id": site_id, "name": name, "polygon": json.dumps(fence.geojson), "centroid_lat": fence.lat0,
           "centroid_lon": fence.lon0, "area_m2": round(fence.area_m2, 1), "created_at": utc_iso(time.time())}
    new_id = conn.execute(sa.insert(geofences).values(**row).returning(geofences.c.geofence_id)).scalar_one()
    write_audit(conn, actor, "geofence.create", site_id, f"id={new_id} name={name!r} area_m2={row['area_m2']}")
    return geofence_row({**row, "geofence_id": new_id})


def list_geofences(conn: sa.Connection, site_id: str) -> list[dict]:
    q = sa.select(geofences).where(geofences.c.site_id == site_id).order_by(geofences.c.geofence_id)
    return [geofence_row(r) for r in conn.execute(q)]


def fence_sites(conn: sa.Connection, geofence_ids: list[int]) -> set[str]:
    """The sites these fences belong to (unknown ids are skipped)."""
    return set(conn.execute(sa.select(geofences.c.site_id).where(
        geofences.c.geofence_id.in_(geofence_ids))).scalars().all())


def geofence_row(row) -> dict:
    d = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    d["polygon"] = json.loads(d["polygon"])
    return d


def set_employee_fences(conn: sa.Connection, employee_id: str, geofence_ids: list[int], *, actor: str) -> None:
    _need(conn, employees.c.employee_id, employee_id, "employee")
    for gid in geofence_ids:
        _need(conn, geofences.c.geofence_id, gid, "geofence")
    conn.execute(sa.delete(employee_geofences).where(employee_geofences.c.employee_id == employee_id))
    for gid in sorted(set(geofence_ids)):
        conn.execute(sa.insert(employee_geofences).values(employee_id=employee_id, geofence_id=gid))
    write_audit(conn, actor, "employee.geofences", employee_id, f"ids={sorted(set(geofence_ids))}")


def employee_fence_ids(conn: sa.Connection, employee_id: str) -> list[int]:
    return [r[0] for r in conn.execute(sa.select(employee_geofences.c.geofence_id).where(
        employee_geofences.c.employee_id == employee_id).order_by(employee_geofences.c.geofence_id))]


def allowed_fences(conn: sa.Connection, employee: dict) -> list[tuple[int, Fence]]:
    """The fences an employee may check in from: their own list, else every fence of their site."""
    ids = employee_fence_ids(conn, employee["employee_id"])
    query = sa.select(geofences.c.geofence_id, geofences.c.polygon)
    query = query.where(geofences.c.geofence_id.in_(ids)) if ids else query.where(
        geofences.c.site_id == employee["site_id"])
    # Stored fences were validated at upload; re-parse without the region check so old rows still load.
    return [(r.geofence_id, parse_fence(r.polygon, region=None)) for r in conn.execute(query)]


def add_holiday(conn: sa.Connection, day: str, name: str, site_id: str | None, *, actor: str) -> dict:
    _need(conn, sites.c.site_id, site_id, "site")
    new_id = conn.execute(sa.insert(holidays).values(day=day, name=name, site_id=site_id)
                          .returning(holidays.c.id)).scalar_one()
    write_audit(conn, actor, "holiday.create", day, f"name={name!r} site={site_id}")
    return {"id": new_id, "day": day, "name": name, "site_id": site_id}


def list_holidays(conn: sa.Connection, site_id: str | None, year: int | None) -> list[dict]:
    """Holidays of every site and (given a site) that site's own, of one year or all."""
    q = sa.select(holidays).order_by(holidays.c.day)
    if site_id is not None:
        q = q.where(sa.or_(holidays.c.site_id.is_(None), holidays.c.site_id == site_id))
    if year is not None:
        q = q.where(holidays.c.day.like(f"{year:04d}-%"))
    return [dict(r._mapping) for r in conn.execute(q)]


def list_absences(conn: sa.Connection, table: sa.Table, site_id: str | None, employee_id: str | None) -> list[dict]:
    """Leave or tours (the table says which) of one site's employees or one employee, by first day."""
    q = sa.select(table).join(employees, employees.c.employee_id == table.c.employee_id).order_by(table.c.from_day)
    if site_id is not None:
        q = q.where(employees.c.site_id == site_id)
    if employee_id is not None:
        q = q.where(table.c.employee_id == employee_id)
    return [dict(r._mapping) for r in conn.execute(q)]


def add_absence(conn: sa.Connection, table: sa.Table, body: dict, *, actor: str) -> dict:
    """A leave or a tour (same shape: employee, from_day, to_day, approved, plus kind or purpose)."""
    _need(conn, employees.c.employee_id, body["employee_id"], "employee")
    row = {**body, "created_at": utc_iso(time.time())}
    new_id = conn.execute(sa.insert(table).values(**row).returning(table.c.id)).scalar_one()
    write_audit(conn, actor, f"{table.name}.create", body["employee_id"],
                f"{body['from_day']}..{body['to_day']} approved={body['approved']}")
    return {"id": new_id, **row}

