"""Rules against the database (SQLite and PostgreSQL): kiosk records via real ingest, late syncs, night
shifts, a kiosk clock corrected after the fact, the explanation requests that follow the statuses, and days
before a site's go-live day."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from central_server.attendance.rules.recompute import (
    compute_days,
    fill_missing_days,
    recompute_after_ingest,
    recompute_days,
    select_employees,
)
from central_server.attendance.rules.timeline import has_corrected_time
from central_server.db.schema import attendance_days, employees, explanations, leaves
from central_server.ingest.records import ingest_payload
from central_server.org.employees import add_absence, create_employee, create_shift, set_site_details
from hajiri_wire import RecordBatch, UnsignedRecord, encode_batch, record_hash, sign_record, topics
from hajiri_wire.ids import uuid7
from tests.builders import local_wire

TZ = "Asia/Kolkata"
D = date(2026, 11, 25)
LATER = datetime(2026, 11, 28, tzinfo=UTC)


def z(day: date, hhmm: str) -> str:
    """A local (IST) clock time as the wire's UTC instant."""
    return local_wire(day, hhmm)


def ingest(engine, kiosk, recs) -> None:
    outcome = ingest_payload(engine, topics.records(kiosk.device_id),
                             encode_batch(RecordBatch(device_id=kiosk.device_id, records=recs)))
    assert outcome.stored == len(recs), outcome


def seed(engine, site_id: str = "office-1") -> None:
    with engine.begin() as conn:
        create_shift(conn, {"shift_id": "office", "name": "Office", "start_time": "10:00", "end_time": "17:30",
                            "grace_late_min": 10, "grace_early_min": 10, "half_day_hours": 4.0,
                            "absent_hours": 2.0, "overnight": False, "weekly_off": ["sun"]}, actor="test")
        create_shift(conn, {"shift_id": "night", "name": "Night", "start_time": "22:00", "end_time": "06:00",
                            "grace_late_min": 10, "grace_early_min": 10, "half_day_hours": 4.0,
                            "absent_hours": 2.0, "overnight": True, "weekly_off": []}, actor="test")
        create_employee(conn, {"employee_id": "emp-1", "name": "Asha", "site_id": site_id, "shift_id": "office"},
                        actor="test")
        create_employee(conn, {"employee_id": "emp-2", "name": "Bhim", "site_id": site_id, "shift_id": "night"},
                        actor="test")
        registered_before_the_test_days(conn)


def registered_before_the_test_days(conn) -> None:
    """Employees created now are registered after the test's days, and no explanation is asked for a day before
    Hajiri knew the employee: date their registration back to before those days."""
    conn.execute(sa.update(employees).values(created_at="2026-01-01T00:00:00.000Z"))


def statuses(engine, day: date, now=LATER) -> dict[str, tuple]:
    with engine.begin() as conn:
        results = recompute_days(conn, None, [day], TZ, now=now)
    return {emp["employee_id"]: (r.status, r.worked_minutes) for emp, r in results}


def day_explanations(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(
            explanations.c.employee_id, explanations.c.day, explanations.c.reason, explanations.c.status)
            .order_by(explanations.c.employee_id, explanations.c.reason))]


def test_a_late_sync_recomputes_a_finished_day(engine, registered):
    seed(engine)
    assert statuses(engine, D) == {"emp-1": ("absent", None), "emp-2": ("absent", None)}
    assert day_explanations(engine) == [("emp-1", "2026-11-25", "absent", "open"),
                                        ("emp-2", "2026-11-25", "absent", "open")]
    # Three days later the kiosk, offline all this while, syncs the day.
    ingest(engine, registered, [registered.record("emp-1", "IN", z(D, "10:04")),
                                registered.record("emp-1", "OUT", z(D, "17:35"))])
    assert statuses(engine, D)["emp-1"] == ("present", 451)
    assert day_explanations(engine)[0] == ("emp-1", "2026-11-25", "absent", "withdrawn")
    with engine.connect() as conn:
        stored = conn.execute(sa.select(attendance_days).where(attendance_days.c.employee_id == "emp-1")).one()
    assert (stored.status, stored.first_in, stored.last_out) == ("present", z(D, "10:04"), z(D, "17:35"))
    assert len(day_explanations(engine)) == 2  # recomputing again raises nothing new


