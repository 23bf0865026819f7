"""Reports against the database (SQLite and PostgreSQL): a hand-built month through real ingest and the day
rules, the payable-days formula, the muster roll, totals against the raw day rows, and both engines giving
byte-identical CSVs."""

import csv
import io
import random
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from bench.reports import MONTH_START
from bench.reports import seed as seed_bench
from central_server.attendance.rules.recompute import recompute_after_ingest
from central_server.db.schema import attendance_days, employees, explanations, leaves, metadata, tours
from central_server.ingest.records import ingest_payload
from central_server.org.employees import (
    add_absence,
    add_holiday,
    create_employee,
    create_shift,
    set_site_details,
)
from central_server.org.sites import create_site
from central_server.reports import (
    Period,
    ReportScope,
    build_monthly,
    build_muster,
    month_period,
    write_month_reports,
)
from central_server.reports.csv_writer import iter_csv
from central_server.reports.monthly import ABSENT_COLUMNS, LATE_COLUMNS, MONTHLY_COLUMNS, ROLLUP_COLUMNS
from central_server.reports.muster import MUSTER_COLUMNS
from hajiri_wire import RecordBatch, encode_batch, topics
from tests.builders import local_wire

TZ = "Asia/Kolkata"
FEB = month_period("2026-02", date(2026, 3, 5))  # 1 Feb 2026 is a Sunday
NOW = datetime(2026, 3, 5, tzinfo=UTC)


def z(day: int, hhmm: str) -> str:
    """A local (IST) clock time on a February day as the wire's UTC instant."""
    return local_wire(f"2026-02-{day:02d}", hhmm)


def seed_february(engine, kiosk) -> None:
    """emp-1 at office-1 (district North): every kind of day. emp-2 at office-2 (South): no records at all."""
    with engine.begin() as conn:
        create_site(conn, "office-2", "Office Two", "office", actor="test")
        set_site_details(conn, "office-1", {"district": "North"}, actor="test")
        set_site_details(conn, "office-2", {"district": "South"}, actor="test")
        create_shift(conn, {"shift_id": "office", "name": "Office", "start_time": "10:00", "end_time": "17:30",
                            "grace_late_min": 10, "grace_early_min": 10, "half_day_hours": 4.0,
                            "absent_hours": 2.0, "overnight": False, "weekly_off": ["sun"]}, actor="test")
        for emp, name, site in (("emp-1", "Asha", "office-1"), ("emp-2", "Bhim", "office-2")):
            create_employee(conn, {"employee_id": emp, "name": name, "site_id": site, "shift_id": "office"},
                            actor="test")
        add_holiday(conn, "2026-02-16", "office festival", "office-1", actor="test")
        add_holiday(conn, "2026-02-26", "state holiday", None, actor="test")
        for table, extra, first, last in ((leaves, {"kind": "casual"}, 2, 3), (leaves, {"kind": "half_day"}, 4, 4),
                                          (tours, {"purpose": "inspection"}, 9, 10)):
            add_absence(conn, table, {"employee_id": "emp-1", "from_day": f"2026-02-{first:02d}",
                                      "to_day": f"2026-02-{last:02d}", "approved": True, **extra}, actor="test")
    recs = []
    for day, times in ((4, ("10:00", "14:00")),   # half-day leave, worked the other half
                       (5, ("10:00", "13:00")),   # half day
                       (6, ("10:30", "17:40")),   # late
                       (11, ("09:55", "17:30")),  # present
                       (12, ("10:05",)),          # present, no OUT (flagged missing_out)
                       (13, ("10:00", "11:00"))):  # too short: absent
        recs += [kiosk.record("emp-1", kind, z(day, t)) for kind, t in zip(("IN", "OUT"), times, strict=False)]
    outcome = ingest_payload(engine, topics.records(kiosk.device_id),
                             encode_batch(RecordBatch(device_id=kiosk.device_id, records=recs)))
    assert outcome.stored == len(recs), outcome
    # As the ingest worker does after each batch: the touched days are recomputed (with the time of the run
    # standing for "now", every February day is over).
    assert recompute_after_ingest(engine, [(r.person_id, r.wall_time) for r in recs], TZ) == 6


