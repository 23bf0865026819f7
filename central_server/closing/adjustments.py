"""Adjustments: a day of a closed month whose status or payable value changes after the close (a kiosk record or
check-in synced late, an explanation accepted, leave granted afterwards) is recorded here, never written into the
paid month's frozen report; it is carried into the first open month after it, and the office head reviews it.

The day rules call note_changes just before they write attendance_days (rules.recompute.store_days), so this
module imports nothing above the database: the reports import the rules, the rules import this."""

import time

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.db.schema import attendance_adjustments, attendance_days, employees, month_closes
from central_server.db.upsert import insert_on_conflict
from central_server.errors import Conflict, NotFound
from hajiri_common.timefmt import utc_iso

# One day's pay by the monthly report's formula (central_server.reports.monthly): present (late too), leave,
# tour, holiday and weekly off pay a day; a half day pays half, and half-day leave on it pays the other half.
# Absent, pending, not_employed, not_live and a day with no row pay nothing.
_PAYING = {"present": 1.0, "late": 1.0, "on_leave": 1.0, "on_tour": 1.0, "holiday": 1.0, "weekly_off": 1.0,
           "half_day": 0.5}
NOT_RECORDED = "not_recorded"  # the old status of a day that had no row when its month was closed
_CHUNK = 500


class AdjustmentNotFound(NotFound):
    """No such adjustment."""


class AlreadyReviewed(Conflict):
    """The adjustment was reviewed before (409)."""


def day_payable(status: str | None, flags: str | list[str] | None = None) -> float:
    """One day's payable days (0, 0.5 or 1) as the monthly report counts it."""
    flag_set = set(flags.split(",") if isinstance(flags, str) else flags or ())
    pay = _PAYING.get(status or "", 0.0)
    if status == "half_day" and "half_day_leave" in flag_set:
        pay += 0.5
    return pay


def month_after(month: str) -> str:
    """YYYY-MM -> the month after it."""
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def closed_months(conn: sa.Connection, site_ids: list[str], months: list[str] | None = None) -> set[tuple[str, str]]:
    """(site_id, month) of these sites' closed months (of these months, when given)."""
    out: set[tuple[str, str]] = set()
    for i in range(0, len(site_ids), _CHUNK):
        q = sa.select(month_closes.c.site_id, month_closes.c.month).where(
            month_closes.c.site_id.in_(site_ids[i:i + _CHUNK]))
        if months is not None:
            q = q.where(month_closes.c.month.in_(sorted(set(months))))
        out.update((r.site_id, r.month) for r in conn.execute(q))
    return out


def is_closed(conn: sa.Connection, site_id: str, month: str) -> bool:
    return (site_id, month) in closed_months(conn, [site_id], [month])


def first_open_month(conn: sa.Connection, site_id: str, closed_month: str) -> str:
    """The first month after `closed_month` that the site has not closed: where an adjustment is paid."""
    closed = {m for _, m in closed_months(conn, [site_id])}
    month = month_after(closed_month)
    while month in closed:
        month = month_after(month)
    return month


def note_changes(conn: sa.Connection, rows: list[dict], cause: str) -> int:
    """Before `rows` (attendance_days rows about to be written) replace the stored ones: one adjustment per row of
    a closed month whose status or payable value differs from what is stored (a day with no row counts as
    not_recorded, paying nothing). Returns the adjustments recorded. One query when no row is in a closed month."""
    if not rows:
        return 0
    closed = closed_months(conn, sorted({r["site_id"] for r in rows}), [r["day"][:7] for r in rows])
    if not closed:
        return 0
    # The stored rows of every employee with a row in a closed month (its site could be the old row's: ask both).
    ids = sorted({r["employee_id"] for r in rows})
    days = sorted({r["day"] for r in rows})
    stored: dict[tuple[str, str], sa.Row] = {}
    for i in range(0, len(ids), _CHUNK):
        q = sa.select(attendance_days.c.employee_id, attendance_days.c.day, attendance_days.c.site_id,
                      attendance_days.c.status, attendance_days.c.flags).where(
            attendance_days.c.employee_id.in_(ids[i:i + _CHUNK]), attendance_days.c.day.between(days[0], days[-1]))
        stored.update({(r.employee_id, r.day): r for r in conn.execute(q)})
    now = utc_iso(time.time())
    applied: dict[tuple[str, str], str] = {}
    new = []
    for row in rows:
        old = stored.get((row["employee_id"], row["day"]))
        # The month was closed for the site the day was stored under (an employee may have moved since).
        site_id = old.site_id if old is not None else row["site_id"]
        month = row["day"][:7]
        if (site_id, month) not in closed:
            continue
        old_status = old.status if old is not None else NOT_RECORDED
        old_pay = day_payable(old.status, old.flags) if old is not None else 0.0
        delta = day_payable(row["status"], row["flags"]) - old_pay
        if old_status == row["status"] and delta == 0:
            continue
        if old is None and delta == 0:
            continue  # a day the frozen report did not pay, still unpaid: nothing owed either way
        key = (site_id, month)
        if key not in applied:
            applied[key] = first_open_month(conn, site_id, month)
        new.append({"employee_id": row["employee_id"], "site_id": site_id, "day": row["day"], "closed_month": month,
                    "applied_month": applied[key], "old_status": old_status, "new_status": row["status"],
                    "payable_delta": delta, "cause": cause, "created_at": now})
    insert_on_conflict(conn, attendance_adjustments, new, ["employee_id", "day", "new_status", "created_at"],
                       update=False)
    for a in new:
        write_audit(conn, "rules", "adjustment.create", a["employee_id"],
                    f"{a['day']} {a['old_status']} -> {a['new_status']} payable {a['payable_delta']:+g} "
                    f"closed={a['closed_month']} applied={a['applied_month']} cause={cause}")
    return len(new)