def test_the_ingest_hook_recomputes_the_touched_days(engine, registered):
    seed(engine)
    d2 = D + timedelta(days=1)
    recs = [registered.record("emp-2", "IN", z(D, "22:00")), registered.record("emp-2", "OUT", z(d2, "06:00")),
            registered.record("emp-1", "IN", z(d2, "10:30")), registered.record("stranger", "IN", z(D, "10:00"))]
    ingest(engine, registered, recs)
    assert recompute_after_ingest(engine, [(r.person_id, r.wall_time) for r in recs], TZ) == 2
    with engine.connect() as conn:
        rows = conn.execute(sa.select(attendance_days.c.employee_id, attendance_days.c.day,
                                      attendance_days.c.status).order_by(attendance_days.c.employee_id)).all()
    assert [tuple(r) for r in rows] == [("emp-1", "2026-11-26", "late"), ("emp-2", "2026-11-25", "present")]


def test_night_shift_spans_midnight_in_the_database(engine, registered):
    seed(engine)
    d2 = D + timedelta(days=1)
    ingest(engine, registered, [registered.record("emp-2", "IN", z(D, "22:20")),
                                registered.record("emp-2", "OUT", z(d2, "06:05"))])
    with engine.begin() as conn:
        results = compute_days(conn, select_employees(conn, employee_id="emp-2"), [D, d2], TZ, LATER)
    by_day = {r.day: r for _, r in results}
    assert (by_day[D].status, by_day[D].worked_minutes, by_day[D].late_minutes) == ("late", 465, 20)
    assert by_day[d2].status == "absent" and by_day[d2].events == 0


def test_leave_on_a_day_with_kiosk_records(engine, registered):
    seed(engine)
    with engine.begin() as conn:
        add_absence(conn, leaves, {"employee_id": "emp-1", "from_day": "2026-11-24", "to_day": "2026-11-26",
                                   "kind": "medical", "approved": True}, actor="test")
        add_absence(conn, leaves, {"employee_id": "emp-2", "from_day": "2026-11-25", "to_day": "2026-11-25",
                                   "kind": "casual", "approved": False}, actor="test")
    ingest(engine, registered, [registered.record("emp-1", "IN", z(D, "11:00"))])
    with engine.begin() as conn:
        results = recompute_days(conn, None, [D], TZ, now=LATER)
    got = {emp["employee_id"]: r for emp, r in results}
    assert got["emp-1"].status == "on_leave" and "attended_on_leave" in got["emp-1"].flags
    assert got["emp-2"].status == "absent"  # a leave not approved does not excuse
    assert [e[2:] for e in day_explanations(engine)] == [("absent", "open")]


def unsynced(kiosk, person: str, event: str, wall_time: str):
    """A signed record from a kiosk without network time (clock_synced false), next in its chain."""
    kiosk.seq += 1
    rec = sign_record(UnsignedRecord(
        record_id=uuid7(), device_id=kiosk.device_id, site_id=kiosk.site_id, seq=kiosk.seq, person_id=person,
        event=event, wall_time=wall_time, boot_id="boot-no-rtc", mono_ns=kiosk.seq * 10**9, clock_synced=False,
        match_score=0.7, liveness_score=0.9, model_version="sface-2021dec", prev_hash=kiosk.prev_hash), kiosk.key)
    kiosk.prev_hash = record_hash(rec)
    return rec


def test_a_kiosk_whose_clock_was_wrong_counts_at_the_corrected_time(engine, registered):
    with engine.connect() as conn:
        if not has_corrected_time(conn):
            pytest.skip("no record_times table: the clock-correction migration is not in this schema")
    seed(engine)
    # The kiosk booted with its clock in 2020 and no network time.
    recs = [unsynced(registered, "emp-1", "IN", "2020-01-01T04:40:00.000Z"),
            unsynced(registered, "emp-1", "OUT", "2020-01-01T12:00:00.000Z")]
    ingest(engine, registered, recs)
    assert statuses(engine, D)["emp-1"] == ("absent", None)
    with engine.begin() as conn:
        for rec, hhmm in zip(recs, ("10:05", "17:30"), strict=True):
            # What the heartbeat re-basing does once the boot is anchored (central_server.heartbeat).
            conn.execute(sa.text("DELETE FROM record_times WHERE record_id = :r"), {"r": rec.record_id})
            conn.execute(sa.text(
                "INSERT INTO record_times (record_id, device_id, boot_id, mono_ns, corrected_wall_time,"
                " time_corrected, corrected_at) VALUES (:r, :d, :b, :m, :t, TRUE, :t)"),
                {"r": rec.record_id, "d": rec.device_id, "b": rec.boot_id, "m": rec.mono_ns, "t": z(D, hhmm)})
    try:
        with engine.begin() as conn:
            (_, day), = recompute_days(conn, "emp-1", [D], TZ, now=LATER)
        assert (day.status, day.worked_minutes, day.flags) == ("present", 445, ["kiosk_time_corrected"])
        assert statuses(engine, date(2020, 1, 1))["emp-1"][0] == "absent"  # gone from the day it claimed
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM record_times WHERE record_id IN (:a, :b)"),
                         {"a": recs[0].record_id, "b": recs[1].record_id})


