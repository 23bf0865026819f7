"""attendance_site_days (migration 12) on SQLite and PostgreSQL: the triggers keep it equal to counting
attendance_days per site and day through inserts, upserts that change or keep a status, a move to another site
and deletes; the migration fills it from the days already stored; the roll-up's numbers match."""

from datetime import date

import pytest
import sqlalchemy as sa

from central_server.db import migrate as migrate_module
from central_server.db.engine import make_engine
from central_server.db.schema import attendance_days, attendance_site_days, employees, sites
from central_server.db.upsert import insert_on_conflict
from central_server.reports.period import Period
from central_server.reports.rollup_view import read_rollup

COUNTED = ("present", "late", "half_day", "absent", "on_leave", "on_tour", "pending")
STAMP = "2026-11-01T00:00:00.000Z"


def day(emp: str, iso: str, status: str, site: str = "s1") -> dict:
    return {"employee_id": emp, "day": iso, "site_id": site, "status": status, "first_in": None, "last_out": None,
            "worked_minutes": None, "late_minutes": 0, "early_minutes": 0, "flags": "", "events": 0,
            "computed_at": STAMP}


def seed_people(conn: sa.Connection) -> None:
    conn.execute(sa.insert(sites), [{"site_id": s, "name": s, "kind": "office", "created_at": STAMP}
                                    for s in ("s1", "s2")])
    conn.execute(sa.insert(employees), [{"employee_id": f"e{i}", "name": f"E{i}", "role": "staff",
                                         "site_id": "s1" if i < 4 else "s2", "active": True, "created_at": STAMP}
                                        for i in range(6)])


def counted(conn: sa.Connection) -> dict[tuple[str, str], tuple[int, ...]]:
    """What the triggers keep, zero rows left out."""
    c = attendance_site_days
    rows = conn.execute(sa.select(c.c.site_id, c.c.day, c.c.days, *[c.c[s] for s in COUNTED])).all()
    return {(r[0], r[1]): tuple(r[2:]) for r in rows if any(r[2:])}


def recounted(conn: sa.Connection) -> dict[tuple[str, str], tuple[int, ...]]:
    """The same counted from attendance_days itself."""
    d = attendance_days
    q = (sa.select(d.c.site_id, d.c.day, sa.func.count(),
                   *[sa.func.sum(sa.case((d.c.status == s, 1), else_=0)) for s in COUNTED])
         .group_by(d.c.site_id, d.c.day))
    return {(r[0], r[1]): tuple(int(v) for v in r[2:]) for r in conn.execute(q)}


def test_the_triggers_keep_the_counts_equal_to_the_days(engine):
    with engine.begin() as conn:
        seed_people(conn)
        insert_on_conflict(conn, attendance_days, [day("e0", "2026-11-24", "present"),
                                                   day("e1", "2026-11-24", "late"),
                                                   day("e2", "2026-11-24", "pending"),
                                                   day("e4", "2026-11-24", "absent", "s2"),
                                                   day("e0", "2026-11-25", "weekly_off")],
                           ["employee_id", "day"], update=True)
    with engine.begin() as conn:
        assert counted(conn) == recounted(conn)
        assert counted(conn)[("s1", "2026-11-24")] == (3, 1, 1, 0, 0, 0, 0, 1)
        # An upsert as store_days does it: one day changes status, one stays, one is new.
        insert_on_conflict(conn, attendance_days, [day("e2", "2026-11-24", "absent"),
                                                   day("e0", "2026-11-24", "present"),
                                                   day("e3", "2026-11-24", "on_leave")],
                           ["employee_id", "day"], update=True)
        assert counted(conn) == recounted(conn)
        assert counted(conn)[("s1", "2026-11-24")] == (4, 1, 1, 0, 1, 1, 0, 0)
    with engine.begin() as conn:
        conn.execute(sa.update(attendance_days).where(attendance_days.c.employee_id == "e1")
                     .values(site_id="s2", status="on_tour"))  # moved to another office
        conn.execute(sa.delete(attendance_days).where(attendance_days.c.employee_id == "e4"))
        assert counted(conn) == recounted(conn)
        assert counted(conn)[("s2", "2026-11-24")] == (1, 0, 0, 0, 0, 0, 1, 0)


def test_the_migration_fills_the_counts_from_days_already_stored(tmp_path, monkeypatch):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        monkeypatch.setattr(migrate_module, "MIGRATIONS", tuple(m for m in migrate_module.MIGRATIONS if m.version < 12))
        migrate_module.migrate(engine)
        with engine.begin() as conn:
            seed_people(conn)
            conn.execute(sa.insert(attendance_days), [day(f"e{i}", "2026-11-24", s)
                                                       for i, s in enumerate(("present", "late", "absent"))])
        monkeypatch.undo()
        assert migrate_module.migrate(engine) == [m.version for m in migrate_module.MIGRATIONS if m.version >= 12]
        with engine.connect() as conn:
            assert counted(conn) == recounted(conn) == {("s1", "2026-11-24"): (3, 1, 1, 0, 1, 0, 0, 0)}
    finally:
        engine.dispose()


def test_the_rollup_reads_the_counts_and_its_working_days(engine):
    with engine.begin() as conn:
        seed_people(conn)
        conn.execute(sa.insert(attendance_days), [day("e0", "2026-11-24", "present"), day("e1", "2026-11-24", "late"),
                                                   day("e4", "2026-11-24", "on_leave", "s2")])
    with engine.connect() as conn:
        rollup = read_rollup(conn, Period(date(2026, 11, 22), date(2026, 11, 24)), None, daily=True)  # Sun-Tue
    office = {g.key: g.tally for g in rollup.offices}
    assert (office["s1"].employees, office["s1"].working, office["s1"].present_days) == (4, 8, 2)
    assert (office["s2"].working, office["s2"]["on_leave"], office["s2"].no_entry) == (4, 1, 3)
    assert office["s1"].attendance_pct == pytest.approx(25.0)
    assert [(d.isoformat(), t.working, t.present_days) for d, t in rollup.daily] == [
        ("2026-11-22", 0, 0), ("2026-11-23", 6, 0), ("2026-11-24", 6, 2)]
