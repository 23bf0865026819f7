"""Decide one employee's day from their merged events and the day's context (holiday, leave, tour)."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from central_server.attendance.rules.shift import ShiftRule

# not_employed (before joining, after leaving) and not_live (before the site's go-live day) are decided before
# these rules run (rules.recompute): nothing is expected of the employee those days, so they are never absent.
STATUSES = ("present", "late", "half_day", "absent", "on_leave", "on_tour", "holiday", "weekly_off", "pending",
            "not_employed", "not_live")


@dataclass(frozen=True)
class Event:
    """One IN or OUT from a kiosk record or a mobile check-in; `counts` False keeps it visible but unused."""

    at: datetime
    kind: str  # IN | OUT
    source: str  # kiosk | mobile
    ref: str
    flags: tuple[str, ...] = ()
    counts: bool = True


@dataclass(frozen=True)
class DayContext:
    holiday: str | None = None  # the holiday's name
    leave_kind: str | None = None  # approved leave covering the day
    on_tour: bool = False


@dataclass
class DayResult:
    day: date
    status: str
    first_in: datetime | None = None
    last_out: datetime | None = None
    worked_minutes: int | None = None
    late_minutes: int = 0
    early_minutes: int = 0
    flags: list[str] = field(default_factory=list)
    events: int = 0
    final: bool = False  # the shift has ended: an absence is settled, not pending


def _minutes(delta) -> int:
    return int(delta.total_seconds() // 60)


def _timeline(events: list[Event]) -> tuple[datetime | None, datetime | None]:
    """First IN, and the last OUT after it (an OUT before any IN says nothing about hours)."""
    ins = [e.at for e in events if e.kind == "IN"]
    first_in = min(ins) if ins else None
    outs = [e.at for e in events if e.kind == "OUT" and (first_in is None or e.at > first_in)]
    return first_in, (max(outs) if outs else None)


def _event_flags(events: list[Event]) -> list[str]:
    flags: set[str] = set()
    for e in events:
        flags.update(e.flags)
        if not e.counts:
            flags.add(f"{e.source}_event_not_counted")
    return sorted(flags)


def decide_day(rule: ShiftRule, day: date, events: list[Event], ctx: DayContext, *, tz: str,
               now: datetime) -> DayResult:
    """The day's status. Order: holiday, weekly off, full-day leave, tour, then the shift rules on the
    counted events: no IN -> absent (pending until the shift ends), worked < absent_hours -> absent,
    < half_day_hours -> half_day, IN after start + grace -> late, else present."""
    counted = sorted((e for e in events if e.counts), key=lambda e: e.at)
    result = DayResult(day, "pending", flags=_event_flags(events), events=len(events))
    first_in, last_out = _timeline(counted)
    result.first_in, result.last_out = first_in, last_out
    start, end = (t.astimezone(UTC) for t in rule.scheduled(day, tz))  # events are UTC: compare like with like
    day_over = now >= end
    result.final = day_over
    if first_in is not None and last_out is not None:
        result.worked_minutes = _minutes(last_out - first_in)
    if first_in is not None:
        result.late_minutes = max(0, _minutes(first_in - start))
    if last_out is not None:
        result.early_minutes = max(0, _minutes(end - last_out))
    late = first_in is not None and result.late_minutes > rule.grace_late_min
    if last_out is not None and result.early_minutes > rule.grace_early_min:
        result.flags.append("early_exit")
    if first_in is not None and last_out is None and day_over:
        result.flags.append("missing_out")
    if first_in is None and any(e.kind == "OUT" for e in counted):
        result.flags.append("missing_in")

    if ctx.holiday is not None or rule.is_weekly_off(day):
        result.status = "holiday" if ctx.holiday is not None else "weekly_off"
        if first_in is not None:
            result.flags.append("worked_on_day_off")
    elif ctx.leave_kind is not None and ctx.leave_kind != "half_day":
        result.status = "on_leave"
        if counted:
            result.flags.append("attended_on_leave")
    elif ctx.on_tour:
        result.status = "on_tour"
    elif first_in is None:
        result.status = "absent" if day_over else "pending"
        if ctx.leave_kind == "half_day" and day_over:
            result.status = "on_leave"  # half a day on leave and nothing of the other half: the leave stands
            result.flags.append("half_day_leave_other_half_absent")
    else:
        result.status = _by_hours(rule, result, late, ctx)
    result.flags = sorted(set(result.flags))
    return result


def _by_hours(rule: ShiftRule, result: DayResult, late: bool, ctx: DayContext) -> str:
    if ctx.leave_kind == "half_day":
        result.flags.append("half_day_leave")
        # The leave covers one half; the other half needs at least the absent threshold of work.
        if result.worked_minutes is not None and result.worked_minutes < rule.absent_hours * 60:
            result.flags.append("too_short")
            return "on_leave"
        return "half_day"
    if result.worked_minutes is None:
        return "late" if late else "present"  # in, not (yet) out: judged on arrival; missing_out flags it
    if result.worked_minutes < rule.absent_hours * 60:
        result.flags.append("too_short")
        return "absent"
    if result.worked_minutes < rule.half_day_hours * 60:
        return "half_day"
    return "late" if late else "present"
