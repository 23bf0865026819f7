"""Hostel roll-call: who is in, out or not seen, and who was not in by the hostel's curfew."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from central_server.attendance.rules.recompute import select_employees
from central_server.attendance.rules.timeline import load_contexts, load_events
from central_server.db.schema import site_details

# Someone who came in last week and has not left is still in: look back this far for the last event.
LOOK_BACK = timedelta(days=7)


class NoCurfew(ValueError):
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
    as_of = min(now, datetime.combine(day + timedelta(days=1), time.min, zone))
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
