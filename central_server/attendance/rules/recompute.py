"""The one owner of attendance_days: compute and store employees' days (and raise the explanation requests
they call for) whenever an input changes, fill in days nobody computed yet for the reports, and read days
for the API without writing. A day of a closed month that changes is recorded as an adjustment first
(closing.adjustments), so the paid month never changes silently.

Days Hajiri could not have recorded are never held against anyone: before joining or after leaving they are
not_employed, before the site's go-live day not_live (neither is absent, a working day or paid), and no late or
absent explanation is asked for a day before the employee was registered (their created_at, local day)."""

import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from central_server.attendance.explanations import sync_day_requests
from central_server.attendance.rules.shift import DEFAULT_SHIFT, day_of
from central_server.attendance.rules.status import DayResult, decide_day
from central_server.attendance.rules.timeline import (
    load_contexts,
    load_events,
    load_go_live,
    load_rules,
    parse_instant,
)
from central_server.closing.adjustments import note_changes
from central_server.db.schema import attendance_days, employees
from central_server.db.upsert import insert_on_conflict
from hajiri_common.timefmt import utc_iso, wire_time


def compute_days(conn: sa.Connection, emps: list[dict], days: list[date], tz: str,
                 now: datetime | None = None, *, go_live: dict[str, str] | None = None) -> list[tuple[dict, DayResult]]:
    """Each employee's status on each day, from kiosk records and check-ins as they are now. go_live: the sites'
    go-live days (load_go_live), for callers that compute employee by employee; loaded here when None."""
    if not emps or not days:
        return []
    now = now or datetime.now(UTC)
    go_live = load_go_live(conn, [e["site_id"] for e in emps]) if go_live is None else go_live
    rules = load_rules(conn)
    contexts = load_contexts(conn, emps, days)
    rule_of = {e["employee_id"]: rules.get(e["shift_id"], DEFAULT_SHIFT) for e in emps}
    # Each window once per rule and day, as UTC timestamps (comparing zoned datetimes is slow).
    windows = {(rule, d): tuple(t.timestamp() for t in rule.window(d, tz))
               for rule in set(rule_of.values()) for d in days}
    # One query for the union of every window: night shifts reach into the next calendar day.
    lo_all = min(w[0] for w in windows.values())
    hi_all = max(w[1] for w in windows.values())
    events = load_events(conn, [e["employee_id"] for e in emps], datetime.fromtimestamp(lo_all, UTC),
                         datetime.fromtimestamp(hi_all, UTC))
    out = []
    for emp in emps:
        rule = rule_of[emp["employee_id"]]
        mine = events.get(emp["employee_id"], [])
        stamps = [e.at.timestamp() for e in mine]  # load_events sorts by time
        for day in days:
            if not employed_on(emp, day):  # before joining or after leaving: nothing expected, no absence
                out.append((emp, DayResult(day, "not_employed", final=True)))
                continue
            if not live_on(go_live.get(emp["site_id"]), day):  # the site was not on Hajiri yet: as before joining
                out.append((emp, DayResult(day, "not_live", final=True)))
                continue
            lo, hi = windows[(rule, day)]
            todays = mine[bisect_left(stamps, lo):bisect_left(stamps, hi)]
            out.append((emp, decide_day(rule, day, todays, contexts[(emp["employee_id"], day)], tz=tz, now=now)))
    return out


def employed_on(emp: dict, day: date) -> bool:
    """Whether `day` is inside the employee's employment (joined_on / left_on; None is open-ended)."""
    iso = day.isoformat()
    joined, left = emp.get("joined_on"), emp.get("left_on")
    return (joined is None or iso >= joined) and (left is None or iso <= left)


def live_on(go_live_on: str | None, day: date) -> bool:
    """Whether the site was on Hajiri on `day` (go_live_on YYYY-MM-DD; None: since always)."""
    return go_live_on is None or day.isoformat() >= go_live_on


def registered_on(emp: dict, tz: str) -> date | None:
    """The local day the employee was registered in Hajiri (their created_at), if known."""
    created = emp.get("created_at")
    return parse_instant(created).astimezone(ZoneInfo(tz)).date() if created else None


def store_days(conn: sa.Connection, results: list[tuple[dict, DayResult]], tz: str, cause: str) -> None:
    """Upsert the days and keep the late/absent explanation requests in step with them. A day of a closed month
    whose status or pay changes is recorded as an adjustment, with `cause`, before its row is replaced."""
    stamp = utc_iso(time.time())
    rows = [day_row(emp, r, stamp) for emp, r in results]
    note_changes(conn, rows, cause)
    insert_on_conflict(conn, attendance_days, rows, ["employee_id", "day"], update=True)
    first: dict[str, date | None] = {}
    for emp, _ in results:
        if emp["employee_id"] not in first:
            first[emp["employee_id"]] = registered_on(emp, tz)
    sync_day_requests(conn, {(emp["employee_id"], r.day.isoformat()): _explanations_due(r, first[emp["employee_id"]])
                             for emp, r in results})


