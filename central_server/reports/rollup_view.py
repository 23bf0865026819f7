"""The state and district roll-ups: stored attendance days counted per office in SQL (GROUP BY site over
attendance_site_days, the per-site-and-day counts the database keeps; never per employee), beside the working
employee-days each office expects from its shifts, holidays, go-live day and employment. Reads only: days
nobody computed yet are shown as "no entry", never filled in here.

Per office over the period (a day, or a month up to today):

    working      = employee-days that are neither a holiday, a weekly off, before the go-live day nor outside
                   the employee's employment (what the monthly report calls working days)
    no_entry     = working - stored days with a working-day status (present, late, half day, absent, leave,
                   tour, pending): days without a single event, which the rules store only when a report asks
    attendance % = (present + late) / working x 100

A working day with no entry counts against attendance % as absence or unrecorded leave would: present days
are stored as they happen (ingest recomputes them), so the numerator is exact whatever is missing."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from central_server.attendance.rules.recompute import employed_on
from central_server.attendance.rules.shift import DEFAULT_SHIFT, ShiftRule
from central_server.attendance.rules.timeline import load_rules
from central_server.db.schema import (
    attendance_days,
    attendance_site_days,
    departments,
    employees,
    holidays,
    site_details,
    sites,
)
from central_server.reports.period import Period

# The statuses of a working day, as stored; the roll-up shows each of the first six.
SHOWN_STATUSES = ("present", "late", "half_day", "absent", "on_leave", "on_tour")
WORKING_STATUSES = (*SHOWN_STATUSES, "pending")
_CHUNK = 500


@dataclass
class Tally:
    """Counts for one office, district, department or day: employees, working employee-days, stored statuses."""

    employees: int = 0
    working: int = 0
    counts: Counter = field(default_factory=Counter)

    def add(self, other: "Tally") -> None:
        self.employees += other.employees
        self.working += other.working
        self.counts.update(other.counts)

    def __getitem__(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def present_days(self) -> int:
        """Present including late (a late arrival is present)."""
        return self["present"] + self["late"]

    @property
    def no_entry(self) -> int:
        return max(0, self.working - sum(self[s] for s in WORKING_STATUSES))

    @property
    def attendance_pct(self) -> float | None:
        """Present (incl. late) per working employee-day, in %; None when nobody had a working day."""
        return 100.0 * self.present_days / self.working if self.working else None


@dataclass
class Group:
    """An office, a district or a department with its tally (`key` is its site id, district or department)."""

    key: str
    name: str
    tally: Tally
    district: str = ""
    department: str = ""
    offices: int = 1


@dataclass
class Rollup:
    """The roll-up of a period: offices, districts and departments furthest behind first, the total, and for
    a month each day's working employee-days and present days (the trend)."""

    period: Period
    offices: list[Group]
    districts: list[Group]
    departments: list[Group]
    total: Tally
    daily: list[tuple[date, Tally]]


def read_rollup(conn: sa.Connection, period: Period, site_ids: set[str] | frozenset[str] | None, *,
                daily: bool = False) -> Rollup:
    """The roll-up of the sites given (None: every site) over the period; daily=True adds the trend."""
    offices = _read_sites(conn, site_ids)
    stored, by_day = _stored_counts(conn, period, site_ids, daily)
    expected, per_day = _expected(conn, period, site_ids, offices)
    groups = []
    for site_id, info in offices.items():
        tally = expected.get(site_id, Tally())
        tally.counts = stored.get(site_id, Counter())
        groups.append(Group(site_id, info["name"], tally, info["district"], info["department"]))
    total = Tally()
    for g in groups:
        total.add(g.tally)
    trend = [(d, Tally(0, per_day.get(d, 0), by_day.get(d, Counter()))) for d in period.days()] if daily else []
    return Rollup(period, behind_first(groups), behind_first(_regroup(groups, "district")),
                  behind_first(_regroup(groups, "department")), total, trend)


