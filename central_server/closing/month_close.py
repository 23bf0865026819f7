"""Closing a site's month: the office head (the DDO, who draws the salaries) reviews the month's exceptions and
closes it; the monthly report is then frozen (its CSV, XLSX and PDF bytes, each with its sha256 and the server's
Ed25519 signature) and every later download of that site's month serves those bytes.

Rules:
- Only a month that is over can be closed (the current or a future month: 409), once (409), with a reason of
  REASON_MIN..REASON_MAX characters (422).
- Exceptions to review first (month_exceptions): late/absent explanation requests not decided, flagged mobile
  check-ins not reviewed, days still pending, and employee-days not computed yet.
  With any open the close is refused (409) unless force=True; a forced close keeps the counts at the start of
  the stored reason ("[closed with 2 open exceptions: ...] <reason>") and in the audit log.
- The report is built as a download of that site's month builds it (the same builders, fill included), just
  before the close is stored, so its days are settled and no adjustment comes from the close itself.
- Stored in month_close_files per format: the file ("csv", "xlsx", "pdf") and the signature file served beside
  it ("csv.sig", ...), so both are served byte-identical for good, whatever key the server holds later."""

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.access.tokens import district_site_ids
from central_server.attendance.day import day_bounds
from central_server.attendance.explanations import DAY_REASONS
from central_server.attendance.rules.counting import checkin_reasons
from central_server.closing.adjustments import adjustments_paid_in
from central_server.closing.files import FORMATS, monthly_files
from central_server.closing.signing import file_sha256, sign_report_file, signature_file_bytes
from central_server.db.schema import (
    attendance_days,
    checkin_reviews,
    checkins,
    employees,
    explanations,
    month_close_files,
    month_closes,
)
from central_server.errors import Conflict, Invalid, NotFound
from central_server.org.sites import site_exists
from central_server.reports import ReportScope, build_monthly, month_period
from hajiri_common.timefmt import wire_time
from hajiri_wire import DeviceKey

REASON_MIN, REASON_MAX = 5, 500
LIST_LIMIT = 200  # items listed per kind of exception (the count is always the full one)
SIG_SUFFIX = ".sig"
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_UNDECIDED = ("open", "replied")
_PLACE_REASON = "outside_fence"  # a check-in's explanation (checkins.record_checkin raises it, ref = checkin_id)


class CloseInputError(Invalid):
    """A month or reason that cannot be used (422); the message names the field."""


class MonthCloseConflict(Conflict):
    """A close the month's state refuses (409): already closed, not over yet, or exceptions open."""


class AlreadyClosed(MonthCloseConflict):
    """The month was closed before."""


class MonthNotOver(MonthCloseConflict):
    """The current month, or one to come."""


class OpenExceptions(MonthCloseConflict):
    """Exceptions are open and force was not given."""


@dataclass(frozen=True)
class FrozenFile:
    """A closed month's file as stored: the exact bytes served, their sha256, and when the month was closed."""

    site_id: str
    month: str
    format: str
    content: bytes
    sha256: str
    closed_at: str


def parse_month(value: str) -> date:
    """YYYY-MM as the month's first day (CloseInputError naming the field otherwise)."""
    if not isinstance(value, str) or _MONTH.fullmatch(value) is None:
        raise CloseInputError(f"month: {value!r} is not a month in the form YYYY-MM (e.g. 2026-10)")
    return date(int(value[:4]), int(value[5:7]), 1)


