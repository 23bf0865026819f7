"""The one spelling of an instant on the wire: UTC, milliseconds, trailing Z."""

from datetime import UTC, datetime


def wire_time(dt: datetime) -> str:
    """An aware datetime as the wire spells it (truncated to the millisecond)."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def utc_iso(ts: float) -> str:
    """A Unix time as the wire spells it."""
    return wire_time(datetime.fromtimestamp(ts, UTC))


def parse_utc_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