def _explanations_due(r: DayResult, registered: date | None) -> set[str]:
    # Before Hajiri knew the employee no kiosk could have recorded them: asking why they were absent (a report
    # filling in the month for someone registered today with an earlier joining day) would only be noise.
    if registered is not None and r.day < registered:
        return set()
    # Late is known at arrival. Absent only once the shift is over; approved leave would be on_leave.
    if r.status == "late":
        return {"late"}
    if r.status == "absent" and r.final:
        return {"absent"}
    return set()


def day_row(emp: dict, r: DayResult, stamp: str) -> dict:
    return {"employee_id": emp["employee_id"], "day": r.day.isoformat(), "site_id": emp["site_id"],
            "status": r.status, "first_in": wire_time(r.first_in) if r.first_in else None,
            "last_out": wire_time(r.last_out) if r.last_out else None, "worked_minutes": r.worked_minutes,
            "late_minutes": r.late_minutes, "early_minutes": r.early_minutes, "flags": ",".join(r.flags),
            "events": r.events, "computed_at": stamp}


def select_employees(conn: sa.Connection, *, site_id: str | None = None,
                     employee_id: str | None = None, employee_ids: list[str] | None = None) -> list[dict]:
    q = sa.select(employees).where(employees.c.active.is_(True)).order_by(employees.c.employee_id)
    if site_id is not None:
        q = q.where(employees.c.site_id == site_id)
    if employee_id is not None:
        q = q.where(employees.c.employee_id == employee_id)
    if employee_ids is not None:
        q = q.where(employees.c.employee_id.in_(employee_ids))
    return [dict(r._mapping) for r in conn.execute(q)]


def recompute_days(engine: Engine | sa.Connection, employee_id: str | None, dates: list[date], tz: str, *,
                   site_id: str | None = None, now: datetime | None = None,
                   cause: str = "recompute") -> list[tuple[dict, DayResult]]:
    """Recompute and store the given days (one employee, a site's, or everyone's): after a check-in, a decided
    explanation, or an admin's POST /api/v1/days/recompute. `cause` names it on any adjustment to a closed month."""
    if isinstance(engine, sa.Connection):
        return _recompute(engine, employee_id, dates, tz, site_id, now, cause)
    with engine.begin() as conn:
        return _recompute(conn, employee_id, dates, tz, site_id, now, cause)


def _recompute(conn, employee_id, dates, tz, site_id, now, cause):
    emps = select_employees(conn, site_id=site_id, employee_id=employee_id)
    results = compute_days(conn, emps, sorted(set(dates)), tz, now)
    store_days(conn, results, tz, cause)
    return results


def public_day(emp: dict, r: DayResult) -> dict:
    """A computed day as the API shows it: the row it would be stored as."""
    return _public(emp, day_row(emp, r, ""))


def _public(emp: dict, row: Mapping) -> dict:
    """A day row (computed or stored) as the API shows it: with the name, flags as a list, no computed_at."""
    shown = {k: v for k, v in row.items() if k != "computed_at"}
    return {**shown, "name": emp["name"], "flags": [f for f in (row["flags"] or "").split(",") if f]}


def read_days(conn: sa.Connection, day: date, tz: str, *, site_id: str | None = None,
              employee_id: str | None = None, now: datetime | None = None) -> list[dict]:
    """Each active employee's day as the API shows it, writing nothing. A stored day computed after its shift
    ended is final (only a new input changes it, and every write of an input recomputes it here); any other
    day (none stored, or stored before the shift ended) is computed now from the records and not stored."""
    now = now or datetime.now(UTC)
    emps = select_employees(conn, site_id=site_id, employee_id=employee_id)
    stored = {r.employee_id: r for r in conn.execute(sa.select(attendance_days).where(
        attendance_days.c.day == day.isoformat(), attendance_days.c.employee_id.in_([e["employee_id"] for e in emps])))}
    rules = load_rules(conn) if stored else {}
    fresh = []
    for emp in emps:
        row = stored.get(emp["employee_id"])
        end = rules.get(emp["shift_id"], DEFAULT_SHIFT).scheduled(day, tz)[1] if row is not None else None
        if row is None or row.status == "pending" or parse_instant(row.computed_at) < end:
            fresh.append(emp)
    computed = {emp["employee_id"]: public_day(emp, r) for emp, r in compute_days(conn, fresh, [day], tz, now)}
    return [computed.get(e["employee_id"]) or _public(e, stored[e["employee_id"]]._mapping) for e in emps]


