"""The monthly attendance sheet as HR staff keep it: a row per employee, a mark per day of the month, totals.

Marks, from the stored day (attendance_days) the rules decided:

    P present     L late        H half day    A absent      T tour        HO holiday    WO weekly off
    CL / EL / ML  leave of that kind (casual, earned, medical; other kinds LV)        ... pending (today)
    blank         before joining or after leaving (not_employed), before the office went live (not_live), no
                  stored day, days still to come

The totals are the monthly report's own figures (central_server.reports.monthly), so the grid and the
per-employee table cannot disagree on a count.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from central_server.db.schema import attendance_days, employees, leaves
from central_server.reports.period import Period, ReportScope
from central_server.reports.query import _offices, _scoped

if TYPE_CHECKING:
    from central_server.reports.monthly import MonthlyReport

MARKS = {"present": "P", "late": "L", "half_day": "H", "absent": "A", "on_tour": "T", "holiday": "HO",
         "weekly_off": "WO", "pending": "\u2026", "not_employed": "", "not_live": ""}
LEAVE_MARKS = {"casual": "CL", "earned": "EL", "medical": "ML"}
OTHER_LEAVE = "LV"
LEGEND = ("P present, L late, H half day, A absent, CL/EL/ML/LV leave, T tour, HO holiday, WO weekly off, "
          "\u2026 pending; blank: not employed, office not live, or not recorded")
TOTAL_COLUMNS = ("present", "late", "half_days", "absent", "leave", "tour", "holidays", "weekly_offs",
                 "payable_days")
HEAD_COLUMNS = ("site_id", "employee_id", "name")


def grid_days(period: Period) -> list[date]:
    """The grid's columns: every day of the month when the period lies in one month (the current month has
    columns for the days to come, left blank), else the period's days."""
    first, last = period.first, period.last
    if (first.year, first.month) != (last.year, last.month):
        return period.days()
    start = first.replace(day=1)
    return [start + timedelta(days=i) for i in range(monthrange(first.year, first.month)[1])]


def grid_columns(period: Period) -> tuple[str, ...]:
    return (*HEAD_COLUMNS, *(str(d.day) for d in grid_days(period)), *TOTAL_COLUMNS)


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


def grid_rows(report: MonthlyReport) -> list[tuple]:
    """One row per employee of the report, in its order: site, employee, name, a mark per grid_days() column,
    then TOTAL_COLUMNS from the report's counts."""
    period = report.period
    columns = grid_days(period)
    # Where each of the period's days falls among the columns (the period may start after the 1st).
    offset = (period.first - columns[0]).days
    blank = ("",) * len(columns)
    n = len(period.days())
    out = []
    for m in report.employees:
        marks = report.day_marks.get(m.employee_id)
        row = blank if marks is None else (("",) * offset + marks + ("",) * (len(columns) - offset - n))
        out.append((m.site_id, m.employee_id, m.name, *row, m.present_days, m.late, m.half_day, m.absent,
                    m.leave, m.on_tour, m.holiday, m.weekly_off, m.payable_days))
    return out
