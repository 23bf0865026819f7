"""Adjustments after a close (SQLite and PostgreSQL): a late record in a closed month becomes exactly one
adjustment, paid in the first open month after it; leave granted afterwards too; the office head reviews each
once; the next open month's report shows them; one day's pay agrees with the report's formula."""

import io
import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pypdf import PdfReader

from central_server.attendance.rules.recompute import recompute_days, recompute_stored
from central_server.closing.adjustments import (
    AdjustmentNotFound,
    AlreadyReviewed,
    day_payable,
    get_adjustment,
    list_adjustments,
    month_after,
    review_adjustment,
)
from central_server.closing.files import ADJUSTMENTS_TITLE, monthly_files
from central_server.closing.month_close import close_month, frozen_file, report_adjustments
from central_server.db.schema import audit_log, leaves
from central_server.org.employees import add_absence
from central_server.reports import ReportScope, build_monthly, month_period
from central_server.reports.monthly import EmployeeMonth
from hajiri_wire import DeviceKey
from tests.central_server.closing.months import LATE_DAY, NOV, NOW, OCT, TZ, late_record, seed_october

KEY = DeviceKey.generate()


def close(engine, month=OCT, now=NOW):
    with engine.begin() as conn:
        close_month(conn, "office-1", month, "head of office-1", "reviewed with the DDO", now, key=KEY, tz=TZ,
                    force=True)


def adjustments(engine) -> list[dict]:
    with engine.connect() as conn:
        return list_adjustments(conn, "office-1")


def test_a_late_record_becomes_exactly_one_adjustment_in_the_next_month(engine, registered):
    seed_october(engine, registered)
    close(engine)
    assert adjustments(engine) == []  # closing fills the month in and adjusts nothing
    late_record(engine, registered)
    (adj,) = adjustments(engine)
    assert (adj["employee_id"], adj["name"], adj["day"], adj["old_status"], adj["new_status"]) == \
        ("emp-2", "Bhim", LATE_DAY, "absent", "present")
    assert (adj["closed_month"], adj["applied_month"], adj["payable_delta"], adj["cause"]) == \
        (OCT, NOV, 1.0, "kiosk_record")
    assert adj["reviewed_at"] is None
    # Recomputing the same day again changes nothing, so it adjusts nothing more.
    with engine.begin() as conn:
        recompute_days(conn, "emp-2", [date(2026, 10, 7)], TZ)
    assert len(adjustments(engine)) == 1
    # A day of the open month is simply recomputed.
    late_record(engine, registered, "2026-11-03")
    assert len(adjustments(engine)) == 1
    with engine.connect() as conn:
        audit = conn.execute(sa.select(audit_log.c.detail).where(audit_log.c.action == "adjustment.create")).all()
    assert [r.detail for r in audit] == [f"{LATE_DAY} absent -> present payable +1 closed={OCT} applied={NOV} "
                                         "cause=kiosk_record"]


def test_the_adjustment_goes_to_the_first_month_not_closed(engine, registered):
    seed_october(engine, registered)
    december = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    close(engine, OCT, december)
    close(engine, NOV, december)
    late_record(engine, registered)
    assert [(a["closed_month"], a["applied_month"]) for a in adjustments(engine)] == [(OCT, "2026-12")]
    assert (month_after("2026-12"), month_after("2027-01")) == ("2027-01", "2027-02")


def test_leave_granted_after_the_close_is_an_adjustment(engine, registered):
    seed_october(engine, registered)
    close(engine)
    with engine.begin() as conn:
        add_absence(conn, leaves, {"employee_id": "emp-2", "from_day": "2026-10-12", "to_day": "2026-10-13",
                                   "approved": True, "kind": "medical"}, actor="head")
        assert recompute_stored(conn, "2026-10-12", "2026-10-13", TZ, employee_id="emp-2") == 2
    assert [(a["day"], a["old_status"], a["new_status"], a["payable_delta"], a["cause"]) for a in adjustments(engine)] \
        == [(d, "absent", "on_leave", 1.0, "leave_tour_or_holiday") for d in ("2026-10-12", "2026-10-13")]


