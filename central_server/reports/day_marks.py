"""Each employee's mark for each day of a period, from the stored days and approved leave kinds: what the
monthly report carries for its day-by-day grid (central_server.reports.grid draws it)."""

import sqlalchemy as sa

from central_server.db.schema import attendance_days, employees, leaves
from central_server.reports.period import Period, ReportScope
from central_server.reports.query import _offices, _scoped

MARKS = {"present": "P", "late": "L", "half_day": "H", "absent": "A", "on_tour": "T", "holiday": "HO",
         "weekly_off": "WO", "pending": "\u2026", "not_employed": "", "not_live": ""}
LEAVE_MARKS = {"casual": "CL", "earned": "EL", "medical": "ML"}
OTHER_LEAVE = "LV"


def select_day_marks(conn: sa.Connection, scope: ReportScope, period: Period) -> dict[str, tuple[str, ...]]:
    """employee_id -> the mark of each day of the period (period.days() order), from the stored days and the
    approved leave rows (for the leave's kind). Employees with no stored day in the period are left out (their
    row is blank)."""
    days = period.days()
    lo, hi = period.first.isoformat(), period.last.isoformat()
    index = {d.isoformat(): i for i, d in enumerate(days)}
    e, d = employees, attendance_days
    q = (sa.select(d.c.employee_id, d.c.day, d.c.status)
         .select_from(_offices().join(d, d.c.employee_id == e.c.employee_id))
         .where(d.c.day.between(lo, hi)))
    marks: dict[str, list[str]] = {}
    on_leave: list[tuple[str, str]] = []
    for emp, day, status in conn.execute(_scoped(q, scope)):
        row = marks.get(emp)
        if row is None:
            row = marks[emp] = [""] * len(days)
        if status == "on_leave":
            on_leave.append((emp, day))
            row[index[day]] = OTHER_LEAVE
        else:
            row[index[day]] = MARKS.get(status, "")
    if on_leave:
        kinds = _leave_kinds(conn, scope, lo, hi)
        for emp, day in on_leave:
            kind = next((k for first, last, k in kinds.get(emp, ()) if first <= day <= last), None)
            marks[emp][index[day]] = LEAVE_MARKS.get(kind or "", OTHER_LEAVE)
    return {emp: tuple(row) for emp, row in marks.items()}


def _leave_kinds(conn: sa.Connection, scope: ReportScope, lo: str,
                 hi: str) -> dict[str, list[tuple[str, str, str]]]:
    """employee_id -> (from_day, to_day, kind) of approved leave overlapping lo..hi, oldest first."""
    q = (sa.select(leaves.c.employee_id, leaves.c.from_day, leaves.c.to_day, leaves.c.kind)
         .select_from(_offices().join(leaves, leaves.c.employee_id == employees.c.employee_id))
         .where(leaves.c.approved.is_(True), leaves.c.from_day <= hi, leaves.c.to_day >= lo)
         .order_by(leaves.c.id))
    out: dict[str, list[tuple[str, str, str]]] = {}
    for emp, first, last, kind in conn.execute(_scoped(q, scope)):
        out.setdefault(emp, []).append((first, last, kind))
    return out
