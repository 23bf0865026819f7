"""The seeded month as a plan: who is present, late, absent, on leave or on tour on which day, and the kiosk and
phone events that make it so. Deterministic from the seed and today's date; nothing here talks to a server."""

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hajiri_demo.seed_org import (
    FIXED_HOLIDAYS,
    LEAVE_KINDS,
    LOCAL_HOLIDAY,
    SITES,
    STAFF,
    TOUR_PURPOSES,
    TZ,
    Shift,
    Staff,
    shift_of,
    site_of,
)

HISTORY_DAYS = 30
ABSENT_RATE = 0.035
HALF_DAY_RATE = 0.02
FIELD_DAY_RATE = 0.6  # field staff check in by phone from the block on this share of their working days
MISSING_OUT_RATE = 0.03
EARLY_EXIT_RATE = 0.05
# The statuses the plan means each day to come out as (the server's day rules decide; these are the intent).
REQUIRED = ("late", "absent", "on_leave", "on_tour")


@dataclass(frozen=True)
class Event:
    """One kiosk record or phone check-in. employee_id None: an unknown visitor at the kiosk."""

    employee_id: str | None
    kind: str  # IN, OUT or UNKNOWN
    at: datetime  # aware
    via: str  # "kiosk" or "mobile"
    site_id: str
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None


@dataclass(frozen=True)
class Span:
    """Leave (what = its kind) or a tour (what = its purpose), first..last both included."""

    employee_id: str
    first: date
    last: date
    what: str

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str
    site_ids: tuple[str, ...] | None  # None: every site (a state holiday)


@dataclass
class MonthPlan:
    """The window's days (oldest first, today not among them), what happens on them and on today so far."""

    today: date
    days: list[date]
    holidays: list[Holiday]
    leaves: list[Span]
    tours: list[Span]
    intents: dict[tuple[str, date], str] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def counts(self, include_today: bool = False) -> Counter:
        """How many (employee, day) of each intended status, over the window (and today when asked)."""
        return Counter(v for (_, d), v in self.intents.items() if include_today or d != self.today)


def plan_month(seed: int, today: date) -> MonthPlan:
    """The HISTORY_DAYS before `today` and today itself, planned for every seeded employee."""
    days = [today - timedelta(days=n) for n in range(HISTORY_DAYS, 0, -1)]
    plan = MonthPlan(today, days, pick_holidays(seed, days), [], [])
    for staff in STAFF:
        leave, tour = pick_spans(seed, staff, plan)
        plan.leaves += leave
        plan.tours += tour
    ensure_spans(plan)
    for staff in STAFF:
        for day in [*days, today]:
            plan.intents[(staff.employee_id, day)] = decide_intent(seed, staff, day, plan)
    ensure_statuses(seed, plan)
    for staff in STAFF:
        for day in [*days, today]:
            plan.events += day_events(seed, staff, day, plan.intents[(staff.employee_id, day)])
    plan.events += visitor_events(seed, plan)
    plan.events.sort(key=lambda e: (e.at, e.employee_id or ""))
    return plan


