"""Reviewing a flagged check-in on SQLite and PostgreSQL: the decision is stored once with who, when and why,
audited, and the day recomputed: a rejected check-in stops counting, an accepted one outside the office area
counts (as an accepted explanation makes it), a simulated location stays out even when accepted."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from central_server.attendance.checkin_review import (
    AlreadyReviewed,
    CheckinNotFound,
    CheckinReviewError,
    review_checkin,
)
from central_server.attendance.rules.recompute import recompute_days
from central_server.db.schema import attendance_days, audit_log, checkin_reviews, checkins
from central_server.org.employees import create_employee, create_shift
from central_server.org.sites import create_site
from hajiri_wire.ids import uuid7
from tests.builders import IST, local_wire

DAY = date(2026, 11, 25)  # a Wednesday
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # the day after: the shift is over, the day settled


@pytest.fixture
def office(engine) -> sa.Engine:
    with engine.begin() as conn:
        create_site(conn, "office-1", "Block Office", "office", actor="test")
        create_shift(conn, {"shift_id": "office", "name": "Office", "start_time": "10:00", "end_time": "17:30",
                            "grace_late_min": 10, "grace_early_min": 10, "half_day_hours": 4.0,
                            "absent_hours": 2.0, "overnight": False, "weekly_off": ["sun"]}, actor="test")
        create_employee(conn, {"employee_id": "emp-1", "name": "Sunita", "site_id": "office-1",
                               "shift_id": "office"}, actor="test")
    return engine


def checkin(conn: sa.Connection, event: str, hhmm: str, flags: str = "") -> str:
    checkin_id = uuid7()
    at = local_wire(DAY, hhmm)
    conn.execute(sa.insert(checkins).values(
        checkin_id=checkin_id, employee_id="emp-1", idempotency_key=f"k-{checkin_id}", event=event, lat=23.2,
        lon=77.08, accuracy_m=10.0, device_time=at, event_time=at, received_at=at, distance_m=0.0, flags=flags,
        selfie_sha256=checkin_id, selfie_status="verified"))
    recompute_days(conn, "emp-1", [DAY], IST, now=NOW)
    return checkin_id


def status(conn: sa.Connection) -> str:
    return conn.execute(sa.select(attendance_days.c.status).where(
        attendance_days.c.employee_id == "emp-1", attendance_days.c.day == DAY.isoformat())).scalar_one()


def test_a_rejected_checkin_stops_counting_and_the_decision_is_kept(office):
    with office.begin() as conn:
        arrival = checkin(conn, "IN", "09:52", "queued_offline")
        checkin(conn, "OUT", "17:40")
        assert status(conn) == "present"
        done = review_checkin(conn, arrival, "reject", "  On leave that morning ", "head-1", NOW, tz=IST)
        assert (done.decision, done.reason, done.day) == ("rejected", "On leave that morning", DAY)
        assert status(conn) == "absent"
        row = conn.execute(sa.select(checkin_reviews)).one()
        assert (row.decision, row.reviewed_by, row.reviewed_at) == ("rejected", "head-1", "2026-11-26T09:00:00.000Z")
        (audit,) = conn.execute(sa.select(audit_log).where(audit_log.c.action == "checkin.rejected")).all()
        assert audit.actor == "head-1" and audit.target == "emp-1" and "On leave that morning" in audit.detail


def test_an_accepted_checkin_outside_the_office_area_counts(office):
    with office.begin() as conn:
        arrival = checkin(conn, "IN", "09:55", "outside_fence")
        checkin(conn, "OUT", "17:40")
        assert status(conn) == "absent"  # the IN outside the office area does not count
        review_checkin(conn, arrival, "accept", "Inspection at the school, on my orders", "head-1", NOW, tz=IST)
        assert status(conn) == "present"


def test_a_simulated_location_stays_out_even_when_accepted(office):
    with office.begin() as conn:
        arrival = checkin(conn, "IN", "09:55", "mock_location,outside_fence")
        checkin(conn, "OUT", "17:40")
        review_checkin(conn, arrival, "accept", "I trust her", "head-1", NOW, tz=IST)
        assert status(conn) == "absent"


def test_a_decision_is_made_once_with_a_reason(office):
    with office.begin() as conn:
        arrival = checkin(conn, "IN", "09:55", "queued_offline")
        for decision, reason, field in (("maybe", "why not", "decision"), ("reject", "   ", "reason"),
                                        ("reject", "x" * 501, "reason")):
            with pytest.raises(CheckinReviewError) as e:
                review_checkin(conn, arrival, decision, reason, "head-1", NOW, tz=IST)
            assert e.value.field == field and e.value.status_code == 422
        with pytest.raises(CheckinNotFound):
            review_checkin(conn, "no-such-checkin", "reject", "no", "head-1", NOW, tz=IST)
        assert conn.execute(sa.select(sa.func.count()).select_from(checkin_reviews)).scalar_one() == 0
        review_checkin(conn, arrival, "accept", "fine", "head-1", NOW, tz=IST)
        with pytest.raises(AlreadyReviewed) as e:
            review_checkin(conn, arrival, "reject", "second thoughts", "head-2", NOW, tz=IST)
        assert e.value.status_code == 409
        assert conn.execute(sa.select(checkin_reviews.c.decision)).scalar_one() == "accepted"
