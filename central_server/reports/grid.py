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

from central_server.reports.period import Period

if TYPE_CHECKING:
    from central_server.reports.monthly import MonthlyReport

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
