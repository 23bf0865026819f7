"""Day rules on tricky days: grace, half days, overnight shifts, leave plus attendance, holidays, pending."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from central_server.attendance.rules import DEFAULT_SHIFT, DayContext, Event, ShiftRule, day_of, decide_day

TZ = "Asia/Kolkata"
D = date(2026, 11, 25)  # a Wednesday
OFFICE = ShiftRule("office", "10:00", "17:30", 10, 15, 4.0, 2.0, False, ("sun",))
NIGHT = ShiftRule("night", "22:00", "06:00", 10, 10, 4.0, 2.0, True, ())


def at(day: date, hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=ZoneInfo(TZ))


def ev(day: date, hhmm: str, kind: str, *, counts: bool = True, flags: tuple = ()) -> Event:
    return Event(at(day, hhmm), kind, "kiosk", f"{kind}-{day}-{hhmm}", flags, counts)


LATER = at(D + timedelta(days=2), "12:00")  # the day is over


def decide(events, rule=OFFICE, ctx=None, day=D, now=LATER):
    return decide_day(rule, day, events, ctx or DayContext(), tz=TZ, now=now)


def test_on_time_within_grace_is_present_and_hours_counted():
    r = decide([ev(D, "10:09", "IN"), ev(D, "13:00", "OUT"), ev(D, "14:00", "IN"), ev(D, "17:20", "OUT")])
    assert (r.status, r.late_minutes, r.early_minutes, r.worked_minutes) == ("present", 9, 10, 431)
    assert r.flags == [] and r.final


def test_late_beyond_grace_and_early_exit():
    r = decide([ev(D, "10:25", "IN"), ev(D, "17:00", "OUT")])
    assert r.status == "late" and r.late_minutes == 25 and r.early_minutes == 30
    assert r.flags == ["early_exit"]


@pytest.mark.parametrize("out, status", [("13:59", "half_day"), ("14:00", "present"), ("11:59", "absent")])
def test_half_day_and_absent_thresholds(out, status):
    r = decide([ev(D, "10:00", "IN"), ev(D, out, "OUT")])
    assert r.status == status
    assert ("too_short" in r.flags) == (status == "absent")


def test_no_in_is_pending_until_the_shift_ends_then_absent():
    assert decide([], now=at(D, "16:00")).status == "pending"
    r = decide([], now=at(D, "17:31"))
    assert r.status == "absent" and r.final


def test_in_without_out_is_judged_on_arrival_and_flagged_once_the_day_is_over():
    assert decide([ev(D, "10:30", "IN")], now=at(D, "12:00")).flags == []
    r = decide([ev(D, "10:30", "IN")])
    assert r.status == "late" and r.worked_minutes is None and r.flags == ["missing_out"]


def test_an_out_before_any_in_is_ignored_for_hours():
    r = decide([ev(D, "09:00", "OUT"), ev(D, "10:00", "IN"), ev(D, "17:30", "OUT")])
    assert r.first_in == at(D, "10:00") and r.worked_minutes == 450 and r.status == "present"


def test_overnight_shift_belongs_to_the_day_it_started():
    d2 = D + timedelta(days=1)
    events = [ev(D, "21:55", "IN"), ev(d2, "06:03", "OUT")]
    lo, hi = NIGHT.window(D, TZ)
    assert lo == at(D, "16:00") and hi == at(d2, "16:00")
    mine = [e for e in events if lo <= e.at < hi]
    r = decide(mine, rule=NIGHT)
    assert (r.status, r.worked_minutes, r.late_minutes, r.early_minutes) == ("present", 488, 0, 0)
    assert day_of(NIGHT, at(d2, "02:00"), TZ) == D and day_of(NIGHT, at(d2, "17:00"), TZ) == d2
    late_night = decide([ev(D, "22:40", "IN"), ev(d2, "06:00", "OUT")], rule=NIGHT)
    assert late_night.status == "late" and late_night.late_minutes == 40
    # The next night has nothing of this one's events, and is pending until its own 06:00.
    assert decide([], rule=NIGHT, day=d2, now=at(d2, "23:00")).status == "pending"


def test_leave_plus_attendance_the_same_day():
    events = [ev(D, "10:00", "IN"), ev(D, "12:00", "OUT")]
    full = decide(events, ctx=DayContext(leave_kind="casual"))
    assert full.status == "on_leave" and "attended_on_leave" in full.flags
    half = decide([ev(D, "10:00", "IN"), ev(D, "13:30", "OUT")], ctx=DayContext(leave_kind="half_day"))
    assert half.status == "half_day" and "half_day_leave" in half.flags
    too_little = decide([ev(D, "10:00", "IN"), ev(D, "11:00", "OUT")], ctx=DayContext(leave_kind="half_day"))
    assert too_little.status == "on_leave" and "too_short" in too_little.flags
    assert decide([], ctx=DayContext(leave_kind="half_day")).status == "on_leave"


def test_holiday_weekly_off_and_tour():
    assert decide([], ctx=DayContext(holiday="Guru Nanak Jayanti")).status == "holiday"
    sunday = D + timedelta(days=4)
    worked = decide([ev(sunday, "10:00", "IN"), ev(sunday, "15:00", "OUT")], day=sunday)
    assert worked.status == "weekly_off" and "worked_on_day_off" in worked.flags
    assert decide([], ctx=DayContext(on_tour=True)).status == "on_tour"
    assert decide([], ctx=DayContext(holiday="x", leave_kind="casual")).status == "holiday"


def test_events_that_do_not_count_stay_visible_as_flags():
    events = [ev(D, "10:00", "IN", counts=False, flags=("outside_fence",)), ev(D, "17:30", "OUT")]
    r = decide(events)
    assert r.status == "absent" and r.events == 2
    assert {"outside_fence", "kiosk_event_not_counted", "missing_in"} <= set(r.flags)


def test_default_shift_and_rule_from_row():
    row = {"shift_id": "s", "start_time": "09:30", "end_time": "18:00", "grace_late_min": 5, "grace_early_min": 5,
           "half_day_hours": 4.5, "absent_hours": 1.5, "overnight": 0, "weekly_off": "sat,sun"}
    rule = ShiftRule.from_row(row)
    assert rule.weekly_off == ("sat", "sun") and rule.overnight is False
    assert ShiftRule.from_row(None) is DEFAULT_SHIFT
    assert rule.is_weekly_off(D + timedelta(days=3)) and not rule.is_weekly_off(D)


@pytest.mark.parametrize("over, message", [
    ({"start_time": "22:00", "end_time": "06:00"}, "set overnight = true"),
    ({"overnight": True}, "overnight is true but end_time"),
    ({"absent_hours": 5.0}, "absent_hours (5.0) must be below half_day_hours"),
    ({"start_time": "25:00"}, "start_time"),
    ({"weekly_off": ["funday"]}, "weekly_off"),
])
def test_shift_definitions_are_checked(over, message):
    from pydantic import ValidationError

    from central_server.org.schemas import ShiftCreate

    base = {"shift_id": "s1", "name": "Day", "start_time": "10:00", "end_time": "17:30"}
    with pytest.raises(ValidationError, match=re.escape(message)):
        ShiftCreate.model_validate({**base, **over})
    assert ShiftCreate.model_validate({**base, "start_time": "22:00", "end_time": "06:00", "overnight": True})
