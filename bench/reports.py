"""Reports benchmark: seed N employees x D days of stored attendance days, then build and write the monthly report.

    python -m bench.reports --employees N --days D [--database URL] [--seed S]

Seeds ~100 employees per office (at most 100 offices) in a few districts, three shifts, a state holiday and
some office holidays, approved leave (full and half day) and tours, and one attendance_days row per employee
per day consistent with them (holiday > weekly off > leave > tour > the shift's times), with a seeded RNG and
bulk inserts. Times: the report's compute (SQL GROUP BY over attendance_days, the check for days not yet
computed, the roll-up, late and absent lists), then each writer (CSV, XLSX, PDF) from the computed report.
Baseline in the same run: the same per-employee counts with one query per employee, on a subset, scaled up
(compare with seconds_counts_group_by, the one GROUP BY that replaces it).
The JSON object on the last stdout line holds the figures.
"""

import argparse
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bench.common import print_result
from central_server.attendance.rules.shift import DEFAULT_SHIFT, ShiftRule
from central_server.db.engine import make_engine
from central_server.db.migrate import migrate
from central_server.db.schema import (
    attendance_days,
    employees,
    holidays,
    leaves,
    shifts,
    site_details,
    sites,
    tours,
)
from central_server.reports import ReportScope, build_monthly, build_muster
from central_server.reports.csv_writer import write_csv
from central_server.reports.export import FORMULA, monthly_sections, monthly_sheets, monthly_title
from central_server.reports.monthly import MONTHLY_COLUMNS
from central_server.reports.pdf_writer import write_pdf
from central_server.reports.period import Period
from central_server.reports.query import select_month_counts
from central_server.reports.xlsx_writer import write_xlsx
from hajiri_common.timefmt import utc_iso

log = logging.getLogger("bench.reports")
TZ = "Asia/Kolkata"
MONTH_START = date(2026, 10, 1)  # October: 31 days, a Friday state holiday on the 2nd
STAMP = "2026-11-01T00:00:00.000Z"
SHIFTS = {
    None: DEFAULT_SHIFT,  # employees without a shift of their own
    "early-5day": ShiftRule("early-5day", "09:30", "18:00", 10, 10, 4.0, 2.0, False, ("sat", "sun")),
    "field-6day": ShiftRule("field-6day", "08:00", "16:00", 15, 10, 4.0, 2.0, False, ("sun",)),
}
_INSERT_CHUNK = 10_000


