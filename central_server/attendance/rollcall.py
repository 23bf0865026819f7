"""Hostel roll-call: who is in, out or not seen, and who was not in by the hostel's curfew."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from central_server.attendance.day import local_day
from central_server.attendance.rules.recompute import select_employees
from central_server.attendance.rules.timeline import load_contexts, load_events
from central_server.db.schema import site_details
from central_server.errors import Invalid
from hajiri_common.timefmt import wire_time

# Someone who came in last week and has not left is still in: look back this far for the last event.
LOOK_BACK = timedelta(days=7)


class NoCurfew(Invalid):
    """The site has no curfew set (PUT /api/v1/sites/{site_id}/details)."""


@dataclass
class Resident:
    employee_id: str
    name: str
    status: str  # in | out | not_seen | on_leave
    last_event: str | None
    last_time: datetime | None
    in_by_curfew: bool | None  # None until the curfew has passed


def rollcall(conn: sa.Connection, site_id: str, day: date, tz: str, now: datetime) -> tuple[datetime, datetime,
                                                                                             list[Resident]]:
    """(curfew, as_of, residents) for one site's local day, as of now (or the day's end for a past day)."""
    row = conn.execute(sa.select(site_details.c.curfew).where(site_details.c.site_id == site_id)).first()
    if row is None or row.curfew is None:
        raise NoCurfew(f"site {site_id} has no curfew; set one with PUT /api/v1/sites/{site_id}/details")
    zone = ZoneInfo(tz)
    hh, mm = map(int, row.curfew.split(":"))
    curfew = datetime.combine(day, time(hh, mm), zone)
    as_of = min(now, local_day(day, tz)[1])
    emps = select_employees(conn, site_id=site_id)
    events = load_events(conn, [e["employee_id"] for e in emps], as_of - LOOK_BACK, as_of)
    leave = load_contexts(conn, emps, [day]) if emps else {}
    out = []
    for emp in emps:
        mine = [e for e in events.get(emp["employee_id"], []) if e.counts]
        last = mine[-1] if mine else None
        at_curfew = [e for e in mine if e.at <= curfew]
        status = "not_seen" if last is None else ("in" if last.kind == "IN" else "out")
        if leave[(emp["employee_id"], day)].leave_kind and status != "in":
            status = "on_leave"
        in_by_curfew = None if as_of < curfew else bool(at_curfew and at_curfew[-1].kind == "IN")
        out.append(Resident(emp["employee_id"], emp["name"], status, last.kind if last else None,
                            last.at if last else None, in_by_curfew))
    return curfew, as_of, out


def rollcall_report(conn: sa.Connection, site_id: str, day: date, tz: str, now: datetime) -> dict:
    """The roll-call as the API shows it: each resident, and `not_in_by_curfew`, those to look for."""
    curfew, as_of, residents = rollcall(conn, site_id, day, tz, now)
    rows = [{"employee_id": r.employee_id, "name": r.name, "status": r.status, "last_event": r.last_event,
             "last_time": wire_time(r.last_time) if r.last_time else None, "in_by_curfew": r.in_by_curfew}
            for r in residents]
    return {"site_id": site_id, "date": day.isoformat(), "curfew": wire_time(curfew), "as_of": wire_time(as_of),
            "residents": rows, "not_in_by_curfew": [r["employee_id"] for r in rows if r["in_by_curfew"] is False
                                                    and r["status"] != "on_leave"]}
