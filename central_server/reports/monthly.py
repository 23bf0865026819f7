"""The monthly attendance/salary report for the drawing officer (DDO): per employee, per office and district.

Every figure comes from the stored days (attendance_days), which the day rules in central_server.rules decide:
a holiday or the shift's weekly off outranks leave, leave outranks a tour, and the rest follow the shift's
times. Per employee, over the days of the period (a month; the current month up to today):

    working_days = days - holidays - weekly_offs - not_employed - not_live
    present      = days 'present' + days 'late'   (a late arrival is present; late_count counts them again)
    leave        = days 'on_leave' + 0.5 x half days taken as half-day leave
    payable_days = present + leave + tour + holidays + weekly_offs + 0.5 x half_days

A half day ('half_day': worked less than the shift's half-day hours) pays half. A half day taken as half-day
leave pays the worked half (0.5 in half_days) and the leave half (0.5 in leave), so a whole day. Absent and
pending days (today, before the shift ends) pay nothing; nor does a day with no stored row (not_recorded),
which only happens when days are not filled in first. Every leave kind the API grants is paid leave.
Days before an employee joined or after they left (not_employed), and days before the office's go-live day
(not_live: Hajiri recorded nothing yet; the paper register covers them), are neither working days nor paid.
Check: working_days = present + half_days + on_leave days + tour + absent + pending + not_recorded.
"""

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from central_server.attendance.rules.recompute import fill_missing_days
from central_server.reports.day_marks import select_day_marks
from central_server.reports.period import Period, ReportScope
from central_server.reports.query import employees_short_of_days, select_month_counts, select_status_days


@dataclass(frozen=True)
class EmployeeMonth:
    employee_id: str
    name: str
    site_id: str
    site_name: str
    district: str | None
    days: int
    recorded: int
    present: int  # status 'present' only; present_days adds the late days
    late: int
    half_day: int
    half_day_leave: int  # of the half days, those taken as half-day leave
    on_leave: int
    on_tour: int
    holiday: int
    weekly_off: int
    absent: int
    pending: int
    not_employed: int = 0  # days before joining or after leaving
    not_live: int = 0  # days before the office's go-live day (site_details.go_live_on)

    @property
    def working_days(self) -> int:
        return self.days - self.holiday - self.weekly_off - self.not_employed - self.not_live

    @property
    def present_days(self) -> int:
        return self.present + self.late

    @property
    def leave(self) -> float:
        return self.on_leave + 0.5 * self.half_day_leave

    @property
    def not_recorded(self) -> int:
        return self.days - self.recorded

    @property
    def payable_days(self) -> float:
        return self.present_days + self.leave + self.on_tour + self.holiday + self.weekly_off + 0.5 * self.half_day


MONTHLY_COLUMNS = ("district", "site_id", "office", "employee_id", "name", "days", "working_days", "present",
                   "half_days", "leave", "tour", "absent", "late_count", "holidays", "weekly_offs", "pending",
                   "not_recorded", "payable_days")
ROLLUP_COLUMNS = ("level", "district", "site_id", "office", "employees", "working_days", "present", "half_days",
                  "leave", "tour", "absent", "late_count", "payable_days")
LATE_COLUMNS = ("district", "site_id", "employee_id", "name", "day", "first_in", "late_minutes")
ABSENT_COLUMNS = ("district", "site_id", "employee_id", "name", "day", "flags")


def monthly_row(m: EmployeeMonth) -> tuple:
    return (m.district or "", m.site_id, m.site_name, m.employee_id, m.name, m.days, m.working_days,
            m.present_days, m.half_day, m.leave, m.on_tour, m.absent, m.late, m.holiday, m.weekly_off, m.pending,
            m.not_recorded, m.payable_days)