def test_the_payable_days_formula_on_a_hand_built_month(engine, registered):
    seed_february(engine, registered)
    with engine.begin() as conn:
        report = build_monthly(conn, FEB, ReportScope(), TZ, now=NOW)
    assert report.days_filled == 2 * 28 - 6  # ingest computed the 6 days with records; the rest now
    one, two = report.employees
    assert (one.employee_id, one.district, two.employee_id, two.district) == ("emp-1", "North", "emp-2", "South")
    # 28 days: 4 Sundays, the office festival and the state holiday leave 22 working days.
    assert (one.days, one.weekly_off, one.holiday, one.working_days) == (28, 4, 2, 22)
    assert (one.present_days, one.late, one.half_day, one.half_day_leave) == (3, 1, 2, 1)
    assert (one.on_leave, one.leave, one.on_tour) == (2, 2.5, 2)
    assert one.absent == 22 - 3 - 2 - 2 - 2  # the too-short day and the 12 days with nothing
    # present 3 + leave 2.5 + tour 2 + holidays 2 + weekly offs 4 + 0.5 x 2 half days
    assert one.payable_days == 14.5
    assert (two.working_days, two.absent, two.payable_days) == (23, 23, 5)  # only the state holiday is theirs
    row = dict(zip(MONTHLY_COLUMNS, report.rows()[0], strict=True))
    assert (row["present"], row["leave"], row["late_count"], row["payable_days"], row["not_recorded"]) == \
        (3, 2.5, 1, 14.5, 0)
    assert [r[4] for r in report.late] == ["2026-02-06"] and report.late[0][5:] == ("10:30", 30)
    assert "too_short" in dict(((r[2], r[4]), r[5]) for r in report.absent)[("emp-1", "2026-02-13")]
    rollup = {(r[0], r[1], r[2]): dict(zip(ROLLUP_COLUMNS, r, strict=True)) for r in report.rollup()}
    assert rollup[("office", "North", "office-1")]["payable_days"] == 14.5
    assert rollup[("district", "South", "")]["absent"] == 23
    assert rollup[("total", "", "")]["payable_days"] == 19.5 and rollup[("total", "", "")]["employees"] == 2


def test_a_scope_limits_the_report(engine, registered):
    seed_february(engine, registered)
    with engine.begin() as conn:
        north = build_monthly(conn, FEB, ReportScope(district="North"), TZ, now=NOW)
        office2 = build_monthly(conn, FEB, ReportScope(site_id="office-2"), TZ, now=NOW)
        me = build_monthly(conn, FEB, ReportScope(employee_id="emp-2"), TZ, now=NOW)
    assert [m.employee_id for m in north.employees] == ["emp-1"]
    assert north.days_filled == 28 - 6  # only the district's days were computed
    assert [m.employee_id for m in office2.employees] == ["emp-2"] == [m.employee_id for m in me.employees]
    assert office2.days_filled == 28 and me.days_filled == 0


def test_the_muster_roll_of_a_day(engine, registered):
    seed_february(engine, registered)
    with engine.begin() as conn:
        musters = {d: build_muster(conn, date(2026, 2, d), ReportScope(site_id="office-1"), TZ, now=NOW).rows
                   for d in (4, 6, 9, 16)}
    assert {r[1] for rows in musters.values() for r in rows} == {"emp-1"}  # office-1 only
    days = {d: rows[0] for d, rows in musters.items()}
    late = dict(zip(MUSTER_COLUMNS, days[6], strict=True))
    assert (late["first_in"], late["last_out"], late["hours"], late["status"], late["late"], late["late_minutes"]) \
        == ("10:30", "17:40", "7:10", "late", "yes", 30)
    half = dict(zip(MUSTER_COLUMNS, days[4], strict=True))
    assert (half["status"], half["remarks"], half["hours"]) == ("half_day", "leave: half_day", "4:00")
    assert "half_day_leave" in half["flags"].split(",")
    assert dict(zip(MUSTER_COLUMNS, days[9], strict=True))["remarks"] == "tour: inspection"
    fest = dict(zip(MUSTER_COLUMNS, days[16], strict=True))
    assert (fest["status"], fest["remarks"], fest["first_in"]) == ("holiday", "holiday: office festival", "")


