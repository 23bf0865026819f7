"""The local day, defined once: a YYYY-MM-DD parameter, today in the server's zone, and the day's bounds
(local midnight to midnight) that the attendance views and the shift rules both use."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from central_server.errors import Invalid
from hajiri_common.timefmt import utc_iso


class BadDay(Invalid, ValueError):
    """A day parameter that is not YYYY-MM-DD (422; the message starts with the parameter when named)."""


def parse_day(value: str, field: str | None = None) -> date:
    """YYYY-MM-DD, or BadDay saying so (prefixed "field: " when the request parameter is named)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    why = f"date {value!r} is not a calendar date in the form YYYY-MM-DD (e.g. 2026-11-25)"
    raise BadDay(why if field is None else f"{field}: {why}")


def today(tz: str) -> date:
    return datetime.now(ZoneInfo(tz)).date()


def local_day(day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day as aware datetimes: midnight to the next midnight (23 or 25 hours
    long where the zone changes its clocks)."""
    zone = ZoneInfo(tz)
    return datetime.combine(day, time.min, zone), datetime.combine(day + timedelta(days=1), time.min, zone)


def day_bounds(day: date, tz: str) -> tuple[str, str]:
    """The local day's [start, end) as UTC wire times, for comparing with stored event times."""
    start, end = local_day(day, tz)
    return utc_iso(start.timestamp()), utc_iso(end.timestamp())