def _month_bounds(month: str) -> tuple[date, date]:
    first = parse_month(month)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def check_reason(reason: object) -> str:
    """The reason, stripped, if it has REASON_MIN..REASON_MAX characters."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise CloseInputError(f"reason: say why the month is closed in {REASON_MIN} to {REASON_MAX} characters "
                              f"(got {len(text)})")
    return text


def _need_site(conn: sa.Connection, site_id: str) -> None:
    if not site_exists(conn, site_id):
        raise NotFound(f"site_id: {site_id!r} is not registered")


def _listed(rows: list[dict]) -> dict:
    return {"count": len(rows), "items": rows[:LIST_LIMIT]}


def month_exceptions(conn: sa.Connection, site_id: str, month: str, *, tz: str) -> dict:
    """What the office head reviews before closing a site's month (reads only): explanations_pending (late or
    absent requests open or replied), checkins_unreviewed (mobile check-ins of the month, local days in `tz`,
    with a flag that keeps them from counting, neither reviewed (checkin_reviews) nor cleared by a decided
    outside-the-fence explanation), days_pending (stored days still 'pending') and days_not_computed (per
    active employee, the days of the month with no stored day yet: closing computes them, as a report download
    does). Each is a count and the first LIST_LIMIT items; "open" is the sum of the counts."""
    first, last = _month_bounds(month)
    lo, hi = first.isoformat(), last.isoformat()
    e, x, d, c = employees, explanations, attendance_days, checkins
    requests = [dict(r._mapping) for r in conn.execute(
        sa.select(x.c.id, x.c.employee_id, e.c.name, x.c.day, x.c.reason, x.c.status)
        .select_from(x.join(e, e.c.employee_id == x.c.employee_id))
        .where(e.c.site_id == site_id, x.c.day.between(lo, hi), x.c.status.in_(_UNDECIDED),
               x.c.reason.in_(DAY_REASONS)).order_by(x.c.day, x.c.employee_id, x.c.id))]
    decided = sa.and_(x.c.ref == c.c.checkin_id, x.c.reason == _PLACE_REASON, x.c.status.in_(("accepted", "rejected")))
    start, end = day_bounds(first, tz)[0], day_bounds(last, tz)[1]
    places = [dict(r._mapping) for r in conn.execute(
        sa.select(c.c.checkin_id, c.c.employee_id, e.c.name, c.c.event, c.c.event_time, c.c.flags)
        .select_from(c.join(e, e.c.employee_id == c.c.employee_id)
                     .outerjoin(checkin_reviews, checkin_reviews.c.checkin_id == c.c.checkin_id))
        .where(e.c.site_id == site_id, c.c.event_time >= start, c.c.event_time < end, c.c.flags != "",
               checkin_reviews.c.checkin_id.is_(None), ~sa.exists().where(decided))
        .order_by(c.c.event_time, c.c.checkin_id))
        if checkin_reasons(r.flags.split(","))]
    pending = [dict(r._mapping) for r in conn.execute(
        sa.select(d.c.employee_id, e.c.name, d.c.day).select_from(d.join(e, e.c.employee_id == d.c.employee_id))
        .where(e.c.site_id == site_id, d.c.day.between(lo, hi), d.c.status == "pending")
        .order_by(d.c.day, d.c.employee_id))]
    n_days = (last - first).days + 1
    stored = (sa.select(e.c.employee_id, e.c.name, sa.func.count(d.c.day).label("stored"))
              .select_from(e.outerjoin(d, sa.and_(d.c.employee_id == e.c.employee_id, d.c.day.between(lo, hi))))
              .where(e.c.site_id == site_id, e.c.active.is_(True)).group_by(e.c.employee_id, e.c.name))
    missing = sorted(({"employee_id": r.employee_id, "name": r.name, "days": n_days - int(r.stored)}
                      for r in conn.execute(stored) if int(r.stored) < n_days), key=lambda m: m["employee_id"])
    out = {"explanations_pending": _listed(requests), "checkins_unreviewed": _listed(places),
           "days_pending": _listed(pending),
           "days_not_computed": {"count": sum(m["days"] for m in missing), "items": missing[:LIST_LIMIT]}}
    return {"open": sum(v["count"] for v in out.values()), **out}


def _summary(exceptions: dict) -> str:
    parts = [f"{exceptions[k]['count']} {label}" for k, label in (
        ("explanations_pending", "explanation request(s) not decided"),
        ("checkins_unreviewed", "flagged check-in(s) not reviewed"),
        ("days_pending", "day(s) pending"), ("days_not_computed", "day(s) not computed yet"))
        if exceptions[k]["count"]]
    return "; ".join(parts)


def closed_month(conn: sa.Connection, site_id: str, month: str) -> dict | None:
    """The month_closes row (closed_at, closed_by, reason), or None while the month is open."""
    row = conn.execute(sa.select(month_closes).where(month_closes.c.site_id == site_id,
                                                     month_closes.c.month == month)).first()
    return None if row is None else dict(row._mapping)


def month_status(conn: sa.Connection, site_id: str, month: str, *, tz: str) -> dict:
    """A site's month as the review page shows it: closed or not, who closed it, when and why, the exceptions
    open now, and the frozen files (format, sha256, bytes, key_id)."""
    parse_month(month)
    _need_site(conn, site_id)
    closed = closed_month(conn, site_id, month)
    f = month_close_files
    files = [{"format": r.format, "sha256": r.sha256, "size": r.size, "key_id": r.key_id} for r in conn.execute(
        sa.select(f.c.format, f.c.sha256, f.c.key_id, sa.func.length(f.c.content).label("size"))
        .where(f.c.site_id == site_id, f.c.month == month, f.c.format.in_(FORMATS)))]
    return {"site_id": site_id, "month": month, "closed": closed is not None,
            "closed_at": closed and closed["closed_at"], "closed_by": closed and closed["closed_by"],
            "reason": closed and closed["reason"], "exceptions": month_exceptions(conn, site_id, month, tz=tz),
            "files": sorted(files, key=lambda x: FORMATS.index(x["format"]))}


def close_month(conn: sa.Connection, site_id: str, month: str, actor: str, reason: str, now: datetime, *,
                key: DeviceKey, tz: str, force: bool = False) -> dict:
    """Close a site's month (the rules are in this module's docstring): freeze and sign its monthly report in
    every format, audit the close, and return month_status. `now` is an aware datetime; `key` the server's
    signing key (downlink.keys.load_or_create_signing_key); `tz` the offices' zone."""
    text = check_reason(reason)
    first = parse_month(month)
    _need_site(conn, site_id)
    today = now.astimezone(ZoneInfo(tz)).date()
    if (first.year, first.month) >= (today.year, today.month):
        raise MonthNotOver(f"month: {month} is not over yet (today is {today.isoformat()}); a month is closed "
                           "once it has ended")
    done = closed_month(conn, site_id, month)
    if done is not None:
        raise AlreadyClosed(f"{month} of site {site_id} was closed by {done['closed_by']} at {done['closed_at']}")
    exceptions = month_exceptions(conn, site_id, month, tz=tz)
    if exceptions["open"] and not force:
        raise OpenExceptions(f"{month} of site {site_id} has {exceptions['open']} open exception(s): "
                             f"{_summary(exceptions)}; review them, or close with force and say why in the reason")
    if exceptions["open"]:
        text = f"[closed with {exceptions['open']} open exception(s): {_summary(exceptions)}] {text}"
    # Built as a download of this site's month is, before the close is stored: filling its days now makes no
    # adjustment, and later changes to them do.
    scope = ReportScope(site_id=site_id, site_ids=frozenset({site_id}))
    report = build_monthly(conn, month_period(month, today), scope, tz, now=now)
    files = monthly_files(report, adjustments_paid_in(conn, month, [site_id]))
    closed_at = wire_time(now)
    try:
        with conn.begin_nested():  # a close racing in on another request: the first one stands
            conn.execute(sa.insert(month_closes).values(site_id=site_id, month=month, closed_at=closed_at,
                                                        closed_by=actor, reason=text))
    except sa.exc.IntegrityError as e:
        raise AlreadyClosed(f"{month} of site {site_id} was closed meanwhile") from e
    stored = []
    for fmt, content in files.items():
        sig = sign_report_file(key, content, site_id=site_id, month=month, fmt=fmt, closed_at=closed_at,
                               closed_by=actor)
        sig_bytes = signature_file_bytes(sig)
        for name, data in ((fmt, content), (fmt + SIG_SUFFIX, sig_bytes)):
            stored.append({"site_id": site_id, "month": month, "format": name, "content": data,
                           "sha256": file_sha256(data), "signature": sig["signature"], "key_id": sig["key_id"]})
    conn.execute(sa.insert(month_close_files), stored)
    write_audit(conn, actor, "month.close", site_id, json.dumps({
        "month": month, "reason": text, "forced": bool(exceptions["open"]),
        "open_exceptions": {k: v["count"] for k, v in exceptions.items() if k != "open"},
        "files": {r["format"]: r["sha256"] for r in stored if r["format"] in FORMATS}, "key_id": stored[0]["key_id"]},
        sort_keys=True))
    return month_status(conn, site_id, month, tz=tz)