def pick_holidays(seed: int, days: list[date]) -> list[Holiday]:
    """Fixed-date gazetted holidays on a weekday of the window; without one, a local holiday in Sehore
    district (the Collector declares a few a year) on a weekday in the middle of the window."""
    fixed = [Holiday(d, name, None) for d in days for month, dd, name in FIXED_HOLIDAYS
             if (d.month, d.day) == (month, dd) and d.weekday() < 5]
    if fixed:
        return fixed
    weekdays = [d for d in days if d.weekday() < 5]
    middle = weekdays[len(weekdays) // 4: 3 * len(weekdays) // 4]
    day = random.Random(f"{seed}:holiday:{days[-1]}").choice(middle)
    return [Holiday(day, LOCAL_HOLIDAY, tuple(s.site_id for s in SITES if s.district == "Sehore"))]


def is_holiday(plan: MonthPlan, staff: Staff, day: date) -> bool:
    return any(h.day == day and (h.site_ids is None or staff.site_id in h.site_ids) for h in plan.holidays)


def is_off(plan: MonthPlan, staff: Staff, day: date) -> bool:
    """A weekly off of the staff's shift or a holiday at their site."""
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
    return weekday in shift_of(staff.shift_id).weekly_off or is_holiday(plan, staff, day)


def joined_on(staff: Staff, today: date) -> date:
    """Long-serving staff joined years ago; a new joiner joined_days_ago days before today."""
    if staff.joined_days_ago is None:
        return date(2015 + sum(map(ord, staff.employee_id)) % 9, 7, 1)
    return today - timedelta(days=staff.joined_days_ago)


def working_days(plan: MonthPlan, staff: Staff) -> list[date]:
    """The staff's working days of the window and today, once employed."""
    first = joined_on(staff, plan.today)
    return [d for d in [*plan.days, plan.today] if d >= first and not is_off(plan, staff, d)]


def pick_spans(seed: int, staff: Staff, plan: MonthPlan) -> tuple[list[Span], list[Span]]:
    """At most one leave and (for those who tour) one tour, 1-3 days each, starting on a working day."""
    rng = random.Random(f"{seed}:{staff.employee_id}:spans:{plan.today}")
    work = working_days(plan, staff)
    if len(work) < 4:
        return [], []
    leaves, tours = [], []
    resident = staff.role == "resident"
    if rng.random() < (0.5 if resident else 0.4):
        start = rng.choice(work[:-1])
        length = rng.choice((2, 3) if resident else (1, 1, 2, 3))
        kind = "other" if resident else rng.choice(LEAVE_KINDS)  # a resident's leave: a visit home
        leaves.append(Span(staff.employee_id, start, min(start + timedelta(days=length - 1), plan.today), kind))
    if staff.tours and rng.random() < 0.75:
        free = [d for d in work[:-1] if not any(s.first - timedelta(days=2) <= d <= s.last for s in leaves)]
        if free:
            start = rng.choice(free)
            length = rng.choice((1, 2))
            tours.append(Span(staff.employee_id, start, min(start + timedelta(days=length - 1), plan.today),
                              rng.choice(TOUR_PURPOSES)))
    return leaves, tours


def ensure_spans(plan: MonthPlan) -> None:
    """Whatever the draw, the month has at least one leave and one tour inside the window (not today only)."""
    if not any(s.first < plan.today for s in plan.leaves):
        staff = STAFF[3]
        start = working_days(plan, staff)[5]
        plan.leaves.append(Span(staff.employee_id, start, start + timedelta(days=1), "casual"))
    if not any(s.first < plan.today for s in plan.tours):
        staff = next(s for s in STAFF if s.tours)
        work = [d for d in working_days(plan, staff) if not any(
            sp.employee_id == staff.employee_id and sp.covers(d) for sp in plan.leaves)]
        plan.tours.append(Span(staff.employee_id, work[8], work[8], TOUR_PURPOSES[0]))


def decide_intent(seed: int, staff: Staff, day: date, plan: MonthPlan) -> str:
    """The status the day is meant to get: from the calendar and spans first, then a draw for the rest."""
    if day < joined_on(staff, plan.today):
        return "not_employed"
    if is_holiday(plan, staff, day):
        return "holiday"
    if is_off(plan, staff, day):
        return "weekly_off"
    if any(s.employee_id == staff.employee_id and s.covers(day) for s in plan.leaves):
        return "on_leave"
    if any(s.employee_id == staff.employee_id and s.covers(day) for s in plan.tours):
        return "on_tour"
    x = random.Random(f"{seed}:{staff.employee_id}:{day}").random()
    if x < ABSENT_RATE:
        return "absent"
    if x < ABSENT_RATE + HALF_DAY_RATE and staff.role != "resident":
        return "half_day"
    if x < ABSENT_RATE + HALF_DAY_RATE + staff.late_rate:
        return "late"
    return "present"


def ensure_statuses(seed: int, plan: MonthPlan) -> None:
    """At least one late and one absent day in the window, whatever the draw (turned from present days)."""
    rng = random.Random(f"{seed}:ensure:{plan.today}")
    present = sorted(k for k, v in plan.intents.items() if v == "present" and k[1] != plan.today)
    counts = plan.counts()
    for status in ("late", "absent"):
        if counts[status] == 0 and present:
            plan.intents[present.pop(rng.randrange(len(present)))] = status


def _at(day: date, clock: str, minutes: float) -> datetime:
    hh, mm = map(int, clock.split(":"))
    return datetime.combine(day, time(hh, mm), ZoneInfo(TZ)) + timedelta(seconds=round(minutes * 60))


def day_events(seed: int, staff: Staff, day: date, intent: str) -> list[Event]:
    """The IN and OUT that make the intended status: by the site's kiosk, or by phone from the field."""
    if intent not in ("present", "late", "half_day"):
        return []
    rng = random.Random(f"{seed}:{staff.employee_id}:{day}:events")
    shift = shift_of(staff.shift_id)
    times = resident_times(rng, shift, day, intent) if shift.overnight else office_times(rng, shift, day, intent)
    site = site_of(staff.site_id)
    if staff.field and site.field is not None and rng.random() < FIELD_DAY_RATE:
        return [phone_event(rng, staff, kind, at, site.field) for kind, at in times]
    return [Event(staff.employee_id, kind, at, "kiosk", staff.site_id) for kind, at in times]


def office_times(rng: random.Random, shift: Shift, day: date, intent: str) -> list[tuple[str, datetime]]:
    """IN around the start (after the grace when late), OUT around the end; sometimes early or forgotten."""
    if intent == "late":
        arrive = shift.grace_late_min + 3 + min(rng.expovariate(1 / 25), 140)
    else:
        arrive = min(max(rng.gauss(-10, 8), -40), shift.grace_late_min - 1)
    times = [("IN", _at(day, shift.start_time, arrive))]
    if intent == "half_day":
        times.append(("OUT", _at(day, shift.start_time, arrive + rng.uniform(150, 200))))
    elif rng.random() < EARLY_EXIT_RATE:
        times.append(("OUT", _at(day, shift.end_time, -rng.uniform(20, 75))))
    elif rng.random() >= MISSING_OUT_RATE:  # else: forgot to pass the kiosk on the way out
        times.append(("OUT", _at(day, shift.end_time, rng.uniform(-4, 40))))
    return times


def resident_times(rng: random.Random, shift: Shift, day: date, intent: str) -> list[tuple[str, datetime]]:
    """In during the evening (after the curfew when late), out to college the next morning."""
    arrive = shift.grace_late_min + 5 + rng.uniform(0, 90) if intent == "late" else rng.uniform(-120, 55)
    leave = _at(day + timedelta(days=1), shift.end_time, rng.uniform(-5, 55))
    return [("IN", _at(day, shift.start_time, arrive)), ("OUT", leave)]


def phone_event(rng: random.Random, staff: Staff, kind: str, at: datetime, centre: tuple[float, float]) -> Event:
    """A check-in from somewhere in the block (within about 800 m of its centre), with a phone's GPS accuracy."""
    lat, lon = centre
    dist, angle = rng.uniform(0, 800) / 111_195.0, rng.uniform(0, 2 * math.pi)
    return Event(staff.employee_id, kind, at, "mobile", staff.site_id,
                 round(lat + dist * math.sin(angle), 6),
                 round(lon + dist * math.cos(angle) / math.cos(math.radians(lat)), 6),
                 round(rng.uniform(6, 25), 1))


def visitor_events(seed: int, plan: MonthPlan) -> list[Event]:
    """A few unknown faces a day at each kiosk: visitors to the office, guests at the hostel."""
    events = []
    for site in SITES:
        hostel = site.kind == "hostel"
        for day in [*plan.days, plan.today]:
            if not hostel and (day.weekday() >= 5 or any(
                    h.day == day and (h.site_ids is None or site.site_id in h.site_ids) for h in plan.holidays)):
                continue
            rng = random.Random(f"{seed}:{site.site_id}:{day}:visitors")
            for _ in range(rng.randint(0, 3)):
                minutes = rng.uniform(17 * 60, 20 * 60) if hostel else rng.uniform(10.5 * 60, 16.5 * 60)
                events.append(Event(None, "UNKNOWN", _at(day, "00:00", minutes), "kiosk", site.site_id))
    return events
