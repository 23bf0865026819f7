"""Load what a day's rules need from the database: kiosk records and check-ins as Events, leave, tours,
holidays, shifts and each site's go-live day."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa

from central_server.attendance.rules.counting import checkin_counts
from central_server.attendance.rules.shift import ShiftRule
from central_server.attendance.rules.status import DayContext, Event
from central_server.db.schema import (
    checkin_reviews,
    checkins,
    explanations,
    holidays,
    leaves,
    records,
    shifts,
    site_details,
    tours,
)
from hajiri_common.timefmt import wire_time

_CHUNK = 500


def parse_instant(value: str) -> datetime:
    """A stored UTC instant (wire format ...Z, or any ISO 8601 with an offset) as an aware datetime."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


# Kiosk clock corrections live beside the records (migration 2, central_server.heartbeat): a lightweight
# reference, so the rules work on a database with or without that migration.
record_times = sa.table("record_times", sa.column("record_id"), sa.column("corrected_wall_time"))


def has_corrected_time(conn: sa.Connection) -> bool:
    """Whether kiosk clock corrections (the record_times table) exist in this database."""
    return sa.inspect(conn).has_table("record_times")


@dataclass(frozen=True)
class KioskEvent:
    record_id: str
    person_id: str
    site_id: str
    event: str
    at: str  # the corrected time where there is one, else the signed wall_time
    flags: tuple[str, ...]


def kiosk_events(conn: sa.Connection, person_ids: list[str], lo: str, hi: str) -> list[KioskEvent]:
    """IN/OUT records of these people whose (corrected) time is in [lo, hi), wire-format bounds."""
    corrected = has_corrected_time(conn)
    cols = [records.c.record_id, records.c.person_id, records.c.site_id, records.c.event, records.c.wall_time,
            records.c.clock_synced, records.c.chain_ok]
    out = []
    for ids in _chunks(person_ids):
        where = [records.c.person_id.in_(ids), records.c.event.in_(("IN", "OUT"))]
        if corrected:
            q = (sa.select(*cols, record_times.c.corrected_wall_time)
                 .select_from(records.outerjoin(record_times, record_times.c.record_id == records.c.record_id))
                 .where(*where, sa.or_(records.c.wall_time.between(lo, hi),
                                       record_times.c.corrected_wall_time.between(lo, hi))))
        else:
            q = sa.select(*cols, sa.null().label("corrected_wall_time")).where(
                *where, records.c.wall_time >= lo, records.c.wall_time < hi)
        for r in conn.execute(q):
            at = r.corrected_wall_time or r.wall_time
            if not lo <= at < hi:
                continue
            flags = []
            if r.corrected_wall_time is not None:
                flags.append("kiosk_time_corrected")
            elif not r.clock_synced:
                flags.append("kiosk_clock_unsynced")  # no correction yet: the kiosk's own clock, maybe wrong
            if r.chain_ok is False:
                flags.append("kiosk_chain_issue")
            out.append(KioskEvent(r.record_id, r.person_id, r.site_id, r.event, at, tuple(flags)))
    return out


def _chunks(ids: list[str]):
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def load_events(conn: sa.Connection, employee_ids: list[str], start: datetime, end: datetime) -> dict[str, list[Event]]:
    """Every IN/OUT of these employees in [start, end) from kiosks and phones, in time order."""
    lo, hi = wire_time(start), wire_time(end)
    out: dict[str, list[Event]] = defaultdict(list)
    accepted, rejected = _accepted_checkins(conn, employee_ids), _rejected_checkins(conn, employee_ids)
    for k in kiosk_events(conn, employee_ids, lo, hi):
        out[k.person_id].append(Event(parse_instant(k.at), k.event, "kiosk", k.record_id, k.flags))
    for ids in _chunks(employee_ids):
        q = sa.select(checkins).where(checkins.c.employee_id.in_(ids), checkins.c.event_time >= lo,
                                      checkins.c.event_time < hi)
        for c in conn.execute(q):
            flags = tuple(f for f in c.flags.split(",") if f)
            counts = checkin_counts(flags, vouched=c.checkin_id in accepted, rejected=c.checkin_id in rejected)
            out[c.employee_id].append(Event(parse_instant(c.event_time), c.event, "mobile", c.checkin_id,
                                            flags, counts))
    for events in out.values():
        events.sort(key=lambda e: (e.at, e.ref))
    return out


