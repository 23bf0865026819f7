"""Attendance rules: shifts, one timeline per employee per day, day status, and recomputation."""

from central_server.attendance.rules.shift import DEFAULT_SHIFT, ShiftRule, day_of
from central_server.attendance.rules.status import DayContext, DayResult, Event, decide_day

__all__ = ["DEFAULT_SHIFT", "DayContext", "DayResult", "Event", "ShiftRule", "day_of", "decide_day"]