def _public(row) -> dict:
    return dict(row._mapping)


def _query() -> sa.Select:
    a = attendance_adjustments
    return (sa.select(a, employees.c.name).select_from(a.join(employees, employees.c.employee_id == a.c.employee_id))
            .order_by(a.c.day, a.c.employee_id, a.c.id))


def list_adjustments(conn: sa.Connection, site_id: str, month: str | None = None) -> list[dict]:
    """A site's adjustments, by day: all, or those about `month` (its closed_month) or paid in it (its
    applied_month). Each has the employee's name."""
    a = attendance_adjustments
    q = _query().where(a.c.site_id == site_id)
    if month is not None:
        q = q.where(sa.or_(a.c.closed_month == month, a.c.applied_month == month))
    return [_public(r) for r in conn.execute(q)]


def get_adjustment(conn: sa.Connection, adjustment_id: int) -> dict:
    """One adjustment (AdjustmentNotFound, 404, when there is none)."""
    row = conn.execute(_query().where(attendance_adjustments.c.id == adjustment_id)).first()
    if row is None:
        raise AdjustmentNotFound(f"adjustment {adjustment_id} does not exist")
    return _public(row)


def review_adjustment(conn: sa.Connection, adjustment_id: int, note: str, *, actor: str,
                      now: float | None = None) -> dict:
    """The office head acknowledges an adjustment, once (AlreadyReviewed, 409, the second time); audited."""
    adj = get_adjustment(conn, adjustment_id)
    if adj["reviewed_at"] is not None:
        raise AlreadyReviewed(f"adjustment {adjustment_id} was reviewed by {adj['reviewed_by']} at "
                              f"{adj['reviewed_at']}")
    at = utc_iso(time.time() if now is None else now)
    done = conn.execute(sa.update(attendance_adjustments).where(
        attendance_adjustments.c.id == adjustment_id, attendance_adjustments.c.reviewed_at.is_(None)).values(
        reviewed_by=actor, reviewed_at=at, review_note=note))
    if done.rowcount != 1:  # a review raced in between the read and the write
        raise AlreadyReviewed(f"adjustment {adjustment_id} was reviewed meanwhile")
    write_audit(conn, actor, "adjustment.review", adj["employee_id"],
                f"id={adjustment_id} {adj['day']} {adj['old_status']} -> {adj['new_status']} note={note!r}")
    return get_adjustment(conn, adjustment_id)



def adjustments_paid_in(conn: sa.Connection, month: str, site_ids: list[str] | None = None,
                        employee_id: str | None = None) -> list[dict]:
    """The adjustments carried into `month` (their applied_month) at these sites (None: every site), of one
    employee when given; by site, employee and day."""
    a = attendance_adjustments
    q = _query().where(a.c.applied_month == month)
    if employee_id is not None:
        q = q.where(a.c.employee_id == employee_id)
    if site_ids is None:
        found = [_public(r) for r in conn.execute(q)]
    else:
        found = [_public(r) for i in range(0, len(site_ids), _CHUNK)
                 for r in conn.execute(q.where(a.c.site_id.in_(site_ids[i:i + _CHUNK])))]
    # Sorted here, not by ORDER BY across chunks, and alike on SQLite and PostgreSQL.
    return sorted(found, key=lambda x: (x["site_id"], x["employee_id"], x["day"], x["id"]))
