"""The day's one owner (SQLite and PostgreSQL): reads never write, a day stored after its shift ended is read
as stored, an input that changes (leave) recomputes the stored days, and reports fill in missing days without
asking explanations for days before the employee was registered."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from central_server.attendance.rules.recompute import (
    fill_missing_days,
    read_days,
    recompute_days,
    recompute_stored,
)
from central_server.attendance.rules.timeline import parse_instant
from central_server.db.schema import attendance_days, employees, explanations, leaves
from central_server.org.employees import add_absence, create_employee
from central_server.org.sites import create_site

TZ = "Asia/Kolkata"
D = date(2026, 11, 25)  # a Wednesday
LATER = datetime(2026, 11, 28, tzinfo=UTC)


def seed(engine) -> None:
    with engine.begin() as conn:
        create_site(conn, "office-1", "Office", "office", actor="test")
        for emp in ("emp-1", "emp-2"):
            create_employee(conn, {"employee_id": emp, "name": emp, "site_id": "office-1"}, actor="test")
        # Registered before the test's days: no explanation is asked for a day before Hajiri knew the employee.
        conn.execute(sa.update(employees).values(created_at="2026-01-01T00:00:00.000Z"))


def stored(engine) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        return {(r.employee_id, r.day): r.status for r in conn.execute(sa.select(attendance_days))}


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_a_read_computes_what_is_not_stored_and_writes_nothing(engine):
    seed(engine)
    with engine.begin() as conn:
        days = read_days(conn, D, TZ, now=LATER)
    assert [(d["employee_id"], d["status"], d["flags"]) for d in days] == [("emp-1", "absent", []),
                                                                         ("emp-2", "absent", [])]
    assert stored(engine) == {} and count(engine, explanations) == 0


def test_a_day_stored_after_its_shift_is_read_as_stored(engine):
    seed(engine)
    with engine.begin() as conn:
        recompute_days(conn, None, [D], TZ, now=LATER)
        # Marked by hand so the read shows where its answer came from.
        conn.execute(sa.update(attendance_days).where(attendance_days.c.employee_id == "emp-1")
                     .values(status="holiday", flags="by_hand"))
    with engine.begin() as conn:
        days = {d["employee_id"]: d for d in read_days(conn, D, TZ, site_id="office-1", now=LATER)}
    assert days["emp-1"]["status"] == "holiday" and days["emp-1"]["flags"] == ["by_hand"]
    assert days["emp-2"]["status"] == "absent"


def test_a_day_stored_before_its_shift_ended_is_computed_again(engine):
    seed(engine)
    with engine.begin() as conn:
        recompute_days(conn, "emp-1", [D], TZ, now=LATER)
        conn.execute(sa.update(attendance_days).values(status="present", computed_at="2026-11-25T05:00:00.000Z"))
    with engine.begin() as conn:
        assert read_days(conn, D, TZ, employee_id="emp-1", now=LATER)[0]["status"] == "absent"
    assert stored(engine) == {("emp-1", "2026-11-25"): "present"}  # and still nothing written


def test_leave_recomputes_only_the_stored_days(engine):
    seed(engine)
    with engine.begin() as conn:
        recompute_days(conn, "emp-1", [D], TZ, now=LATER)
    assert count(engine, explanations) == 1  # absent: an explanation is due
    with engine.begin() as conn:
        add_absence(conn, leaves, {"employee_id": "emp-1", "from_day": "2026-11-24", "to_day": "2026-11-30",
                                   "approved": True, "kind": "casual"}, actor="test")
        assert recompute_stored(conn, "2026-11-24", "2026-11-30", TZ, employee_id="emp-1") == 1
    assert stored(engine) == {("emp-1", "2026-11-25"): "on_leave"}
    with engine.connect() as conn:
        assert conn.execute(sa.select(explanations.c.status)).scalar_one() == "withdrawn"


def test_reports_fill_in_the_missing_days(engine):
    seed(engine)
    with engine.begin() as conn:
        recompute_days(conn, "emp-1", [D], TZ, now=LATER)
        assert fill_missing_days(conn, ["emp-1", "emp-2"], [D, date(2026, 11, 26)], TZ, LATER) == 3
    assert set(stored(engine)) == {("emp-1", "2026-11-25"), ("emp-1", "2026-11-26"), ("emp-2", "2026-11-25"),
                                   ("emp-2", "2026-11-26")}


def test_a_report_asks_no_explanation_for_days_before_the_employee_was_registered(engine):
    """The bug: a report download raised 'absent' requests for an employee registered today with an earlier
    joining day. Those days are filled in (Hajiri stores what the rules say) but nobody is asked about them."""
    seed(engine)
    with engine.begin() as conn:
        create_employee(conn, {"employee_id": "new-1", "name": "New", "site_id": "office-1",
                               "joined_on": "2026-11-02"}, actor="test")  # registered now, joined weeks ago
        created = conn.execute(sa.select(employees.c.created_at).where(employees.c.employee_id == "new-1")).scalar()
    registered = parse_instant(created).astimezone(ZoneInfo(TZ)).date()
    days = [registered - timedelta(days=i) for i in range(1, 8)]
    with engine.begin() as conn:
        assert fill_missing_days(conn, ["new-1"], days, TZ, datetime.now(UTC)) == 7
    assert {d: s for (e, d), s in stored(engine).items() if e == "new-1"}.keys() == {d.isoformat() for d in days}
    with engine.connect() as conn:
        asked = conn.execute(sa.select(explanations.c.day).where(explanations.c.employee_id == "new-1")).all()
    assert asked == []
    # From the day Hajiri knew them, an absence is asked about as usual.
    with engine.begin() as conn:
        fill_missing_days(conn, ["new-1"], [registered], TZ, datetime.now(UTC) + timedelta(days=1))
        asked = conn.execute(sa.select(explanations.c.day, explanations.c.reason).where(
            explanations.c.employee_id == "new-1")).all()
    if registered.weekday() != 6:  # a Sunday is the default shift's weekly off: nothing to ask
        assert [tuple(a) for a in asked] == [(registered.isoformat(), "absent")]
