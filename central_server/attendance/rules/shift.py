"""A shift as rules: scheduled start and end of a local day, and the window of events that belong to it."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from central_server.attendance.day import local_day

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A night shift's events are gathered from this long before its start until the same time next day, so a
# 22:00-06:00 shift owns 16:00 today .. 16:00 tomorrow and no event can belong to two days.
OVERNIGHT_LEAD = timedelta(hours=6)


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class ShiftRule:
    shift_id: str
    start_time: str
    end_time: str
    grace_late_min: int
    grace_early_min: int
    half_day_hours: float
    absent_hours: float
    overnight: bool
    weekly_off: tuple[str, ...]

    @classmethod
    def from_row(cls, row: dict | None) -> "ShiftRule":
        """A shifts row (weekly_off as a list or a comma string); None gives DEFAULT_SHIFT."""
        if row is None:
            return DEFAULT_SHIFT
        off = row["weekly_off"]
        off = tuple(w for w in off.split(",") if w) if isinstance(off, str) else tuple(off)
        return cls(row["shift_id"], row["start_time"], row["end_time"], int(row["grace_late_min"]),
                   int(row["grace_early_min"]), float(row["half_day_hours"]), float(row["absent_hours"]),
                   bool(row["overnight"]), off)

    def scheduled(self, day: date, tz: str) -> tuple[datetime, datetime]:
        """Scheduled start and end as aware datetimes; a night shift ends on the next calendar day."""
        zone = ZoneInfo(tz)
        start = datetime.combine(day, _clock(self.start_time), zone)
        end_day = day + timedelta(days=1) if self.overnight else day
        end = datetime.combine(end_day, _clock(self.end_time), zone)
        return start, end

    def window(self, day: date, tz: str) -> tuple[datetime, datetime]:
        """[from, to) of event times that count for this day: the local calendar day, or for a night shift
        the 24 hours from OVERNIGHT_LEAD before its start."""
        if self.overnight:
            start = datetime.combine(day, _clock(self.start_time), ZoneInfo(tz)) - OVERNIGHT_LEAD
            return start, start + timedelta(days=1)
        return local_day(day, tz)

    def is_weekly_off(self, day: date) -> bool:
        return WEEKDAYS[day.weekday()] in self.weekly_off


# Employees without a shift of their own: a common government office day.
DEFAULT_SHIFT = ShiftRule("default", "10:00", "18:00", 10, 10, 4.0, 2.0, False, ("sun",))


def day_of(rule: ShiftRule, at: datetime, tz: str) -> date:
    """The attendance day an instant belongs to under this rule (a night shift's 02:00 is yesterday's)."""
    local = at.astimezone(ZoneInfo(tz)).date()
    for day in (local, local - timedelta(days=1), local + timedelta(days=1)):
        lo, hi = rule.window(day, tz)
        if lo <= at < hi:
            return day
    return local