def behind_first(groups: list[Group]) -> list[Group]:
    """Lowest attendance % first (the offices furthest behind); those without a working day last."""
    return sorted(groups, key=lambda g: (g.tally.attendance_pct is None, g.tally.attendance_pct or 0.0,
                                         g.name.casefold(), g.key))


def district_key(name: str | None) -> str:
    """Districts compare as the tokens do: case and surrounding spaces ignored."""
    return (name or "").strip().lower()


def _regroup(offices: list[Group], by: str) -> list[Group]:
    out: dict[str, Group] = {}
    for g in offices:
        name = getattr(g, by)
        key = district_key(name) if by == "district" else name
        group = out.get(key)
        if group is None:
            group = out[key] = Group(name, name, Tally(), district=g.district if by == "district" else "",
                                     department=g.department if by == "department" else "", offices=0)
        group.tally.add(g.tally)
        group.offices += 1
    return list(out.values())


def _read_sites(conn: sa.Connection, site_ids) -> dict[str, dict]:
    sd, dep = site_details, departments
    q = (sa.select(sites.c.site_id, sites.c.name, sd.c.district, dep.c.name.label("department"), sd.c.go_live_on)
         .select_from(sites.outerjoin(sd, sd.c.site_id == sites.c.site_id)
                      .outerjoin(dep, dep.c.department_id == sd.c.department_id)))
    rows = []
    for ids in _chunks(site_ids):
        rows += conn.execute(q if ids is None else q.where(sites.c.site_id.in_(ids))).all()
    return {r.site_id: {"name": r.name, "district": (r.district or "").strip(), "department": r.department or "",
                        "go_live_on": r.go_live_on} for r in rows}


def _chunks(site_ids) -> list[list[str] | None]:
    if site_ids is None:
        return [None]
    ids = sorted(site_ids)
    return [ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)] or [[]]


def _stored_counts(conn: sa.Connection, period: Period, site_ids, daily: bool
                   ) -> tuple[dict[str, Counter], dict[date, Counter]]:
    """Stored days per site and status and, for the trend, present days per day: one GROUP BY each over
    attendance_site_days (the triggers' counts per site and day, ~30 rows per office a month, not one per
    employee-day). Days of employees no longer active are taken out again (they have no working days here),
    from a lookup by their ids on attendance_days' primary key."""
    c = attendance_site_days
    lo, hi = period.first.isoformat(), period.last.isoformat()
    by_site: dict[str, Counter] = {}
    by_day: dict[date, Counter] = {}
    for ids in _chunks(site_ids):
        where = [c.c.day.between(lo, hi)] + ([] if ids is None else [c.c.site_id.in_(ids)])
        for r in conn.execute(sa.select(c.c.site_id, *[sa.func.sum(c.c[s]).label(s) for s in WORKING_STATUSES])
                              .where(*where).group_by(c.c.site_id)):
            by_site.setdefault(r.site_id, Counter()).update({s: int(r._mapping[s] or 0) for s in WORKING_STATUSES})
        if daily:
            for r in conn.execute(sa.select(c.c.day, sa.func.sum(c.c.present).label("present"),
                                            sa.func.sum(c.c.late).label("late")).where(*where).group_by(c.c.day)):
                by_day.setdefault(date.fromisoformat(r.day), Counter()).update(
                    {"present": int(r.present or 0), "late": int(r.late or 0)})
    _take_out_inactive(conn, lo, hi, site_ids, by_site, by_day if daily else None)
    return by_site, by_day


