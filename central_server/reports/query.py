"""Set-based SQL over attendance_days for the reports (one GROUP BY or one SELECT per table, never per employee),
and which employees still lack days the rules have not stored yet."""

from collections import defaultdict
from datetime import date

import sqlalchemy as sa

from central_server.db.schema import attendance_days, employees, holidays, leaves, site_details, sites, tours
from central_server.reports.period import Period, ReportScope

e, d, sd, s = employees, attendance_days, site_details, sites
# Counted per employee: each is the number of the employee's days with that status in the period.
STATUS_COUNTS = ("present", "late", "half_day", "on_leave", "on_tour", "holiday", "weekly_off", "absent",
                 "pending", "not_employed", "not_live")


def _scoped(q: sa.Select, scope: ReportScope) -> sa.Select:
    if scope.site_id is not None:
        q = q.where(e.c.site_id == scope.site_id)
    if scope.district is not None:
        q = q.where(sa.func.lower(sa.func.trim(sd.c.district)) == scope.district.strip().lower())
    if scope.site_ids is not None:
        q = q.where(e.c.site_id.in_(sorted(scope.site_ids)))
    if scope.employee_id is not None:
        q = q.where(e.c.employee_id == scope.employee_id)
    return q


def _offices():
    """employees with their office's name and district."""
    return e.join(s, s.c.site_id == e.c.site_id).outerjoin(sd, sd.c.site_id == e.c.site_id)


def _count(cond) -> sa.ColumnElement:
    return sa.func.sum(sa.case((cond, 1), else_=0))


def select_month_counts(conn: sa.Connection, scope: ReportScope, period: Period) -> list[dict]:
    """One row per employee in scope (active, or with days in the period): how many days had each status."""
    lo, hi = period.first.isoformat(), period.last.isoformat()
    # Joined per employee (attendance_days' key leads with employee_id), so one office's report reads only
    # that office's rows.
    in_period = sa.and_(d.c.employee_id == e.c.employee_id, d.c.day.between(lo, hi))
    # A half day taken as half-day leave: half worked, half on leave (rules.status._by_hours flags it).
    half_leave = sa.and_(d.c.status == "half_day", (sa.literal(",") + d.c.flags + sa.literal(",")).contains(
        ",half_day_leave,", autoescape=True))
    numbers = ("recorded", *STATUS_COUNTS, "half_day_leave")
    q = (sa.select(e.c.employee_id, e.c.name, e.c.site_id, s.c.name.label("site_name"), sd.c.district,
                   sa.func.count(d.c.day).label("recorded"),
                   *[_count(d.c.status == st).label(st) for st in STATUS_COUNTS],
                   _count(half_leave).label("half_day_leave"))
         .select_from(_offices().outerjoin(d, in_period))
         .group_by(e.c.employee_id, e.c.name, e.c.site_id, s.c.name, sd.c.district, e.c.active)
         .having(sa.or_(e.c.active.is_(True), sa.func.count(d.c.day) > 0)))
    return [{k: (int(v or 0) if k in numbers else v) for k, v in r._mapping.items()}
            for r in conn.execute(_scoped(q, scope))]


def select_status_days(conn: sa.Connection, scope: ReportScope, period: Period, statuses: tuple[str, ...]) -> list[dict]:
    """The day rows with these statuses in the period (for the late and absent lists)."""
    q = (sa.select(e.c.employee_id, e.c.name, e.c.site_id, sd.c.district, d.c.day, d.c.status, d.c.first_in,
                   d.c.last_out, d.c.late_minutes, d.c.flags)
         .select_from(_offices().join(d, d.c.employee_id == e.c.employee_id))
         .where(d.c.day.between(period.first.isoformat(), period.last.isoformat()), d.c.status.in_(statuses)))
    return [dict(r._mapping) for r in conn.execute(_scoped(q, scope))]


def select_day_rows(conn: sa.Connection, scope: ReportScope, day: date) -> list[dict]:
    """Every employee in scope (active, or with a row that day) with their stored day, if any."""
    q = (sa.select(e.c.employee_id, e.c.name, e.c.site_id, s.c.name.label("site_name"), sd.c.district,
                   d.c.status, d.c.first_in, d.c.last_out, d.c.worked_minutes, d.c.late_minutes, d.c.flags)
         .select_from(_offices().outerjoin(d, sa.and_(d.c.employee_id == e.c.employee_id,
                                                       d.c.day == day.isoformat())))
         .where(sa.or_(e.c.active.is_(True), d.c.day.is_not(None))))
    return [dict(r._mapping) for r in conn.execute(_scoped(q, scope))]


def select_remarks(conn: sa.Connection, scope: ReportScope, day: date) -> dict[str, list[str]]:
    """employee_id -> what the day was officially: holiday name, approved leave kind, approved tour purpose."""
    iso = day.isoformat()
    out: dict[str, list[str]] = defaultdict(list)
    hol = {r.site_id: r.name for r in conn.execute(sa.select(holidays.c.site_id, holidays.c.name)
                                                   .where(holidays.c.day == iso))}
    if hol:
        for r in conn.execute(_scoped(sa.select(e.c.employee_id, e.c.site_id).select_from(_offices()), scope)):
            name = hol.get(r.site_id) or hol.get(None)
            if name:
                out[r.employee_id].append(f"holiday: {name}")
    for table, col, what in ((leaves, leaves.c.kind, "leave"), (tours, tours.c.purpose, "tour")):
        q = (sa.select(e.c.employee_id, col.label("detail")).select_from(
            _offices().join(table, table.c.employee_id == e.c.employee_id))
            .where(table.c.approved.is_(True), table.c.from_day <= iso, table.c.to_day >= iso))
        for r in conn.execute(_scoped(q, scope)):
            out[r.employee_id].append(f"{what}: {r.detail}")
    return {k: sorted(v) for k, v in out.items()}


def employees_short_of_days(conn: sa.Connection, scope: ReportScope, period: Period) -> list[str]:
    """Active employees in scope without a settled day (none yet, or 'pending') for some day of the period."""
    lo, hi = period.first.isoformat(), period.last.isoformat()
    settled = sa.and_(d.c.employee_id == e.c.employee_id, d.c.day.between(lo, hi), d.c.status != "pending")
    q = (sa.select(e.c.employee_id).select_from(_offices().outerjoin(d, settled))
         .where(e.c.active.is_(True)).group_by(e.c.employee_id)
         .having(sa.func.count(d.c.day) < len(period.days())))
    return [r.employee_id for r in conn.execute(_scoped(q, scope))]
