"""The daily muster roll: one row per employee of an office for one day, from the stored day rules."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from central_server.attendance.rules.recompute import fill_missing_days
from central_server.reports.monthly import local_hhmm, sort_key
from central_server.reports.period import Period, ReportScope
from central_server.reports.query import employees_short_of_days, select_day_rows, select_remarks

MUSTER_COLUMNS = ("site_id", "employee_id", "name", "first_in", "last_out", "hours", "status", "late",
                  "late_minutes", "remarks", "flags")


@dataclass(frozen=True)
class Muster:
    day: date
    scope: ReportScope
    rows: list[tuple]  # MUSTER_COLUMNS
    days_filled: int


def hours(worked_minutes: int | None) -> str:
    """Worked time as H:MM ('' when there is no IN and OUT pair)."""
    if worked_minutes is None:
        return ""
    return f"{worked_minutes // 60}:{worked_minutes % 60:02d}"


def build_muster(conn: sa.Connection, day: date, scope: ReportScope, tz: str, *, fill: bool = True,
                 now: datetime | None = None) -> Muster:
    """The day's roll. 'late' is yes when the day's status is late (IN after start + grace, full day worked).
    Remarks name the holiday, approved leave kind or tour purpose covering the day."""
    period = Period(day, day)
    filled = fill_missing_days(conn, employees_short_of_days(conn, scope, period), period.days(), tz, now) if fill else 0
    zone = ZoneInfo(tz)
    remarks = select_remarks(conn, scope, day)
    rows = []
    for r in sorted(select_day_rows(conn, scope, day), key=sort_key):
        status = r["status"] or "not_recorded"
        rows.append((r["site_id"], r["employee_id"], r["name"], local_hhmm(r["first_in"], zone),
                     local_hhmm(r["last_out"], zone), hours(r["worked_minutes"]), status,
                     "yes" if status == "late" else "", int(r["late_minutes"] or 0),
                     "; ".join(remarks.get(r["employee_id"], [])), r["flags"] or ""))
    return Muster(day, scope, rows, filled)