def _take_out_inactive(conn: sa.Connection, lo: str, hi: str, site_ids, by_site: dict[str, Counter],
                       by_day: dict[date, Counter] | None) -> None:
    """Subtract the stored days of inactive employees (rare: leaving is a left_on day) in the period."""
    e, d = employees, attendance_days
    ids = [r.employee_id for r in conn.execute(sa.select(e.c.employee_id).where(e.c.active.is_(False)))]
    for i in range(0, len(ids), _CHUNK):
        where = [d.c.employee_id.in_(ids[i:i + _CHUNK]), d.c.day.between(lo, hi)]
        if site_ids is not None:
            where.append(d.c.site_id.in_(sorted(site_ids)))
        for r in conn.execute(sa.select(d.c.site_id, d.c.status, sa.func.count().label("n"))
                              .where(*where).group_by(d.c.site_id, d.c.status)):
            by_site.setdefault(r.site_id, Counter())[r.status] -= r.n
        if by_day is None:
            continue
        for r in conn.execute(sa.select(d.c.day, d.c.status, sa.func.count().label("n"))
                              .where(*where, d.c.status.in_(("present", "late"))).group_by(d.c.day, d.c.status)):
            by_day.setdefault(date.fromisoformat(r.day), Counter())[r.status] -= r.n


def _expected(conn: sa.Connection, period: Period, site_ids, offices: dict[str, dict]
              ) -> tuple[dict[str, Tally], Counter]:
    """Per site: active employees employed in the period and their working employee-days; and per day the
    working employee-days of all of them. Employees are counted in groups (site, shift, joining and leaving
    day), so the days are judged once per group, never per employee."""
    e = employees
    rules = load_rules(conn)
    off_days = _holidays(conn, period)
    q = (sa.select(e.c.site_id, e.c.shift_id, e.c.joined_on, e.c.left_on, sa.func.count().label("n"))
         .where(e.c.active.is_(True)).group_by(e.c.site_id, e.c.shift_id, e.c.joined_on, e.c.left_on))
    days = period.days()
    # Offices with the same shift, go-live day and no holiday of their own share their working days.
    cache: dict[tuple, tuple[date, ...]] = {}
    out: dict[str, Tally] = {}
    per_group: Counter = Counter()  # (working days' key, joined, left) -> employees, for the trend
    for ids in _chunks(site_ids):
        for r in conn.execute(q if ids is None else q.where(e.c.site_id.in_(ids))):
            site = offices.get(r.site_id)
            if site is None or not _employed(days, r.joined_on, r.left_on):
                continue
            rule = rules.get(r.shift_id, DEFAULT_SHIFT) if r.shift_id else DEFAULT_SHIFT
            key = (rule, r.site_id if r.site_id in off_days else None, site["go_live_on"])
            if key not in cache:
                cache[key] = _working_days(days, rule, off_days.get(None, set()) | off_days.get(r.site_id, set()),
                                           site["go_live_on"])
            tally = out.get(r.site_id) or out.setdefault(r.site_id, Tally())
            tally.employees += r.n
            tally.working += r.n * len(_employed(cache[key], r.joined_on, r.left_on))
            per_group[(key, r.joined_on, r.left_on)] += r.n
    per_day: Counter = Counter()
    for (key, joined, left), n in per_group.items():
        for x in _employed(cache[key], joined, left):
            per_day[x] += n
    return out, per_day


def _employed(days, joined_on: str | None, left_on: str | None):
    if joined_on is None and left_on is None:
        return days
    return tuple(x for x in days if employed_on({"joined_on": joined_on, "left_on": left_on}, x))


def _working_days(days: list[date], rule: ShiftRule, holiday_days: set[date], go_live_on: str | None
                  ) -> tuple[date, ...]:
    return tuple(x for x in days if x not in holiday_days and not rule.is_weekly_off(x)
                 and (go_live_on is None or x.isoformat() >= go_live_on))


def _holidays(conn: sa.Connection, period: Period) -> dict[str | None, set[date]]:
    """site_id (None: every site) -> its holidays in the period."""
    out: dict[str | None, set[date]] = {}
    for r in conn.execute(sa.select(holidays.c.site_id, holidays.c.day).where(
            holidays.c.day.between(period.first.isoformat(), period.last.isoformat()))):
        out.setdefault(r.site_id, set()).add(date.fromisoformat(r.day))
    return out
