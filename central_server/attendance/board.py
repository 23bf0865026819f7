"""A site's presence board for one local day, read only: every employee's day as read_days gives it (stored
when settled, else computed now and not stored), who is in now, where each first IN and last OUT came from, the
day's events, and the counts of unknown faces and spoof attempts.

A fixed number of queries whatever the office's size (read_days' own, plus one per kind of event): a
500-person office costs no more round trips than a 5-person one."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from central_server.attendance.day import local_day
from central_server.attendance.day_events import DayEvent, day_events
from central_server.attendance.rules.recompute import read_days
from central_server.attendance.rules.timeline import parse_instant
from central_server.db.schema import evidence, people
from central_server.errors import NotFound
from central_server.evidence.notes import liveness_off
from central_server.org.directory import site_directory

# The summary's counts, in the order the board shows them ("in" is separate: it is about now, not the day).
SUMMARY = ("present", "late", "half_day", "absent", "on_leave", "on_tour", "pending", "off", "not_counted")
OFF = ("holiday", "weekly_off")
NOT_COUNTED = ("not_employed", "not_live")


@dataclass
class BoardRow:
    employee_id: str
    name: str
    status: str
    first_in: datetime | None  # local
    last_out: datetime | None  # local
    late_minutes: int
    worked_minutes: int | None
    flags: list[str]
    first_in_source: str | None  # kiosk | mobile (None: not among this site's events)
    last_out_source: str | None
    in_now: bool  # the last counted event of the day is an IN
    last_seen: datetime | None = None  # the last counted event, any kind


@dataclass
class Board:
    site: dict  # site_directory's row: site_id, name, kind, district, department, employees
    day: date
    as_of: datetime  # local
    is_today: bool
    rows: list[BoardRow]
    events: list[DayEvent]
    counts: dict[str, int]
    in_now: int
    unknown: int
    spoof: int
    names: dict[str, str] = field(default_factory=dict)  # person_id -> name, for every person in `events`
    liveness_off: list[dict] = field(default_factory=list)  # kiosks of the site running without liveness
    evidence_waiting: int = 0  # spoof crops waiting for review


def site_header(conn: sa.Connection, site_id: str) -> dict:
    """The site's name, kind, district and department (NotFound for a site that does not exist)."""
    found = site_directory(conn, {site_id})
    if not found:
        raise NotFound(f"there is no site {site_id!r}")
    return found[0]


def _local(wire: str | None, zone: ZoneInfo) -> datetime | None:
    return None if not wire else parse_instant(wire).astimezone(zone)


def summary_counts(statuses: list[str]) -> dict[str, int]:
    seen = Counter(statuses)
    counts = {s: seen.get(s, 0) for s in SUMMARY}
    counts["off"] = sum(seen.get(s, 0) for s in OFF)
    counts["not_counted"] = sum(seen.get(s, 0) for s in NOT_COUNTED)
    counts["total"] = len(statuses)
    return counts


def site_board(conn: sa.Connection, site_id: str, day: date, tz: str, now: datetime) -> Board:
    """The board of one site and day as of `now` (a past day: as it ended). Writes nothing."""
    site = site_header(conn, site_id)
    zone = ZoneInfo(tz)
    start, end = local_day(day, tz)
    as_of = min(now.astimezone(zone), end)
    days = read_days(conn, day, tz, site_id=site_id, now=now)
    events = [e for e in day_events(conn, start, end, tz, site_id=site_id) if e.at <= as_of]
    mine: dict[str, list[DayEvent]] = {}
    for e in events:
        if e.person_id is not None and e.kind in ("IN", "OUT"):
            mine.setdefault(e.person_id, []).append(e)
    rows = []
    for d in days:
        own = mine.get(d["employee_id"], [])
        by_time = {(e.kind, e.wire_at): e.source for e in own if e.counts}
        counted = [e for e in own if e.counts]
        last = counted[-1] if counted else None
        rows.append(BoardRow(
            employee_id=d["employee_id"], name=d["name"], status=d["status"],
            first_in=_local(d["first_in"], zone), last_out=_local(d["last_out"], zone),
            late_minutes=int(d["late_minutes"] or 0), worked_minutes=d["worked_minutes"], flags=list(d["flags"]),
            first_in_source=by_time.get(("IN", d["first_in"])), last_out_source=by_time.get(("OUT", d["last_out"])),
            in_now=last is not None and last.kind == "IN", last_seen=last.at if last else None))
    rows.sort(key=lambda r: (r.name.casefold(), r.employee_id))
    kinds = Counter(e.kind for e in events if e.source == "kiosk")
    names = {r.employee_id: r.name for r in rows}
    others = sorted({e.person_id for e in events if e.person_id is not None} - set(names))
    if others:  # someone from another office seen at this one's kiosk: their name from the people register
        names.update({r.person_id: r.name for r in conn.execute(
            sa.select(people.c.person_id, people.c.name).where(people.c.person_id.in_(others[:500])))})
    waiting = conn.execute(sa.select(sa.func.count()).select_from(evidence).where(
        evidence.c.site_id == site_id, evidence.c.review_status == "pending")).scalar_one()
    return Board(site=site, day=day, as_of=as_of, is_today=now.astimezone(zone).date() == day, rows=rows,
                 events=events, counts=summary_counts([r.status for r in rows]), in_now=sum(r.in_now for r in rows),
                 unknown=kinds.get("UNKNOWN", 0), spoof=kinds.get("SPOOF", 0), names=names,
                 liveness_off=[dict(r._mapping) for r in liveness_off(conn, site_id)], evidence_waiting=waiting)
