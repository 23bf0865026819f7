"""Explanation requests: raised by the rules (late, absent) and by check-ins (outside fence); the employee
replies, the office head accepts or rejects; every step audited."""

import time

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.db.schema import audit_log, employees, explanations
from central_server.db.upsert import insert_on_conflict
from central_server.errors import Conflict, NotFound
from hajiri_common.timefmt import utc_iso

DAY_REASONS = ("late", "absent")


class ExplanationError(Conflict):
    """A reply or decision that does not fit the request's state (409)."""


class ExplanationNotFound(NotFound, ExplanationError):
    """No such explanation request."""


def raise_request(conn: sa.Connection, employee_id: str, day: str, reason: str, ref: str) -> None:
    """Open a request once: raising the same (employee, day, reason, ref) again changes nothing, and a
    request the rules withdrew earlier opens again."""
    now = utc_iso(time.time())
    new = insert_on_conflict(conn, explanations, [{
        "employee_id": employee_id, "day": day, "reason": reason, "ref": ref, "status": "open",
        "created_at": now, "updated_at": now}], ["employee_id", "day", "reason", "ref"], update=False)
    if new:
        write_audit(conn, "rules", "explanation.raise", employee_id, f"{day} {reason} ref={ref}")
    reopened = conn.execute(sa.update(explanations).where(
        explanations.c.employee_id == employee_id, explanations.c.day == day, explanations.c.reason == reason,
        explanations.c.ref == ref, explanations.c.status == "withdrawn").values(status="open", updated_at=now))
    if reopened.rowcount:
        write_audit(conn, "rules", "explanation.reopen", employee_id, f"{day} {reason}")


def sync_day_requests(conn: sa.Connection, due: dict[tuple[str, str], set[str]]) -> None:
    """Make the late/absent requests of these (employee, day)s match what is due now: raise the new ones,
    reopen withdrawn ones, and withdraw open ones that no longer apply (a late sync turned absent into
    present). Replied or decided requests are left as they are."""
    if not due:
        return
    ids = sorted({e for e, _ in due})
    days = sorted({d for _, d in due})
    existing: dict[tuple[str, str, str], str] = {}
    for i in range(0, len(ids), 500):
        q = sa.select(explanations.c.employee_id, explanations.c.day, explanations.c.reason,
                      explanations.c.status).where(
            explanations.c.employee_id.in_(ids[i:i + 500]), explanations.c.day.between(days[0], days[-1]),
            explanations.c.reason.in_(DAY_REASONS))
        existing.update({(r.employee_id, r.day, r.reason): r.status for r in conn.execute(q)})
    now = utc_iso(time.time())
    new = []
    for (employee_id, day), reasons in due.items():
        for reason in DAY_REASONS:
            state = existing.get((employee_id, day, reason))
            if reason in reasons and state is None:
                new.append({"employee_id": employee_id, "day": day, "reason": reason, "ref": day, "status": "open",
                            "created_at": now, "updated_at": now})
            elif reason in reasons and state == "withdrawn":
                raise_request(conn, employee_id, day, reason, day)
            elif reason not in reasons and state == "open":
                _withdraw(conn, employee_id, day, reason)
    # Many at once (a month recomputed for a district): one insert, one audit row per request.
    insert_on_conflict(conn, explanations, new, ["employee_id", "day", "reason", "ref"], update=False)
    if new:
        conn.execute(sa.insert(audit_log), [{"at": now, "actor": "rules", "action": "explanation.raise",
                                             "target": n["employee_id"], "detail": f"{n['day']} {n['reason']}"}
                                            for n in new])


def _withdraw(conn: sa.Connection, employee_id: str, day: str, reason: str) -> None:
    conn.execute(sa.update(explanations).where(
        explanations.c.employee_id == employee_id, explanations.c.day == day, explanations.c.reason == reason,
        explanations.c.status == "open").values(status="withdrawn", updated_at=utc_iso(time.time())))
    write_audit(conn, "rules", "explanation.withdraw", employee_id, f"{day} no longer {reason}")


def list_requests(conn: sa.Connection, *, site_id: str | None, employee_id: str | None,
                  status: str | None) -> list[dict]:
    """Explanation requests of one site's employees (or one employee), optionally in one state, oldest first."""
    q = (sa.select(explanations).join(employees, employees.c.employee_id == explanations.c.employee_id)
         .order_by(explanations.c.id))
    if site_id is not None:
        q = q.where(employees.c.site_id == site_id)
    if employee_id is not None:
        q = q.where(explanations.c.employee_id == employee_id)
    if status is not None:
        q = q.where(explanations.c.status == status)
    return [dict(r._mapping) for r in conn.execute(q)]


def get_request(conn: sa.Connection, request_id: int) -> dict:
    row = conn.execute(sa.select(explanations).where(explanations.c.id == request_id)).first()
    if row is None:
        raise ExplanationNotFound(f"explanation request {request_id} does not exist")
    return dict(row._mapping)


def reply(conn: sa.Connection, request_id: int, text: str, *, actor: str) -> dict:
    req = get_request(conn, request_id)
    if req["status"] not in ("open", "replied"):
        raise ExplanationError(f"explanation request {request_id} is {req['status']}; it takes no more replies")
    conn.execute(sa.update(explanations).where(explanations.c.id == request_id).values(
        reply=text, status="replied", updated_at=utc_iso(time.time())))
    write_audit(conn, actor, "explanation.reply", req["employee_id"], f"id={request_id} {req['day']} {req['reason']}")
    return get_request(conn, request_id)


def decide(conn: sa.Connection, request_id: int, accept: bool, note: str, *, actor: str) -> dict:
    req = get_request(conn, request_id)
    if req["status"] != "replied":
        raise ExplanationError(f"explanation request {request_id} is {req['status']}; "
                               "only a replied request can be accepted or rejected")
    status = "accepted" if accept else "rejected"
    conn.execute(sa.update(explanations).where(explanations.c.id == request_id).values(
        status=status, decided_by=actor, decision_note=note, updated_at=utc_iso(time.time())))
    write_audit(conn, actor, f"explanation.{status}", req["employee_id"],
                f"id={request_id} {req['day']} {req['reason']} note={note!r}")
    return get_request(conn, request_id)