def day_row(rng: random.Random, emp: str, site: str, day: date, rule: ShiftRule, ctx: str | None) -> dict:
    """One stored day as the rules would store it, for a weighted-random behaviour."""
    row = {"employee_id": emp, "day": day.isoformat(), "site_id": site, "first_in": None, "last_out": None,
           "worked_minutes": None, "late_minutes": 0, "early_minutes": 0, "flags": "", "events": 0,
           "computed_at": STAMP}
    if ctx in ("holiday", "weekly_off", "on_leave", "on_tour"):
        return {**row, "status": ctx}
    start, end = (t.timestamp() for t in rule.scheduled(day, TZ))
    roll = rng.random()
    if ctx == "half_day_leave":
        kind, arrive, worked = "half_day", rng.randint(-10, 5), rng.randint(200, 260)
    elif roll < 0.80:
        kind, arrive, worked = "present", rng.randint(-25, rule.grace_late_min), None
    elif roll < 0.88:
        kind, arrive, worked = "late", rng.randint(rule.grace_late_min + 1, 95), None
    elif roll < 0.92:
        kind, arrive, worked = "half_day", rng.randint(-10, 60), rng.randint(130, 235)
    elif roll < 0.93:
        kind, arrive, worked = "too_short", rng.randint(-10, 30), rng.randint(10, 110)
    else:
        return {**row, "status": "absent"}
    first_in = start + arrive * 60
    last_out = first_in + worked * 60 if worked is not None else end + rng.randint(-5, 45) * 60
    status, flags = kind, []
    if kind == "too_short":
        status, flags = "absent", ["too_short"]
    elif ctx == "half_day_leave":
        flags = ["half_day_leave"]
    early = max(0, int((end - last_out) // 60))
    if early > rule.grace_early_min:
        flags.append("early_exit")
    return {**row, "status": status, "first_in": utc_iso(first_in), "last_out": utc_iso(last_out),
            "worked_minutes": int((last_out - first_in) // 60), "late_minutes": max(0, arrive), "early_minutes": early,
            "flags": ",".join(sorted(flags)), "events": 2}


def seed(engine: sa.Engine, n_employees: int, n_days: int, rng: random.Random) -> dict:
    """Offices, shifts, holidays, leave, tours and every employee's days, in bulk inserts."""
    n_sites = max(1, min(100, round(n_employees / 100)))
    n_districts = min(5, n_sites)
    days = [MONTH_START + timedelta(days=i) for i in range(n_days)]
    site_ids = [f"office-{i:03d}" for i in range(n_sites)]
    district_of = {s: f"district-{i % n_districts + 1}" for i, s in enumerate(site_ids)}
    global_holiday = {MONTH_START + timedelta(days=1)}  # the state holiday on the 2nd
    site_holiday = {s: MONTH_START + timedelta(days=19) for s in site_ids[::10]}  # a local festival
    emps, leave_rows, tour_rows, day_rows = [], [], [], []
    for i in range(n_employees):
        emp, site = f"emp-{i:05d}", site_ids[i % n_sites]
        shift_id = rng.choices([None, "early-5day", "field-6day"], [6, 3, 1])[0]
        emps.append({"employee_id": emp, "name": f"Employee {i:05d}", "role": "staff", "site_id": site,
                     "shift_id": shift_id, "active": True, "created_at": STAMP})
        ctx: dict[date, str] = {}
        if rng.random() < 0.05:  # a tour of 1-3 days
            first = rng.randrange(n_days)
            span = days[first:first + rng.randint(1, 3)]
            tour_rows.append({"employee_id": emp, "from_day": span[0].isoformat(), "to_day": span[-1].isoformat(),
                              "purpose": "village inspection", "approved": True, "created_at": STAMP})
            ctx.update(dict.fromkeys(span, "on_tour"))
        if rng.random() < 0.12:  # leave of 1-4 days outranks a tour on the same days
            first = rng.randrange(n_days)
            span = days[first:first + rng.randint(1, 4)]
            leave_rows.append({"employee_id": emp, "from_day": span[0].isoformat(), "to_day": span[-1].isoformat(),
                               "kind": rng.choice(["casual", "earned", "medical"]), "approved": True,
                               "created_at": STAMP})
            ctx.update(dict.fromkeys(span, "on_leave"))
        if rng.random() < 0.03:
            one = days[rng.randrange(n_days)]
            if one not in ctx:
                leave_rows.append({"employee_id": emp, "from_day": one.isoformat(), "to_day": one.isoformat(),
                                   "kind": "half_day", "approved": True, "created_at": STAMP})
                ctx[one] = "half_day_leave"
        rule = SHIFTS[shift_id]
        for day in days:
            c = ctx.get(day)
            if day in global_holiday or site_holiday.get(site) == day:
                c = "holiday"
            elif rule.is_weekly_off(day):
                c = "weekly_off"
            day_rows.append(day_row(rng, emp, site, day, rule, c))
    with engine.begin() as conn:
        conn.execute(sa.insert(sites), [{"site_id": s, "name": f"Block Office {s[-3:]}", "kind": "office",
                                         "created_at": STAMP} for s in site_ids])
        conn.execute(sa.insert(site_details), [{"site_id": s, "district": district_of[s]} for s in site_ids])
        conn.execute(sa.insert(shifts), [
            {"shift_id": r.shift_id, "name": r.shift_id, "start_time": r.start_time, "end_time": r.end_time,
             "grace_late_min": r.grace_late_min, "grace_early_min": r.grace_early_min,
             "half_day_hours": r.half_day_hours, "absent_hours": r.absent_hours, "overnight": r.overnight,
             "weekly_off": ",".join(r.weekly_off), "created_at": STAMP} for k, r in SHIFTS.items() if k])
        hols = ([{"day": d.isoformat(), "site_id": None, "name": "Gandhi Jayanti"} for d in global_holiday if d in days]
                + [{"day": d.isoformat(), "site_id": s, "name": "local festival"}
                   for s, d in site_holiday.items() if d in days])
        conn.execute(sa.insert(employees), emps)
        for table, rows in ((holidays, hols), (leaves, leave_rows), (tours, tour_rows)):
            if rows:
                conn.execute(sa.insert(table), rows)
        for i in range(0, len(day_rows), _INSERT_CHUNK):
            conn.execute(sa.insert(attendance_days), day_rows[i:i + _INSERT_CHUNK])
    return {"sites": n_sites, "districts": n_districts, "day_rows": len(day_rows),
            "events": sum(r["events"] for r in day_rows), "leaves": len(leave_rows), "tours": len(tour_rows)}


def naive_counts(engine: sa.Engine, period: Period, limit: int) -> tuple[int, float]:
    """Baseline: the per-employee status counts with one query per employee (what set-based SQL replaces)."""
    t = time.perf_counter()
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(sa.select(employees.c.employee_id).order_by(employees.c.employee_id)
                                          .limit(limit))]
        for emp in ids:
            conn.execute(sa.select(attendance_days.c.status, sa.func.count()).where(
                attendance_days.c.employee_id == emp,
                attendance_days.c.day.between(period.first.isoformat(), period.last.isoformat()))
                .group_by(attendance_days.c.status)).all()
    return len(ids), time.perf_counter() - t


def run_bench(args: argparse.Namespace) -> dict:
    load_at_start = round(os.getloadavg()[0], 2)
    work = Path(tempfile.mkdtemp(prefix="hajiri-bench-reports-"))
    drop = None
    if args.database:
        from bench.sync import temp_postgres

        url, drop = temp_postgres(args.database)
        database = "postgresql"
    else:
        url, database = f"sqlite:///{work / 'central.db'}", "sqlite"
    engine = make_engine(url)
    try:
        migrate(engine)
        t = time.perf_counter()
        seeded = seed(engine, args.employees, args.days, random.Random(args.seed))
        seconds_seed = time.perf_counter() - t
        period = Period(MONTH_START, MONTH_START + timedelta(days=args.days - 1))
        now = datetime(2026, 11, 25, 12, tzinfo=ZoneInfo(TZ))  # the month is over: no day is pending

        t = time.perf_counter()
        with engine.begin() as conn:
            report = build_monthly(conn, period, ReportScope(), TZ, now=now)
        seconds_compute = time.perf_counter() - t

        t = time.perf_counter()
        csv_path = write_csv(work / "monthly.csv", MONTHLY_COLUMNS, report.rows())
        seconds_csv = time.perf_counter() - t
        t = time.perf_counter()
        write_xlsx(work / "monthly.xlsx", monthly_sheets(report))
        seconds_xlsx = time.perf_counter() - t
        t = time.perf_counter()
        pages = write_pdf(work / "monthly.pdf", *monthly_title(report), FORMULA, monthly_sections(report))
        seconds_pdf = time.perf_counter() - t

        t = time.perf_counter()
        with engine.begin() as conn:
            muster = build_muster(conn, period.last, ReportScope(site_id="office-000"), TZ, now=now)
        seconds_muster = time.perf_counter() - t
        # The part the baseline replaces, alone: the per-employee counts as one GROUP BY.
        t = time.perf_counter()
        with engine.connect() as conn:
            select_month_counts(conn, ReportScope(), period)
        seconds_counts = time.perf_counter() - t
        naive_n, naive_s = naive_counts(engine, period, args.baseline_employees)
        with engine.connect() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(attendance_days)).scalar_one()
        counted = sum(m.recorded for m in report.employees)
        return {
            "employees": args.employees, "days": args.days, "events": seeded["events"],
            "seconds_compute": round(seconds_compute, 3), "seconds_csv": round(seconds_csv, 3),
            "seconds_xlsx": round(seconds_xlsx, 3), "seconds_pdf": round(seconds_pdf, 3),
            "database": database, "sites": seeded["sites"], "districts": seeded["districts"],
            "day_rows": seeded["day_rows"], "leaves": seeded["leaves"], "tours": seeded["tours"],
            "report_rows": len(report.employees), "late_rows": len(report.late), "absent_rows": len(report.absent),
            "days_filled": report.days_filled, "totals_match_rows": counted == stored == seeded["day_rows"],
            "payable_days_total": sum(m.payable_days for m in report.employees),
            "csv_bytes": csv_path.stat().st_size, "xlsx_bytes": (work / "monthly.xlsx").stat().st_size,
            "pdf_bytes": (work / "monthly.pdf").stat().st_size, "pdf_pages": pages,
            "seconds_muster_one_office": round(seconds_muster, 3), "muster_rows": len(muster.rows),
            "seconds_seed": round(seconds_seed, 2),
            "seconds_counts_group_by": round(seconds_counts, 3), "baseline_naive_employees": naive_n, "baseline_naive_seconds": round(naive_s, 3),
            "baseline_naive_seconds_scaled_to_all": round(naive_s * args.employees / max(1, naive_n), 2),
            "load_avg_1m_at_start": load_at_start,
        }
    finally:
        engine.dispose()
        if drop is not None:
            drop()
        shutil.rmtree(work, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__.split("\n\n")[0])
    p.add_argument("--employees", type=int, default=10_000, help="employees (default 10000)")
    p.add_argument("--days", type=int, default=31, help="days of October 2026 to seed and report, 1..31 (default 31)")
    p.add_argument("--database", default=None,
                   help="PostgreSQL URL; a temporary database is created beside it and dropped (default SQLite)")
    p.add_argument("--seed", type=int, default=7, help="RNG seed (default 7)")
    p.add_argument("--baseline-employees", type=int, default=300,
                   help="employees for the one-query-per-employee baseline (default 300)")
    args = p.parse_args(argv)
    if args.employees < 1 or not 1 <= args.days <= 31:
        p.error("need --employees >= 1 and --days in 1..31")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    print_result(run_bench(parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