def frozen_file(conn: sa.Connection, site_id: str, month: str, fmt: str) -> FrozenFile | None:
    """The frozen bytes of a closed month's report in one format (csv, xlsx, pdf; or its signature file,
    "csv.sig" ...), or None when the month is not closed."""
    f, c = month_close_files, month_closes
    row = conn.execute(sa.select(f.c.content, f.c.sha256, c.c.closed_at).select_from(
        f.join(c, sa.and_(c.c.site_id == f.c.site_id, c.c.month == f.c.month)))
        .where(f.c.site_id == site_id, f.c.month == month, f.c.format == fmt)).first()
    if row is None:
        return None
    return FrozenFile(site_id, month, fmt, bytes(row.content), row.sha256, row.closed_at)


def scope_site(scope: ReportScope) -> str | None:
    """The one office a report scope covers whole (no single employee), else None."""
    if scope.employee_id is not None:
        return None
    if scope.site_id is not None:
        return scope.site_id
    if scope.site_ids is not None and len(scope.site_ids) == 1:
        return next(iter(scope.site_ids))
    return None


def report_adjustments(conn: sa.Connection, scope: ReportScope, month: str) -> list[dict]:
    """The adjustments from closed months paid in `month` within a report's scope (its offices, district or
    employee), for the report's "Adjustments from closed months" section."""
    sites: set[str] | None = None
    for limit in ({scope.site_id} if scope.site_id is not None else None, scope.site_ids,
                  district_site_ids(conn, scope.district) if scope.district is not None else None):
        if limit is not None:
            sites = set(limit) if sites is None else sites & set(limit)
    return adjustments_paid_in(conn, month, None if sites is None else sorted(sites), scope.employee_id)
