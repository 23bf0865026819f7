"""A day's attendance: the records of one local day, and who is in at each site (first IN, last OUT)."""

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from central_server.attendance.day import day_bounds
from central_server.db.schema import people, record_times, records, sites
from hajiri_common.timefmt import parse_utc_iso


def day_records(conn: sa.Connection, day: date, tz: str, site_id: str | None = None) -> list[dict]:
    """The day's records in time order, with the person's name where they are on the register.

    `time` is when it happened as best the server knows: the re-based time for a record written with an
    unsynced kiosk clock (record_times, corrected from the boot's anchor), else the signed wall_time. A day
    is chosen by that time, so a kiosk that booted in 1970 still lands its records on the right day."""
    start, end = day_bounds(day, tz)
    query = (
        sa.select(records.c.record_id, records.c.device_id, records.c.site_id, records.c.person_id,
                  people.c.name, records.c.event, records.c.wall_time, records.c.match_score,
                  records.c.clock_synced, records.c.chain_ok, record_times.c.corrected_wall_time)
        .select_from(records.outerjoin(people, people.c.person_id == records.c.person_id)
                     .outerjoin(record_times, record_times.c.record_id == records.c.record_id))
        .where(sa.or_(sa.and_(records.c.wall_time >= start, records.c.wall_time < end),
                      sa.and_(record_times.c.corrected_wall_time >= start,
                              record_times.c.corrected_wall_time < end)))
    )
    if site_id is not None:
        query = query.where(records.c.site_id == site_id)
    rows = []
    for r in conn.execute(query):
        row = dict(r._mapping)
        corrected = row.pop("corrected_wall_time")
        # A record whose signed time is in the day but whose corrected time is not belongs to another day.
        row["time"] = corrected or row["wall_time"]
        row["time_corrected"] = corrected is not None
        if start <= row["time"] < end:
            rows.append(row)
    rows.sort(key=lambda row: (row["time"], row["device_id"], row["record_id"]))
    return rows


@dataclass
class PersonDay:
    person_id: str
    name: str | None
    first_in: str | None = None
    last_out: str | None = None
    last_event: str | None = None
    last_time: str | None = None


@dataclass
class SiteDay:
    site_id: str
    name: str
    kind: str
    people: dict[str, PersonDay] = field(default_factory=dict)
    unknown: int = 0
    spoof: int = 0


def local_clock(wire_time: str | None, tz: str) -> str:
    if wire_time is None:
        return ""
    return parse_utc_iso(wire_time).astimezone(ZoneInfo(tz)).strftime("%H:%M:%S")


def presence(conn: sa.Connection, day: date, tz: str, site_id: str | None = None) -> list[SiteDay]:
    """Per site: everyone on its register (and anyone else seen there) with the day's first IN and last OUT."""
    site_query = sa.select(sites).order_by(sites.c.site_id)
    people_query = sa.select(people).order_by(people.c.name, people.c.person_id)
    if site_id is not None:
        site_query = site_query.where(sites.c.site_id == site_id)
        people_query = people_query.where(people.c.site_id == site_id)
    out = {s.site_id: SiteDay(s.site_id, s.name, s.kind) for s in conn.execute(site_query)}
    for p in conn.execute(people_query):
        if p.site_id in out:
            out[p.site_id].people[p.person_id] = PersonDay(p.person_id, p.name)
    for rec in day_records(conn, day, tz, site_id):
        site = out.setdefault(rec["site_id"], SiteDay(rec["site_id"], rec["site_id"], "unregistered"))
        if rec["event"] == "UNKNOWN":
            site.unknown += 1
            continue
        if rec["event"] == "SPOOF":
            site.spoof += 1
            continue
        if rec["person_id"] is None:
            continue
        person = site.people.setdefault(rec["person_id"], PersonDay(rec["person_id"], rec["name"]))
        if rec["event"] == "IN" and person.first_in is None:
            person.first_in = rec["time"]
        if rec["event"] == "OUT":
            person.last_out = rec["time"]
        person.last_event, person.last_time = rec["event"], rec["time"]
    return list(out.values())