def recompute_stored(conn: sa.Connection, first: str, last: str, tz: str, *, employee_id: str | None = None,
                     site_id: str | None = None, cause: str = "leave_tour_or_holiday") -> int:
    """After an input changed (leave, tour, holiday, a site's go-live day): recompute the stored days
    first..last (YYYY-MM-DD, as stored) of one employee, one site's or everyone's. Days not stored yet are left
    to read_days and fill_missing_days, so no day after today is ever stored. Returns the days recomputed."""
    q = (sa.select(attendance_days.c.employee_id, attendance_days.c.day)
         .where(attendance_days.c.day.between(first, last)))
    if employee_id is not None:
        q = q.where(attendance_days.c.employee_id == employee_id)
    if site_id is not None:
        q = q.where(attendance_days.c.site_id == site_id)
    by_employee: dict[str, list[date]] = {}
    for r in conn.execute(q):
        by_employee.setdefault(r.employee_id, []).append(date.fromisoformat(r.day))
    if not by_employee:
        return 0
    results = []
    emps = select_employees(conn, employee_ids=sorted(by_employee))
    go_live = load_go_live(conn, [e["site_id"] for e in emps])
    for emp in emps:
        results += compute_days(conn, [emp], sorted(by_employee[emp["employee_id"]]), tz, go_live=go_live)
    store_days(conn, results, tz, cause)
    return len(results)


def recompute_after_ingest(engine: Engine | sa.Connection, touched: list[tuple[str, str]], tz: str) -> int:
    """For the ingest worker: (person_id, wire time) of newly stored IN/OUT records -> their days recomputed
    (however late the batch came). People who are not employees are skipped. Returns the days recomputed."""
    if isinstance(engine, sa.Connection):
        return _after_ingest(engine, touched, tz)
    with engine.begin() as conn:
        return _after_ingest(conn, touched, tz)


def _after_ingest(conn: sa.Connection, touched: list[tuple[str, str]], tz: str) -> int:
    people = sorted({p for p, _ in touched if p})
    if not people:
        return 0
    # Only the people in this batch: ingest runs this per MQTT batch, so never scan every employee.
    emps = {e["employee_id"]: e for e in select_employees(conn, employee_ids=people)}
    rules = load_rules(conn)
    days: dict[str, set[date]] = {}
    for person, at in touched:
        if person in emps:
            rule = rules.get(emps[person]["shift_id"], DEFAULT_SHIFT)
            days.setdefault(person, set()).add(day_of(rule, parse_instant(at), tz))
    results = []
    go_live = load_go_live(conn, [emps[p]["site_id"] for p in days])
    for person, dates in days.items():
        results += compute_days(conn, [emps[person]], sorted(dates), tz, go_live=go_live)
    store_days(conn, results, tz, "kiosk_record")
    return len(results)


_CHUNK = 500


def fill_missing_days(conn: sa.Connection, employee_ids: list[str], days: list[date], tz: str,
                      now: datetime | None = None) -> int:
    """For the reports: compute and store the days of these employees that have no settled row (none yet, or
    'pending' from before the shift ended). Ingest recomputes only the days it touched, so a day without a
    single event has no row until a report asks. Returns the days computed."""
    if not employee_ids or not days:
        return 0
    lo, hi = min(days).isoformat(), max(days).isoformat()
    d = attendance_days
    have: dict[str, set[str]] = defaultdict(set)
    by_missing: dict[tuple[date, ...], list[dict]] = defaultdict(list)
    for i in range(0, len(employee_ids), _CHUNK):
        ids = employee_ids[i:i + _CHUNK]
        for r in conn.execute(sa.select(d.c.employee_id, d.c.day).where(
                d.c.employee_id.in_(ids), d.c.day.between(lo, hi), d.c.status != "pending")):
            have[r.employee_id].add(r.day)
        for emp in select_employees(conn, employee_ids=ids):
            by_missing[tuple(x for x in days if x.isoformat() not in have[emp["employee_id"]])].append(emp)
    computed = 0
    # Employees missing the same days are computed together: the rules load events and leave per batch.
    for missing, emps in by_missing.items():
        results = compute_days(conn, emps, list(missing), tz, now)
        store_days(conn, results, tz, "report_fill")
        computed += len(results)
    return computed


def settle_days(conn: sa.Connection, days: list[date], tz: str, now: datetime) -> int:
    """Store the final day of every active employee whose shift on one of `days` has ended by `now` but whose
    stored row is missing, pending or computed before the shift ended (cause "day_end"): after this a read of
    that day is a plain read, an absence asks its explanation without waiting for a report, and a closed
    month's day that changes is an adjustment. Returns the days stored."""
    emps = select_employees(conn)
    if not emps:
        return 0
    rules = load_rules(conn)
    done = 0
    for day in sorted(set(days)):
        stored = {r.employee_id: r for r in conn.execute(
            sa.select(attendance_days.c.employee_id, attendance_days.c.status, attendance_days.c.computed_at)
            .where(attendance_days.c.day == day.isoformat()))}
        due = []
        for emp in emps:
            end = rules.get(emp["shift_id"], DEFAULT_SHIFT).scheduled(day, tz)[1]
            if end > now:
                continue  # the shift is not over: the day is not final yet
            row = stored.get(emp["employee_id"])
            if row is None or row.status == "pending" or parse_instant(row.computed_at) < end:
                due.append(emp)
        for i in range(0, len(due), 500):  # bounded batches: the events of 500 employees' day at a time
            results = compute_days(conn, due[i:i + 500], [day], tz, now)
            store_days(conn, results, tz, "day_end")
            done += len(results)
    return done
