"""What waits for a decision at a set of sites, for the review page: explanation requests (with the day's late
minutes) and flagged mobile check-ins (with the reviewer's decision once made), the oldest first. Reads only."""

from dataclasses import dataclass, field

import sqlalchemy as sa

from central_server.attendance.checkin_review import checkin_day
from central_server.attendance.rules.timeline import load_rules
from central_server.db.schema import attendance_days, checkin_reviews, checkins, employees, explanations

WAITING_EXPLANATIONS = ("open", "replied")
DECIDED_EXPLANATIONS = ("accepted", "rejected")


@dataclass
class Queue:
    """Items waiting (oldest first, at most `limit`), how many wait in all, and the latest decided ones."""

    waiting: list[dict] = field(default_factory=list)
    waiting_total: int = 0
    decided: list[dict] = field(default_factory=list)


def _in_sites(q: sa.Select, site_ids: set[str] | None) -> sa.Select:
    # None: every site (state-wide roles); an empty set: none at all.
    return q if site_ids is None else q.where(employees.c.site_id.in_(sorted(site_ids)))


def _count(conn: sa.Connection, q: sa.Select) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(q.order_by(None).subquery())).scalar_one()


def _explanations(site_ids: set[str] | None, statuses: tuple[str, ...]) -> sa.Select:
    d = attendance_days
    q = (sa.select(explanations, employees.c.name, employees.c.site_id, d.c.status.label("day_status"),
                   d.c.late_minutes, checkins.c.distance_m)
         .join(employees, employees.c.employee_id == explanations.c.employee_id)
         .outerjoin(d, sa.and_(d.c.employee_id == explanations.c.employee_id, d.c.day == explanations.c.day))
         # An outside-fence request refers to its check-in: how far from the office area it was.
         .outerjoin(checkins, sa.and_(explanations.c.reason == "outside_fence",
                                      checkins.c.checkin_id == explanations.c.ref))
         .where(explanations.c.status.in_(statuses)))
    return _in_sites(q, site_ids)


def explanation_queue(conn: sa.Connection, site_ids: set[str] | None, *, limit: int = 200,
                      decided_limit: int = 30) -> Queue:
    """Requests waiting for the employee's reply or a decision (the oldest first), and the latest decided."""
    waiting = _explanations(site_ids, WAITING_EXPLANATIONS).order_by(explanations.c.day, explanations.c.id)
    decided = (_explanations(site_ids, DECIDED_EXPLANATIONS)
               .order_by(explanations.c.updated_at.desc(), explanations.c.id.desc()).limit(decided_limit))
    return Queue([dict(r._mapping) for r in conn.execute(waiting.limit(limit))], _count(conn, waiting),
                 [dict(r._mapping) for r in conn.execute(decided)])


def _checkins(site_ids: set[str] | None, reviewed: bool) -> sa.Select:
    r = checkin_reviews
    q = (sa.select(checkins.c.checkin_id, checkins.c.employee_id, checkins.c.event, checkins.c.event_time,
                   checkins.c.received_at, checkins.c.flags, checkins.c.distance_m, checkins.c.accuracy_m,
                   checkins.c.selfie_status, employees.c.name, employees.c.site_id, employees.c.shift_id,
                   r.c.decision, r.c.reason, r.c.reviewed_by, r.c.reviewed_at)
         .join(employees, employees.c.employee_id == checkins.c.employee_id)
         .outerjoin(r, r.c.checkin_id == checkins.c.checkin_id)
         .where(checkins.c.flags != "", r.c.checkin_id.is_not(None) if reviewed else r.c.checkin_id.is_(None)))
    return _in_sites(q, site_ids)


def _checkin_rows(conn: sa.Connection, q: sa.Select, rules: dict, tz: str) -> list[dict]:
    out = []
    for row in conn.execute(q):
        item = dict(row._mapping)
        item["flags"] = [f for f in item["flags"].split(",") if f]
        item["day"] = checkin_day(rules, item, tz)
        out.append(item)
    return out


def checkin_queue(conn: sa.Connection, site_ids: set[str] | None, tz: str, *, limit: int = 200,
                  decided_limit: int = 30) -> Queue:
    """Flagged check-ins nobody has reviewed (the oldest first), and the latest reviewed ones."""
    rules = load_rules(conn)
    waiting = _checkins(site_ids, reviewed=False).order_by(checkins.c.event_time, checkins.c.checkin_id)
    decided = (_checkins(site_ids, reviewed=True)
               .order_by(checkin_reviews.c.reviewed_at.desc(), checkins.c.checkin_id).limit(decided_limit))
    return Queue(_checkin_rows(conn, waiting.limit(limit), rules, tz), _count(conn, waiting),
                 _checkin_rows(conn, decided, rules, tz))