def test_the_office_head_reviews_an_adjustment_once(engine, registered):
    seed_october(engine, registered)
    close(engine)
    late_record(engine, registered)
    (adj,) = adjustments(engine)
    with engine.begin() as conn:
        done = review_adjustment(conn, adj["id"], "seen the kiosk log", actor="head of office-1")
    assert (done["reviewed_by"], done["review_note"]) == ("head of office-1", "seen the kiosk log")
    assert done["reviewed_at"] is not None
    with engine.begin() as conn, pytest.raises(AlreadyReviewed) as again:
        review_adjustment(conn, adj["id"], "twice", actor="someone")
    assert again.value.status_code == 409
    with engine.connect() as conn:
        assert get_adjustment(conn, adj["id"])["review_note"] == "seen the kiosk log"
        assert conn.execute(sa.select(audit_log.c.actor).where(
            audit_log.c.action == "adjustment.review")).scalars().all() == ["head of office-1"]
        with pytest.raises(AdjustmentNotFound):
            get_adjustment(conn, adj["id"] + 100)


def test_the_next_open_month_shows_the_adjustments_and_its_close_freezes_them(engine, registered):
    seed_october(engine, registered)
    close(engine)
    late_record(engine, registered)
    december = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    scope = ReportScope(site_id="office-1", site_ids=frozenset({"office-1"}))
    with engine.begin() as conn:
        report = build_monthly(conn, month_period(NOV, december.date()), scope, TZ, now=december)
        adj = report_adjustments(conn, scope, NOV)
        assert report_adjustments(conn, ReportScope(site_id="office-2"), NOV) == []
        assert report_adjustments(conn, ReportScope(employee_id="emp-1"), NOV) == []
    files = monthly_files(report, adj)
    sheet = load_workbook(io.BytesIO(files["xlsx"]), read_only=True)[ADJUSTMENTS_TITLE]
    rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:8] == ("site_id", "employee_id", "name", "day", "closed_month", "old_status", "new_status",
                           "payable_delta")
    assert rows[1][:8] == ("office-1", "emp-2", "Bhim", LATE_DAY, OCT, "absent", "present", 1)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(files["pdf"])).pages)
    assert ADJUSTMENTS_TITLE in text and LATE_DAY in text
    # November's own table is unchanged: the adjustment is beside it, not folded into its payable days.
    assert monthly_files(report)["csv"] == files["csv"]
    # Closing November freezes the adjustment paid in it.
    close(engine, NOV, december)
    with engine.connect() as conn:
        frozen = frozen_file(conn, "office-1", NOV, "xlsx").content
        sig = json.loads(frozen_file(conn, "office-1", NOV, "xlsx.sig").content)
    assert ADJUSTMENTS_TITLE in load_workbook(io.BytesIO(frozen), read_only=True).sheetnames
    assert sig["format"] == "xlsx"


@pytest.mark.parametrize("status, flags", [
    ("present", ""), ("late", ""), ("half_day", ""), ("half_day", "half_day_leave"), ("on_leave", ""),
    ("on_leave", "half_day_leave_other_half_absent"), ("on_tour", ""), ("holiday", "worked_on_day_off"),
    ("weekly_off", ""), ("absent", "too_short"), ("pending", ""), ("not_employed", ""), ("not_live", "")])
def test_one_days_pay_is_the_reports_formula(status, flags):
    counts = {"present": 0, "late": 0, "half_day": 0, "half_day_leave": 0, "on_leave": 0, "on_tour": 0,
              "holiday": 0, "weekly_off": 0, "absent": 0, "pending": 0, "not_employed": 0, "not_live": 0}
    counts[status] = 1
    if "half_day_leave" in flags.split(","):
        counts["half_day_leave"] = 1
    month = EmployeeMonth("e", "E", "s", "S", None, days=1, recorded=1, **counts)
    assert day_payable(status, flags) == month.payable_days
    assert day_payable(None) == 0

