"""One employee's month, read only: each day's status (the stored day once settled, else computed now from the
records and not stored, as read_days decides it for a site's day), one day's timeline, the explanation threads,
and the month's leave and tours. A handful of queries for the whole month, none per day."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from central_server.attendance.day_events import DayEvent, day_events
from central_server.attendance.explanations import list_requests
from central_server.attendance.rules.recompute import _public, compute_days, public_day
from central_server.attendance.rules.shift import DEFAULT_SHIFT, ShiftRule
from central_server.attendance.rules.timeline import load_rules, parse_instant
from central_server.db.schema import attendance_days, leaves, tours
from central_server.org.employees import list_absences

OPEN_STATES = ("open", "replied")


def shift_of(conn: sa.Connection, emp: dict) -> ShiftRule:
    return load_rules(conn).get(emp.get("shift_id") or "", DEFAULT_SHIFT)


def read_employee_days(conn: sa.Connection, emp: dict, days: list[date], tz: str, now: datetime) -> dict[date, dict]:
    """Each of `days` as the API shows a day, writing nothing: a stored day computed after its shift ended is
    final; any other (none stored, pending, or stored before the shift ended) is computed now."""
    if not days:
        return {}
    rule = shift_of(conn, emp)
    stored = {r.day: r for r in conn.execute(sa.select(attendance_days).where(
        attendance_days.c.employee_id == emp["employee_id"],
        attendance_days.c.day.between(min(days).isoformat(), max(days).isoformat())))}
    out: dict[date, dict] = {}
    fresh = []
    for day in days:
        row = stored.get(day.isoformat())
        if row is None or row.status == "pending" or parse_instant(row.computed_at) < rule.scheduled(day, tz)[1]:
            fresh.append(day)
        else:
            out[day] = _public(emp, row._mapping)
    for e, r in compute_days(conn, [emp], fresh, tz, now):
        out[r.day] = public_day(e, r)
    return out


def month_counts(days: dict[date, dict]) -> Counter:
    """How many days had each status, and `half_day_leave`: half days taken as half-day leave."""
    counts = Counter(d["status"] for d in days.values())
    counts["half_day_leave"] = sum(1 for d in days.values()
                                   if d["status"] == "half_day" and "half_day_leave" in d["flags"])
    return counts


def day_timeline(conn: sa.Connection, emp: dict, day: date, tz: str) -> list[DayEvent]:
    """Every IN/OUT of the employee that belongs to `day` under their shift (kiosk and mobile, time-ordered)."""
    start, end = shift_of(conn, emp).window(day, tz)
    return day_events(conn, start, end, tz, employee_id=emp["employee_id"])


@dataclass(frozen=True)
class Thread:
    """An explanation request as a thread: what was asked, the employee's reply, the decision."""

    id: int
    day: str
    reason: str  # late | absent | outside_fence
    status: str  # open | replied | accepted | rejected | withdrawn
    asked_at: str
    reply: str | None
    replied_at: str | None  # known while the reply is the latest step
    decided_by: str | None
    decided_at: str | None
    decision_note: str | None

    @property
    def awaits_reply(self) -> bool:
        return self.status in OPEN_STATES


def explanation_threads(conn: sa.Connection, employee_id: str, first: date, last: date) -> list[Thread]:
    """The requests about days first..last, and any still open from other months (newest day first)."""
    lo, hi = first.isoformat(), last.isoformat()
    out = []
    for r in list_requests(conn, site_id=None, employee_id=employee_id, status=None):
        if not (lo <= r["day"] <= hi or r["status"] in OPEN_STATES):
            continue
        decided = r["status"] in ("accepted", "rejected")
        out.append(Thread(id=r["id"], day=r["day"], reason=r["reason"], status=r["status"],
                          asked_at=r["created_at"], reply=r["reply"],
                          replied_at=r["updated_at"] if r["status"] == "replied" else None,
                          decided_by=r["decided_by"] if decided else None,
                          decided_at=r["updated_at"] if decided else None, decision_note=r["decision_note"]))
    out.sort(key=lambda t: (t.day, t.id), reverse=True)
    return out


def month_absences(conn: sa.Connection, employee_id: str, first: date, last: date) -> dict[str, list[dict]]:
    """The employee's leave and tours that touch first..last (approved or only on file), by first day."""
    lo, hi = first.isoformat(), last.isoformat()
    return {name: [r for r in list_absences(conn, table, None, employee_id) if r["from_day"] <= hi and r["to_day"] >= lo]
            for name, table in (("leave", leaves), ("tours", tours))}