@dataclass(frozen=True)
class MonthlyReport:
    period: Period
    scope: ReportScope
    employees: list[EmployeeMonth]  # by district, office, employee id
    late: list[tuple]  # LATE_COLUMNS rows
    absent: list[tuple]  # ABSENT_COLUMNS rows
    days_filled: int  # days the rules computed for this report because none was stored
    # employee_id -> each day's mark for the day-by-day grid (central_server.reports.grid), period.days() order
    day_marks: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def rows(self) -> list[tuple]:
        return [monthly_row(m) for m in self.employees]

    def rollup(self) -> list[tuple]:
        """ROLLUP_COLUMNS rows: each office, then its district's total after the district's offices, then
        the grand total."""
        out: list[tuple] = []
        by_district: dict[str, list[EmployeeMonth]] = {}
        for m in self.employees:
            by_district.setdefault(m.district or "", []).append(m)
        for district, members in by_district.items():
            by_site: dict[str, list[EmployeeMonth]] = {}
            for m in members:
                by_site.setdefault(m.site_id, []).append(m)
            for site_id, group in by_site.items():
                out.append(_totals("office", district, site_id, group[0].site_name, group))
            out.append(_totals("district", district, "", "", members))
        out.append(_totals("total", "", "", "", self.employees))
        return out


def _totals(level: str, district: str, site_id: str, office: str, group: list[EmployeeMonth]) -> tuple:
    def total(attr: str) -> float:
        return sum(getattr(m, attr) for m in group)

    return (level, district, site_id, office, len(group), total("working_days"), total("present_days"),
            total("half_day"), total("leave"), total("on_tour"), total("absent"), total("late"),
            total("payable_days"))


def sort_key(row: dict) -> tuple:
    # Sorted here, not by ORDER BY: PostgreSQL collations order text unlike SQLite, and both must agree.
    return (row["district"] or "", row["site_id"], row["employee_id"], row.get("day") or "")


def local_hhmm(wire_time: str | None, zone: ZoneInfo) -> str:
    """A stored UTC instant as local HH:MM ('' for none)."""
    if not wire_time:
        return ""
    return datetime.fromisoformat(wire_time.replace("Z", "+00:00")).astimezone(zone).strftime("%H:%M")


def build_monthly(conn: sa.Connection, period: Period, scope: ReportScope, tz: str, *,
                  fill: bool = True, now: datetime | None = None) -> MonthlyReport:
    """The report for the period and scope. fill=True first computes (with the day rules) and stores the days
    that have no settled row yet, so an employee with no events at all shows as absent, not as missing."""
    filled = fill_missing_days(conn, employees_short_of_days(conn, scope, period), period.days(), tz, now) if fill else 0
    n_days = len(period.days())
    counts = sorted(select_month_counts(conn, scope, period), key=sort_key)
    emps = [EmployeeMonth(employee_id=r["employee_id"], name=r["name"], site_id=r["site_id"],
                          site_name=r["site_name"], district=r["district"], days=n_days, recorded=r["recorded"],
                          present=r["present"], late=r["late"], half_day=r["half_day"],
                          half_day_leave=r["half_day_leave"], on_leave=r["on_leave"], on_tour=r["on_tour"],
                          holiday=r["holiday"], weekly_off=r["weekly_off"], absent=r["absent"],
                          pending=r["pending"], not_employed=r["not_employed"],
                          not_live=r["not_live"]) for r in counts]
    zone = ZoneInfo(tz)
    lists = sorted(select_status_days(conn, scope, period, ("late", "absent")), key=sort_key)
    late = [(r["district"] or "", r["site_id"], r["employee_id"], r["name"], r["day"], local_hhmm(r["first_in"], zone),
             int(r["late_minutes"])) for r in lists if r["status"] == "late"]
    absent = [(r["district"] or "", r["site_id"], r["employee_id"], r["name"], r["day"], r["flags"])
              for r in lists if r["status"] == "absent"]
    return MonthlyReport(period, scope, emps, late, absent, filled, select_day_marks(conn, scope, period))
