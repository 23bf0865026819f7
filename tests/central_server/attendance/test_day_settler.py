"""The day settler (SQLite and PostgreSQL): once a shift is over the day is stored as final, an absence asks
its explanation, a night shift waits for its morning, a second run stores nothing, and the thread runs it."""

import time
from datetime import UTC, date, datetime

import sqlalchemy as sa

from central_server.attendance.day_settler import DaySettler, settle_recent
from central_server.attendance.rules.recompute import recompute_after_ingest, settle_days
from central_server.db.schema import attendance_days, explanations
from tests.builders import local_wire
from tests.central_server.attendance.rules.test_recompute import ingest, seed

TZ = "Asia/Kolkata"
DAY = date(2026, 11, 25)  # a Wednesday
EVENING = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # 18:30 in India: the office shift is over, the night's not


def stored(engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        return {r.employee_id: (r.status, r.computed_at) for r in conn.execute(
            sa.select(attendance_days).where(attendance_days.c.day == DAY.isoformat()))}


def test_a_day_is_stored_final_once_its_shift_is_over(engine, registered):
    seed(engine)
    recs = [registered.record("emp-1", "IN", local_wire(DAY, "10:40"))]
    ingest(engine, registered, recs)
    recompute_after_ingest(engine, [("emp-1", r.wall_time) for r in recs], TZ)
    # As the ingest worker stores it when the record arrives (stamped with the real clock: set it to then).
    computed_at = "2026-11-25T05:10:00.000Z"
    with engine.begin() as conn:
        conn.execute(sa.update(attendance_days).values(computed_at=computed_at))
    assert stored(engine) == {"emp-1": ("late", computed_at)}
    with engine.begin() as conn:
        assert settle_days(conn, [DAY], TZ, EVENING) == 1  # emp-1 settles; emp-2's night shift is not over
    days = stored(engine)
    assert set(days) == {"emp-1"} and days["emp-1"][0] == "late" and days["emp-1"][1] > computed_at
    with engine.begin() as conn:
        assert settle_days(conn, [DAY], TZ, EVENING) == 0  # final now: nothing to do twice
    morning = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 07:30 next day: the night shift has ended, no one came
    with engine.begin() as conn:
        assert settle_days(conn, [DAY], TZ, morning) == 1
    assert stored(engine)["emp-2"][0] == "absent"
    with engine.connect() as conn:
        asked = conn.execute(sa.select(explanations.c.employee_id, explanations.c.reason)).all()
    assert sorted(asked) == [("emp-1", "late"), ("emp-2", "absent")]


def test_the_settler_thread_settles_recent_days(engine, registered):
    seed(engine)
    now = datetime.now(UTC)
    assert settle_recent(engine, TZ, 1, now) >= 0  # today may or may not be over; yesterday's office day is
    settler = DaySettler(engine, TZ, every_s=0.2, look_back_days=2)
    with engine.begin() as conn:
        conn.execute(sa.delete(explanations))
        conn.execute(sa.delete(attendance_days))
    settler.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(sa.select(sa.func.count()).select_from(attendance_days)).scalar_one() >= 2:
                    break
            time.sleep(0.2)
    finally:
        settler.stop()
    with engine.connect() as conn:
        days = conn.execute(sa.select(attendance_days.c.employee_id, attendance_days.c.status)).all()
    assert len(days) >= 2 and all(status != "pending" for _, status in days)
