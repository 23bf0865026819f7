"""The events of a day as the office pages show them (read only): each kiosk record and mobile check-in with
where it came from, the time the server uses beside the device's own clock where they differ, whether it
counts for the day (as rules.timeline decides), and a check-in's office-area status.

One query per kind for a whole site (never one per employee): kiosk records by their signed time, kiosk
records re-based into the span by a clock correction, check-ins, and the explanations and reviews that decide
whether those check-ins count."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from central_server.attendance.rules.counting import checkin_reasons
from central_server.attendance.rules.timeline import (
    _accepted_checkins,
    _rejected_checkins,
    parse_instant,
)
from central_server.db.schema import checkins, employees, geofences, record_times, records
from hajiri_common.timefmt import wire_time

KIOSK_KINDS = ("IN", "OUT", "UNKNOWN", "SPOOF")


@dataclass(frozen=True)
class FenceStatus:
    """Where a check-in was against the employee's office areas: inside one, outside (how far from the nearest),
    or none to test against."""

    inside: bool | None  # None: no office area is set for the employee
    area: str | None  # the nearest office area's name
    distance_m: float | None
    accuracy_m: float


@dataclass(slots=True)
class DayEvent:
    at: datetime  # local time the server uses: a kiosk clock corrected from its boot, a phone's settled time
    wire_at: str  # the same instant as stored (UTC wire time): what the day rows' first_in / last_out hold
    device_time: datetime | None  # the device's own clock (local) where it differs from `at`
    kind: str  # IN | OUT | UNKNOWN | SPOOF
    source: str  # kiosk | mobile
    device: str  # the kiosk's device id ("" for a phone)
    person_id: str | None
    ref: str  # record_id or checkin_id
    flags: tuple[str, ...]
    counts: bool  # False: kept visible, but the day rules do not count it
    fence: FenceStatus | None = None  # check-ins only


def _canonical(stored: str, at: datetime) -> str:
    """The stored instant as wire_time spells it (it nearly always is already: no formatting then)."""
    return stored if len(stored) == 24 and stored.endswith("Z") else wire_time(at)


def kiosk_flags(corrected: bool, clock_synced: bool, chain_ok: bool | None) -> tuple[str, ...]:
    """The flags a kiosk record carries into the day (the same as rules.timeline.kiosk_events gives them)."""
    flags = []
    if corrected:
        flags.append("kiosk_time_corrected")
    elif not clock_synced:
        flags.append("kiosk_clock_unsynced")
    if chain_ok is False:
        flags.append("kiosk_chain_issue")
    return tuple(flags)


def _kiosk(conn: sa.Connection, lo: str, hi: str, zone: ZoneInfo, site_id: str | None,
           employee_id: str | None) -> list[DayEvent]:
    cols = (records.c.record_id, records.c.device_id, records.c.site_id, records.c.person_id, records.c.event,
            records.c.wall_time, records.c.clock_synced, records.c.chain_ok, record_times.c.corrected_wall_time)
    where = []
    if site_id is not None:
        where += [records.c.site_id == site_id, records.c.event.in_(KIOSK_KINDS)]
    if employee_id is not None:
        where += [records.c.person_id == employee_id, records.c.event.in_(("IN", "OUT"))]
    by_signed = (sa.select(*cols)
                 .select_from(records.outerjoin(record_times, record_times.c.record_id == records.c.record_id))
                 .where(*where, records.c.wall_time >= lo, records.c.wall_time < hi))
    # Records re-based into the span: read from record_times (unsynced records only) and matched here, since a
    # filter on the site or person would make the database read every record of theirs ever.
    by_corrected = (sa.select(*cols)
                    .select_from(record_times.join(records, records.c.record_id == record_times.c.record_id))
                    .where(record_times.c.corrected_wall_time >= lo, record_times.c.corrected_wall_time < hi))

    def wanted(r) -> bool:
        if site_id is not None:
            return r.site_id == site_id and r.event in KIOSK_KINDS
        return r.person_id == employee_id and r.event in ("IN", "OUT")
    seen: dict[str, DayEvent] = {}
    for q in (by_signed, by_corrected):
        for r in conn.execute(q):
            at_wire = r.corrected_wall_time or r.wall_time
            if r.record_id in seen or not lo <= at_wire < hi or not wanted(r):  # re-based out: another day's
                continue
            at = parse_instant(at_wire).astimezone(zone)
            signed = None if at_wire == r.wall_time else parse_instant(r.wall_time).astimezone(zone)
            seen[r.record_id] = DayEvent(
                at=at, wire_at=_canonical(at_wire, at), device_time=signed, kind=r.event, source="kiosk",
                device=r.device_id, person_id=r.person_id, ref=r.record_id,
                flags=kiosk_flags(r.corrected_wall_time is not None, r.clock_synced, r.chain_ok), counts=True)
    return list(seen.values())


def _mobile(conn: sa.Connection, lo: str, hi: str, zone: ZoneInfo, site_id: str | None,
            employee_id: str | None) -> list[DayEvent]:
    q = (sa.select(checkins.c.checkin_id, checkins.c.employee_id, checkins.c.event, checkins.c.device_time,
                   checkins.c.event_time, checkins.c.flags, checkins.c.distance_m, checkins.c.accuracy_m,
                   checkins.c.geofence_id, geofences.c.name.label("area"))
         .select_from(checkins.outerjoin(geofences, geofences.c.geofence_id == checkins.c.geofence_id))
         .where(checkins.c.event_time >= lo, checkins.c.event_time < hi))
    if site_id is not None:  # by the site's employees: each is one seek on (employee_id, event_time)
        q = q.where(checkins.c.employee_id.in_(
            sa.select(employees.c.employee_id).where(employees.c.site_id == site_id).scalar_subquery()))
    if employee_id is not None:
        q = q.where(checkins.c.employee_id == employee_id)
    rows = list(conn.execute(q))
    # Whether a check-in counts is the day rules' call (rules.timeline.load_events): the same explanations and
    # reviews weigh here, looked up for the few employees who checked in, not the whole office.
    people = sorted({r.employee_id for r in rows})
    accepted = _accepted_checkins(conn, people) if rows else set()
    rejected = _rejected_checkins(conn, people) if rows else set()
    out = []
    for r in rows:
        flags = tuple(f for f in r.flags.split(",") if f)
        against = checkin_reasons(flags, vouched=r.checkin_id in accepted, rejected=r.checkin_id in rejected)
        at = parse_instant(r.event_time).astimezone(zone)
        own = parse_instant(r.device_time).astimezone(zone)
        inside = None if "no_geofence" in flags else "outside_fence" not in flags
        out.append(DayEvent(at=at, wire_at=_canonical(r.event_time, at), device_time=own if own != at else None,
                            kind=r.event, source="mobile", device="", person_id=r.employee_id, ref=r.checkin_id, flags=flags, counts=not against,
                            fence=FenceStatus(inside, r.area, r.distance_m, r.accuracy_m)))
    return out


def day_events(conn: sa.Connection, start: datetime, end: datetime, tz: str, *, site_id: str | None = None,
               employee_id: str | None = None) -> list[DayEvent]:
    """Events in [start, end), time-ordered: for a site, every record of its kiosks (unknown faces and spoof
    attempts too) and its employees' check-ins; for an employee, their IN/OUT at any kiosk and their check-ins."""
    if (site_id is None) == (employee_id is None):
        raise ValueError("give exactly one of site_id, employee_id")
    lo, hi, zone = wire_time(start), wire_time(end), ZoneInfo(tz)
    events = _kiosk(conn, lo, hi, zone, site_id, employee_id) + _mobile(conn, lo, hi, zone, site_id, employee_id)
    events.sort(key=lambda e: (e.at, e.source, e.device, e.ref))
    return events
