"""The seeded month's plan: the same from the same seed and day, every required status in the window, and events
that agree with the intended statuses, the shifts, the sites' kiosks and the field fences."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from central_server.org.geofence import check_point, parse_fence
from hajiri_demo.logins import planned_logins, ready_line
from hajiri_demo.mobile import square
from hajiri_demo.seed_month import campus, due
from hajiri_demo.seed_org import SITES, STAFF, TZ, shift_of, site_of, staff_of
from hajiri_demo.seed_plan import HISTORY_DAYS, REQUIRED, plan_month

TODAY = date(2026, 12, 3)
# Month ends, a window holding a gazetted holiday on a weekday (Friday 2 October 2026), a new year, a leap day.
TODAYS = (TODAY, date(2026, 12, 1), date(2026, 10, 20), date(2027, 1, 1), date(2027, 12, 31), date(2028, 3, 1))


def shift_day(employee_id: str, at: datetime) -> date:
    """The attendance day an event belongs to: a resident's morning OUT closes the evening before."""
    local = at.astimezone(ZoneInfo(TZ))
    if shift_of(staff_of(employee_id).shift_id).overnight and local.hour < 14:
        return local.date() - timedelta(days=1)
    return local.date()


def test_same_seed_and_day_give_the_same_plan():
    a, b = plan_month(7, TODAY), plan_month(7, TODAY)
    assert a.events == b.events and a.intents == b.intents
    assert (a.leaves, a.tours, a.holidays) == (b.leaves, b.tours, b.holidays)
    other = plan_month(8, TODAY)
    assert other.intents != a.intents and other.events != a.events


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("today", TODAYS)
def test_every_required_status_is_in_the_window(seed, today):
    plan = plan_month(seed, today)
    assert plan.days == [today - timedelta(days=n) for n in range(HISTORY_DAYS, 0, -1)]
    counts = plan.counts()
    assert all(counts[status] >= 1 for status in REQUIRED), counts
    assert counts["weekly_off"] > 0 and counts["holiday"] > 0
    assert counts["present"] > counts["late"] > counts["absent"]  # mostly on time: a believable office


def test_the_holiday_falls_on_a_working_weekday_of_the_window():
    for today in TODAYS:
        plan = plan_month(0, today)
        assert plan.holidays
        assert all(h.day in plan.days and h.day.weekday() < 5 for h in plan.holidays)
    assert [(h.day, h.site_ids) for h in plan_month(0, date(2026, 10, 20)).holidays] == [(date(2026, 10, 2), None)]
    assert plan_month(0, TODAY).holidays[0].site_ids  # no gazetted weekday holiday: Sehore's local one


@pytest.mark.parametrize("seed", range(3))
def test_events_make_the_intended_days(seed):
    plan = plan_month(seed, TODAY)
    by_day: dict[tuple[str, date], list] = {}
    for e in plan.events:
        if e.employee_id is not None:
            by_day.setdefault((e.employee_id, shift_day(e.employee_id, e.at)), []).append(e)
    for (employee_id, day), intent in plan.intents.items():
        events = by_day.get((employee_id, day), [])
        if intent not in ("present", "late", "half_day"):
            assert events == [], (employee_id, day, intent)
            continue
        shift = shift_of(staff_of(employee_id).shift_id)
        start = datetime.combine(day, datetime.strptime(shift.start_time, "%H:%M").time(), ZoneInfo(TZ))
        first_in = min(e.at for e in events if e.kind == "IN")
        late = first_in > start + timedelta(minutes=shift.grace_late_min)
        assert late == (intent == "late"), (employee_id, day, intent, first_in)
    assert not {k for k in by_day if k not in plan.intents}  # nobody has events outside the plan


def test_events_come_from_the_right_kiosk_or_from_the_field():
    plan = plan_month(0, TODAY)
    fields = {s.site_id: parse_fence(square(s.field[1], s.field[0], 2000.0)) for s in SITES if s.field}
    for e in plan.events:
        if e.employee_id is None:
            assert e.kind == "UNKNOWN" and e.via == "kiosk"
            continue
        staff = staff_of(e.employee_id)
        assert e.site_id == staff.site_id and e.kind in ("IN", "OUT")
        if e.via == "mobile":
            assert staff.field
            assert check_point(fields[staff.site_id], e.lat, e.lon, e.accuracy_m).inside
    assert {e.via for e in plan.events} == {"kiosk", "mobile"}
    assert plan.events == sorted(plan.events, key=lambda e: (e.at, e.employee_id or ""))


def test_spans_do_not_overlap_and_start_on_working_days():
    for seed in range(5):
        plan = plan_month(seed, TODAY)
        for leave in plan.leaves:
            assert plan.intents[(leave.employee_id, leave.first)] == "on_leave"
            assert not any(t.employee_id == leave.employee_id and t.first <= leave.last and leave.first <= t.last
                           for t in plan.tours)
        for tour in plan.tours:
            assert staff_of(tour.employee_id).tours
            assert plan.intents[(tour.employee_id, tour.first)] == "on_tour"


def test_a_new_joiner_is_not_employed_before_joining():
    plan = plan_month(0, TODAY)
    joiner = next(s for s in STAFF if s.joined_days_ago is not None)
    joined = TODAY - timedelta(days=joiner.joined_days_ago)
    assert all((plan.intents[(joiner.employee_id, d)] == "not_employed") == (d < joined) for d in plan.days)


def test_today_is_planned_but_only_what_has_happened_is_sent():
    plan = plan_month(0, TODAY)
    noon = datetime.combine(TODAY, datetime.min.time(), ZoneInfo(TZ)) + timedelta(hours=12)
    sent = due(plan.events, noon)
    assert sent and all(e.at < noon for e in sent)
    assert any(e.at.astimezone(ZoneInfo(TZ)).date() == TODAY for e in sent)  # this morning's arrivals
    assert len(sent) < len(plan.events)


def test_seeded_fences_pass_the_servers_checks():
    for site in SITES:
        fence = parse_fence(campus(site.lat, site.lon))
        assert check_point(fence, site.lat, site.lon, 5.0).inside
        assert site_of(site.site_id) is site
    assert len({s.district for s in SITES}) == 2 and [s.kind for s in SITES].count("hostel") == 1
    assert all(s.curfew for s in SITES if s.kind == "hostel")


def test_one_login_per_role_with_only_its_scope_keys():
    logins = planned_logins()
    line = ready_line("http://127.0.0.1:8080", logins)
    assert line["ready"] is True and line["web"]["url"] == "http://127.0.0.1:8080/login"
    shown = line["web"]["logins"]
    assert {role: set(v) - {"username", "password"} for role, v in shown.items()} == {
        "state_admin": set(), "district_officer": {"district"}, "office_head": {"site_id"}, "warden": {"site_id"},
        "it_staff": set(), "employee": {"site_id", "employee_id"}}
    assert staff_of(shown["employee"]["employee_id"]).site_id == shown["office_head"]["site_id"]
    assert site_of(shown["warden"]["site_id"]).kind == "hostel"
    assert all(len(v["password"]) >= 10 for v in shown.values())
    assert planned_logins()[0].password != logins[0].password  # random per run