def raw_counts(engine, period: Period) -> dict[tuple[str, str], int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(attendance_days.c.employee_id, attendance_days.c.status).where(
            attendance_days.c.day.between(period.first.isoformat(), period.last.isoformat()))).all()
    out: dict[tuple[str, str], int] = {}
    for emp, st in rows:
        out[(emp, st)] = out.get((emp, st), 0) + 1
    return out


def test_totals_equal_the_raw_day_rows(engine):
    seeded = seed_bench(engine, 150, 12, random.Random(3))
    period = Period(MONTH_START, MONTH_START + timedelta(days=11))
    with engine.begin() as conn:
        report = build_monthly(conn, period, ReportScope(), TZ, now=NOW.replace(year=2027))
    raw = raw_counts(engine, period)
    assert report.days_filled == 0 and len(report.employees) == 150
    assert sum(raw.values()) == seeded["day_rows"] == sum(m.recorded for m in report.employees)
    for m in report.employees:
        mine = {st: n for (emp, st), n in raw.items() if emp == m.employee_id}
        assert {st: n for st, n in {"present": m.present, "late": m.late, "half_day": m.half_day,
                                    "on_leave": m.on_leave, "on_tour": m.on_tour, "holiday": m.holiday,
                                    "weekly_off": m.weekly_off, "absent": m.absent}.items() if n} == mine
        assert m.working_days == m.present_days + m.half_day + m.on_leave + m.on_tour + m.absent + m.pending
    assert len(report.late) == sum(n for (_, st), n in raw.items() if st == "late")
    assert len(report.absent) == sum(n for (_, st), n in raw.items() if st == "absent")
    total = dict(zip(ROLLUP_COLUMNS, report.rollup()[-1], strict=True))
    assert total["payable_days"] == sum(m.payable_days for m in report.employees)
    assert total["absent"] == sum(n for (_, st), n in raw.items() if st == "absent")
    assert total["employees"] == 150 and total["late_count"] == len(report.late)
    districts = [r for r in report.rollup() if r[0] == "district"]
    assert sum(r[4] for r in districts) == 150 and len(districts) == seeded["districts"]


@pytest.fixture
def both_engines(sqlite_engine, pg_engine):
    with pg_engine.begin() as conn:  # pg_engine is shared by the session: start it empty, as `engine` does
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    return sqlite_engine, pg_engine


def csv_bytes(columns, rows) -> bytes:
    return b"".join(iter_csv(columns, rows))


def test_sqlite_and_postgresql_give_identical_reports(both_engines):
    period = Period(MONTH_START, MONTH_START + timedelta(days=9))
    outputs = []
    for engine in both_engines:
        seed_bench(engine, 120, 10, random.Random(11))
        with engine.begin() as conn:
            report = build_monthly(conn, period, ReportScope(), TZ, now=NOW.replace(year=2027))
            district = build_monthly(conn, period, ReportScope(district="district-1"), TZ, now=NOW.replace(year=2027))
            muster = build_muster(conn, period.last, ReportScope(site_id="office-000"), TZ, now=NOW.replace(year=2027))
        outputs.append([csv_bytes(MONTHLY_COLUMNS, report.rows()), csv_bytes(ROLLUP_COLUMNS, report.rollup()),
                        csv_bytes(LATE_COLUMNS, report.late), csv_bytes(ABSENT_COLUMNS, report.absent),
                        csv_bytes(MONTHLY_COLUMNS, district.rows()), csv_bytes(MUSTER_COLUMNS, muster.rows)])
    sqlite_out, pg_out = outputs
    assert [len(o.splitlines()) for o in sqlite_out][:4] == [121, len(sqlite_out[1].splitlines()),
                                                              len(sqlite_out[2].splitlines()),
                                                              len(sqlite_out[3].splitlines())]
    assert len(sqlite_out[2].splitlines()) > 10 and len(sqlite_out[3].splitlines()) > 10  # not trivially equal
    for name, a, b in zip(("monthly", "rollup", "late", "absent", "district", "muster"), sqlite_out, pg_out,
                          strict=True):
        assert a == b, name