def test_unsynced_records_without_a_correction_are_flagged(engine, registered):
    seed(engine)
    ingest(engine, registered, [unsynced(registered, "emp-1", "IN", z(D, "10:00"))])
    with engine.begin() as conn:
        (_, day), = recompute_days(conn, "emp-1", [D], TZ, now=LATER)
        if has_corrected_time(conn):  # not emptied between tests by the shared fixtures
            conn.execute(sa.text("DELETE FROM record_times WHERE device_id = 'kiosk-01'"))
    assert day.status == "present" and "kiosk_clock_unsynced" in day.flags


@pytest.mark.parametrize("now, expected", [(datetime(2026, 11, 25, 8, 0, tzinfo=UTC), "pending"),
                                           (datetime(2026, 11, 25, 12, 30, tzinfo=UTC), "absent")])
def test_absence_is_only_raised_once_the_shift_is_over(sqlite_engine, now, expected):
    from central_server.org.sites import create_site

    with sqlite_engine.begin() as conn:
        create_site(conn, "office-1", "Office", "office", actor="test")
    seed(sqlite_engine)
    assert statuses(sqlite_engine, D, now)["emp-1"] == (expected, None)
    raised = [e for e in day_explanations(sqlite_engine) if e[0] == "emp-1"]
    assert raised == ([] if expected == "pending" else [("emp-1", "2026-11-25", "absent", "open")])


def test_days_outside_employment_are_not_employed_not_absent_and_raise_nothing(engine, registered):
    seed(engine)
    with engine.begin() as conn:
        create_employee(conn, {"employee_id": "emp-3", "name": "Chandan", "site_id": "office-1",
                               "shift_id": "office", "joined_on": "2026-11-24", "left_on": "2026-11-26"},
                        actor="test")
        registered_before_the_test_days(conn)
    before, first, last, after = (date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 26),
                                  date(2026, 11, 27))
    assert statuses(engine, before)["emp-3"] == ("not_employed", None)
    assert statuses(engine, after)["emp-3"] == ("not_employed", None)
    # Inside the period the usual rules apply: no IN on a finished working day is an absence.
    assert statuses(engine, first)["emp-3"] == ("absent", None)
    assert statuses(engine, last)["emp-3"] == ("absent", None)
    raised = sorted(e[1] for e in day_explanations(engine) if e[0] == "emp-3")
    assert raised == ["2026-11-24", "2026-11-26"]


def test_an_employment_period_that_ends_before_it_starts_is_refused():
    from pydantic import ValidationError

    from central_server.org.schemas import EmployeeCreate

    base = {"employee_id": "emp-9", "name": "X", "site_id": "office-1"}
    with pytest.raises(ValidationError, match="left_on 2026-11-01 is before joined_on 2026-11-20"):
        EmployeeCreate(**base, joined_on="2026-11-20", left_on="2026-11-01")
    with pytest.raises(ValidationError, match="not a calendar date"):
        EmployeeCreate(**base, joined_on="2026-02-30")
    assert EmployeeCreate(**base, joined_on="2026-11-20").left_on is None


def test_days_before_the_go_live_day_are_not_live_and_raise_nothing(engine, registered):
    seed(engine)
    with engine.begin() as conn:
        set_site_details(conn, "office-1", {"district": "North", "go_live_on": "2026-11-25"}, actor="test")
    before = D - timedelta(days=1)
    assert statuses(engine, before) == {"emp-1": ("not_live", None), "emp-2": ("not_live", None)}
    assert statuses(engine, D)["emp-1"] == ("absent", None)  # live from its first day
    assert sorted({e[1] for e in day_explanations(engine)}) == ["2026-11-25"]
    # A report filling in the week before stores them as not_live, and asks nothing either.
    with engine.begin() as conn:
        assert fill_missing_days(conn, ["emp-1", "emp-2"], [D - timedelta(days=i) for i in range(2, 8)], TZ,
                                 LATER) == 12
        stored = {r.status for r in conn.execute(sa.select(attendance_days.c.status).where(
            attendance_days.c.day < "2026-11-25"))}
    assert stored == {"not_live"}
    assert sorted({e[1] for e in day_explanations(engine)}) == ["2026-11-25"]
    # A kiosk record from before go-live (a kiosk tried out early) does not make the day count.
    ingest(engine, registered, [registered.record("emp-1", "IN", z(before, "10:00"))])
    assert statuses(engine, before)["emp-1"] == ("not_live", None)
