"""The wire's one time spelling: UTC, milliseconds truncated, trailing Z, from a datetime or a Unix time."""

from datetime import UTC, datetime, timedelta, timezone

from hajiri_common.timefmt import parse_utc_iso, utc_iso, wire_time


def test_datetime_and_unix_time_spell_the_same_instant() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    dt = datetime(2026, 11, 25, 9, 1, 2, 345_999, tzinfo=ist)
    assert wire_time(dt) == "2026-11-25T03:31:02.345Z"
    assert utc_iso(datetime(2026, 11, 25, 3, 31, 2, tzinfo=UTC).timestamp()) == "2026-11-25T03:31:02.000Z"
    assert parse_utc_iso(wire_time(dt)) == dt.replace(microsecond=345_000)
