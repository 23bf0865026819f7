"""A site's October 2026 for the month-close tests: two employees registered long before, an office shift, kiosk
records through real ingest; "now" is early November, so October is over and November is the current month."""

from datetime import UTC, datetime

import sqlalchemy as sa

from central_server.attendance.rules.recompute import recompute_after_ingest
from central_server.db.schema import employees
from central_server.ingest.records import ingest_payload
from central_server.org.employees import create_employee, create_shift
from hajiri_wire import RecordBatch, encode_batch, topics
from tests.builders import local_wire

TZ = "Asia/Kolkata"
OCT, NOV = "2026-10", "2026-11"
NOW = datetime(2026, 11, 5, 6, 0, tzinfo=UTC)  # 5 November, 11:30 in India
LATE_DAY = "2026-10-07"  # a Wednesday emp-2 was absent from, until the kiosk that saw them syncs


def seed_october(engine, kiosk) -> None:
    """office-1 (the kiosk's site): emp-1 worked 1-3 October, emp-2 never showed up on the kiosks that synced."""
    with engine.begin() as conn:
        create_shift(conn, {"shift_id": "office", "name": "Office", "start_time": "10:00", "end_time": "17:30",
                            "grace_late_min": 10, "grace_early_min": 10, "half_day_hours": 4.0,
                            "absent_hours": 2.0, "overnight": False, "weekly_off": ["sun"]}, actor="test")
        for emp, name in (("emp-1", "Asha"), ("emp-2", "Bhim")):
            create_employee(conn, {"employee_id": emp, "name": name, "site_id": kiosk.site_id, "shift_id": "office"},
                            actor="test")
        # Registered before October: Hajiri asks no explanation for a day before it knew the employee.
        conn.execute(sa.update(employees).values(created_at="2026-01-01T00:00:00.000Z"))
    ingest(engine, kiosk, [kiosk.record("emp-1", kind, local_wire(f"2026-10-0{d}", t))
                           for d in (1, 2, 3) for kind, t in (("IN", "09:58"), ("OUT", "17:40"))])


def ingest(engine, kiosk, recs) -> int:
    """Store the records as the ingest worker does and recompute the days they touched."""
    outcome = ingest_payload(engine, topics.records(kiosk.device_id),
                             encode_batch(RecordBatch(device_id=kiosk.device_id, records=recs)))
    assert outcome.stored == len(recs), outcome
    return recompute_after_ingest(engine, [(r.person_id, r.wall_time) for r in recs], TZ)


def late_record(engine, kiosk, day: str = LATE_DAY) -> int:
    """emp-2's IN and OUT on `day`, synced only now (the kiosk was offline)."""
    return ingest(engine, kiosk, [kiosk.record("emp-2", "IN", local_wire(day, "10:02")),
                                  kiosk.record("emp-2", "OUT", local_wire(day, "17:35"))])
