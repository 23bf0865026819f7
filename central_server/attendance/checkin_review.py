"""Review of flagged mobile check-ins: an office head or warden accepts or rejects one, with a short reason,
once. The decision is stored (who, when, why) and audited, and the employee's day is recomputed by its one
owner: a rejected check-in no longer counts, an accepted one counts as if its outside-fence explanation had been
accepted (a faked location, an impossible journey or a face that did not match stay out; the rules decide)."""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.attendance.rules import DEFAULT_SHIFT, day_of
from central_server.attendance.rules.recompute import recompute_days
from central_server.attendance.rules.timeline import load_rules, parse_instant
from central_server.db.schema import checkin_reviews, checkins, employees
from central_server.errors import Conflict, Invalid, NotFound
from hajiri_common.timefmt import utc_iso

MAX_REASON = 500
# What a reviewer sends -> what is stored.
DECISIONS = {"accept": "accepted", "reject": "rejected"}


class CheckinReviewError(Invalid):
    """A decision or reason that cannot be used (422); `field` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class CheckinNotFound(NotFound):
    """No such check-in."""


class AlreadyReviewed(Conflict):
    """The check-in was decided before; a decision is not changed afterwards (409)."""


@dataclass(frozen=True)
class CheckinReview:
    """A stored decision with the check-in's employee and local day."""

    checkin_id: str
    employee_id: str
    day: date
    decision: str
    reason: str
    reviewed_by: str
    reviewed_at: str

    def public(self) -> dict:
        return {"checkin_id": self.checkin_id, "employee_id": self.employee_id, "day": self.day.isoformat(),
                "decision": self.decision, "reason": self.reason, "reviewed_by": self.reviewed_by,
                "reviewed_at": self.reviewed_at}


def get_checkin(conn: sa.Connection, checkin_id: str) -> dict:
    """The check-in row with its employee's site and shift (CheckinNotFound when there is none)."""
    row = conn.execute(sa.select(checkins, employees.c.site_id, employees.c.shift_id)
                       .join(employees, employees.c.employee_id == checkins.c.employee_id)
                       .where(checkins.c.checkin_id == checkin_id)).first()
    if row is None:
        raise CheckinNotFound(f"check-in {checkin_id!r} does not exist")
    return dict(row._mapping)


def checkin_day(rules: dict, checkin: dict, tz: str) -> date:
    """The local working day a check-in belongs to, by its employee's shift (an overnight shift's morning OUT
    belongs to the evening before). rules: timeline.load_rules."""
    rule = rules.get(checkin["shift_id"], DEFAULT_SHIFT)
    return day_of(rule, parse_instant(checkin["event_time"]), tz)


def check_decision(decision: object, reason: object) -> tuple[str, str]:
    """(stored decision, stripped reason), or CheckinReviewError naming the field."""
    if decision not in DECISIONS:
        raise CheckinReviewError("decision", f"{decision!r} is not one of {', '.join(DECISIONS)}")
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise CheckinReviewError("reason", "give a short reason for the decision")
    if len(text) > MAX_REASON:
        raise CheckinReviewError("reason", f"at most {MAX_REASON} characters")
    return DECISIONS[decision], text


def review_checkin(conn: sa.Connection, checkin_id: str, decision: str, reason: str, actor: str, now: datetime,
                   *, tz: str) -> CheckinReview:
    """Store the decision ('accept' or 'reject') with its reason, audit it and recompute the check-in's day.
    The caller has checked that `actor` may see the check-in's employee."""
    stored, text = check_decision(decision, reason)
    checkin = get_checkin(conn, checkin_id)
    stamp = utc_iso(now.timestamp())
    try:
        with conn.begin_nested():
            conn.execute(sa.insert(checkin_reviews).values(checkin_id=checkin_id, decision=stored, reason=text,
                                                           reviewed_by=actor, reviewed_at=stamp))
    except sa.exc.IntegrityError as e:
        raise AlreadyReviewed(f"check-in {checkin_id} was already reviewed") from e
    day = checkin_day(load_rules(conn), checkin, tz)
    write_audit(conn, actor, f"checkin.{stored}", checkin["employee_id"],
                f"id={checkin_id} {day.isoformat()} {checkin['event']} flags={checkin['flags']} reason={text!r}")
    # The decision is an input of the day: its one owner recomputes it.
    recompute_days(conn, checkin["employee_id"], [day], tz, now=now)
    return CheckinReview(checkin_id, checkin["employee_id"], day, stored, text, actor, stamp)


def get_review(conn: sa.Connection, checkin_id: str) -> dict | None:
    row = conn.execute(sa.select(checkin_reviews).where(checkin_reviews.c.checkin_id == checkin_id)).first()
    return None if row is None else dict(row._mapping)