def test_write_month_reports_writes_the_four_files(engine, registered, tmp_path):
    seed_february(engine, registered)
    paths = write_month_reports(engine, "2026-02", tmp_path / "out", "office-1", tz=TZ, now=NOW)
    assert [p.name for p in paths] == ["muster-office-1-2026-02-28.csv", "monthly-office-1-2026-02.csv",
                                       "monthly-office-1-2026-02.xlsx", "monthly-office-1-2026-02.pdf"]
    monthly = list(csv.DictReader(io.StringIO(paths[1].read_text())))
    assert [(r["employee_id"], r["payable_days"], r["leave"]) for r in monthly] == [("emp-1", "14.5", "2.5")]
    muster = list(csv.DictReader(io.StringIO(paths[0].read_text())))
    assert [(r["employee_id"], r["status"]) for r in muster] == [("emp-1", "absent")]  # a Saturday, no records
    assert zipfile.is_zipfile(paths[2]) and paths[3].read_bytes().startswith(b"%PDF-")


def test_a_mid_month_joiner_is_not_absent_before_joining(engine, registered):
    seed_february(engine, registered)
    with engine.begin() as conn:
        # Joins on Sunday 15 Feb: 14 days of February are theirs (2 Sundays and the state holiday among them).
        create_employee(conn, {"employee_id": "emp-3", "name": "Chandan", "site_id": "office-2",
                               "shift_id": "office", "joined_on": "2026-02-15"}, actor="test")
        report = build_monthly(conn, FEB, ReportScope(employee_id="emp-3"), TZ, now=NOW)
    (m,) = report.employees
    assert (m.days, m.not_employed, m.weekly_off, m.holiday) == (28, 14, 2, 1)
    assert (m.working_days, m.absent, m.not_recorded) == (11, 11, 0)
    assert m.payable_days == 3  # the two Sundays and the holiday after joining, nothing before
    assert all(r[4] >= "2026-02-15" for r in report.absent)


def test_days_before_go_live_are_neither_absent_nor_working_days(engine, registered):
    seed_february(engine, registered)
    with engine.begin() as conn:
        set_site_details(conn, "office-2", {"district": "South", "go_live_on": "2026-02-16"}, actor="test")
        conn.execute(sa.update(employees).values(created_at="2026-01-01T00:00:00.000Z"))  # registered before
        report = build_monthly(conn, FEB, ReportScope(site_id="office-2"), TZ, now=NOW)
        muster = build_muster(conn, date(2026, 2, 10), ReportScope(site_id="office-2"), TZ, now=NOW)
        asked = conn.execute(sa.select(explanations.c.day).where(explanations.c.employee_id == "emp-2")).scalars()
        asked = sorted(asked)
    (m,) = report.employees
    # Live 16..28 February: 13 days, Sunday the 22nd and the state holiday on the 26th; nothing recorded.
    assert (m.days, m.not_live, m.weekly_off, m.holiday, m.not_recorded) == (28, 15, 1, 1, 0)
    assert (m.working_days, m.absent, m.payable_days) == (11, 11, 2)
    assert m.working_days == m.present_days + m.half_day + m.on_leave + m.on_tour + m.absent + m.pending
    assert all(r[4] >= "2026-02-16" for r in report.absent)
    assert dict(zip(MUSTER_COLUMNS, muster.rows[0], strict=True))["status"] == "not_live"
    assert asked and asked[0] >= "2026-02-16"  # absences after go-live are asked about, none before


def test_a_report_asks_a_new_employee_about_no_day_before_they_were_registered(engine, registered):
    """A report downloaded for someone registered today with an earlier joining day fills their month in as the
    rules decide it, and raises no explanation request for the days before Hajiri knew them."""
    seed_february(engine, registered)
    with engine.begin() as conn:
        create_employee(conn, {"employee_id": "emp-3", "name": "Chandan", "site_id": "office-1",
                               "shift_id": "office", "joined_on": "2026-02-09"}, actor="test")
        report = build_monthly(conn, FEB, ReportScope(employee_id="emp-3"), TZ, now=NOW)
        asked = conn.execute(sa.select(explanations).where(explanations.c.employee_id == "emp-3")).all()
    (m,) = report.employees
    assert m.not_employed == 8 and m.absent > 0  # the rules still say what the days were
    assert asked == []