def _accepted_checkins(conn: sa.Connection, employee_ids: list[str]) -> set[str]:
    """Check-ins vouched for: an accepted outside-fence explanation, or a reviewer's acceptance of the check-in."""
    found: set[str] = set()
    for ids in _chunks(employee_ids):
        found.update(r[0] for r in conn.execute(sa.select(explanations.c.ref).where(
            explanations.c.employee_id.in_(ids), explanations.c.reason == "outside_fence",
            explanations.c.status == "accepted")))
    return found | _reviewed_checkins(conn, employee_ids, "accepted")


def _rejected_checkins(conn: sa.Connection, employee_ids: list[str]) -> set[str]:
    return _reviewed_checkins(conn, employee_ids, "rejected")


def _reviewed_checkins(conn: sa.Connection, employee_ids: list[str], decision: str) -> set[str]:
    found: set[str] = set()
    for ids in _chunks(employee_ids):
        found.update(conn.execute(sa.select(checkin_reviews.c.checkin_id).join(
            checkins, checkins.c.checkin_id == checkin_reviews.c.checkin_id).where(
            checkins.c.employee_id.in_(ids), checkin_reviews.c.decision == decision)).scalars())
    return found


def load_contexts(conn: sa.Connection, employees: list[dict], days: list[date]) -> dict[tuple[str, date], DayContext]:
    """Holiday, approved leave and approved tour for each (employee, day)."""
    lo, hi = min(days).isoformat(), max(days).isoformat()
    hol: dict[tuple[str | None, str], str] = {
        (h.site_id, h.day): h.name for h in conn.execute(sa.select(holidays).where(holidays.c.day.between(lo, hi)))}
    ids = [e["employee_id"] for e in employees]
    spans: dict[str, list] = defaultdict(list)
    for ids_part in _chunks(ids):
        for table in (leaves, tours):
            q = sa.select(table).where(table.c.employee_id.in_(ids_part), table.c.approved.is_(True),
                                       table.c.from_day <= hi, table.c.to_day >= lo)
            for row in conn.execute(q):
                spans[row.employee_id].append((table.name, row.from_day, row.to_day,
                                               getattr(row, "kind", None)))
    out = {}
    for emp in employees:
        for day in days:
            d = day.isoformat()
            covering = [s for s in spans.get(emp["employee_id"], []) if s[1] <= d <= s[2]]
            # A full-day leave outranks a half-day one on the same day.
            leave_kinds = sorted((s[3] for s in covering if s[0] == "leaves"), key=lambda k: k == "half_day")
            out[(emp["employee_id"], day)] = DayContext(
                holiday=hol.get((emp["site_id"], d)) or hol.get((None, d)),
                leave_kind=leave_kinds[0] if leave_kinds else None,
                on_tour=any(s[0] == "tours" for s in covering))
    return out


def load_rules(conn: sa.Connection) -> dict[str, ShiftRule]:
    return {r.shift_id: ShiftRule.from_row(dict(r._mapping)) for r in conn.execute(sa.select(shifts))}


def load_go_live(conn: sa.Connection, site_ids: list[str]) -> dict[str, str]:
    """site_id -> its go-live day (YYYY-MM-DD) for the sites that have one; a site not here is live since always."""
    out: dict[str, str] = {}
    for ids in _chunks(sorted(set(site_ids))):
        out.update({r.site_id: r.go_live_on for r in conn.execute(
            sa.select(site_details.c.site_id, site_details.c.go_live_on).where(
                site_details.c.site_id.in_(ids), site_details.c.go_live_on.is_not(None)))})
    return out
