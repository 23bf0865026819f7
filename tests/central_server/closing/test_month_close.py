"""Closing a month (SQLite and PostgreSQL): the files are frozen and signed, a later record changes the days but
not the frozen bytes, a tampered byte fails the check, and a month closes once, only when over, with a reason;
open exceptions need force and the stored reason says so."""

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from central_server.attendance.explanations import raise_request
from central_server.closing.files import monthly_files
from central_server.closing.month_close import (
    AlreadyClosed,
    CloseInputError,
    MonthNotOver,
    OpenExceptions,
    close_month,
    frozen_file,
    month_exceptions,
    month_status,
)
from central_server.closing.signing import check_signature_file, verify_signature_file
from central_server.db.schema import (
    attendance_days,
    audit_log,
    checkin_reviews,
    checkins,
    explanations,
    metadata,
    month_close_files,
)
from central_server.errors import Conflict, Invalid, NotFound
from central_server.reports import ReportScope, build_monthly, month_period
from hajiri_wire import DeviceKey
from tests.builders import local_wire
from tests.central_server.closing.months import NOV, NOW, OCT, TZ, late_record, seed_october

KEY = DeviceKey.generate()


def close(engine, month=OCT, reason="October reviewed with the section officer", now=NOW, force=True, **kw):
    with engine.begin() as conn:
        return close_month(conn, "office-1", month, "head of office-1", reason, now, key=KEY, tz=TZ, force=force,
                           **kw)


def frozen(engine, fmt: str, month=OCT):
    with engine.connect() as conn:
        return frozen_file(conn, "office-1", month, fmt)


def test_closing_freezes_the_files_and_a_later_record_does_not_change_them(engine, registered):
    seed_october(engine, registered)
    status = close(engine)
    assert status["closed"] and status["closed_by"] == "head of office-1"
    assert [f["format"] for f in status["files"]] == ["csv", "xlsx", "pdf"]
    files = {fmt: frozen(engine, fmt) for fmt in ("csv", "xlsx", "pdf")}
    assert {fmt: f.sha256 for fmt, f in files.items()} == {f["format"]: f["sha256"] for f in status["files"]}
    rows = files["csv"].content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("district,site_id,office,employee_id") and len(rows) == 3
    assert zipfile.ZipFile(io.BytesIO(files["xlsx"].content)).testzip() is None
    assert files["pdf"].content.startswith(b"%PDF")

    # The kiosk that saw emp-2 on 7 October syncs in November: the day changes, the frozen files do not.
    assert late_record(engine, registered) == 1
    with engine.connect() as conn:
        day = conn.execute(sa.select(attendance_days.c.status).where(
            attendance_days.c.employee_id == "emp-2", attendance_days.c.day == "2026-10-07")).scalar_one()
        live = monthly_files(build_monthly(conn, month_period(OCT, NOW.date()), ReportScope(
            site_id="office-1", site_ids=frozenset({"office-1"})), TZ, now=NOW, fill=False))
    assert day == "present"
    assert live["csv"] != files["csv"].content  # today's report would pay emp-2 one more day
    for fmt, before in files.items():
        after = frozen(engine, fmt)
        assert after.content == before.content and after.closed_at == status["closed_at"]
        sig = json.loads(frozen(engine, fmt + ".sig").content)
        assert verify_signature_file(after.content, sig, KEY.public_b64)
        assert (sig["site_id"], sig["month"], sig["format"], sig["algorithm"]) == ("office-1", OCT, fmt, "ed25519")
        assert sig["closed_at"] == status["closed_at"] and sig["closed_by"] == "head of office-1"


def test_one_changed_byte_or_field_fails_the_check(engine, registered):
    seed_october(engine, registered)
    close(engine)
    content = frozen(engine, "pdf").content
    sig = json.loads(frozen(engine, "pdf.sig").content)
    assert check_signature_file(content, sig) is None
    tampered = bytearray(content)
    tampered[len(tampered) // 2] ^= 0x01
    assert "was changed" in check_signature_file(bytes(tampered), sig)
    assert not verify_signature_file(bytes(tampered), sig)
    # The hash and what the file claims to be are signed together: relabelling it as November fails too.
    assert "does not verify" in check_signature_file(content, {**sig, "month": NOV})
    assert "not by the trusted key" in check_signature_file(content, sig, DeviceKey.generate().public_b64)
    other = DeviceKey.generate()
    assert "does not name public_key" in check_signature_file(content, {**sig, "public_key": other.public_b64})
    assert "fields are wrong" in check_signature_file(content, {k: v for k, v in sig.items() if k != "closed_by"})
    assert "not a JSON object" in check_signature_file(content, [sig])


def test_a_month_closes_once_and_only_once_it_is_over(engine, registered):
    seed_october(engine, registered)
    with pytest.raises(MonthNotOver, match="2026-11 is not over yet"):
        close(engine, NOV)
    with pytest.raises(MonthNotOver):
        close(engine, "2027-01")
    close(engine)
    with pytest.raises(AlreadyClosed, match="closed by head of office-1") as second:
        close(engine)
    assert isinstance(second.value, Conflict) and second.value.status_code == 409
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(month_close_files)).scalar_one() == 6
        actions = [r.action for r in conn.execute(sa.select(audit_log).where(audit_log.c.target == "office-1"))]
    assert actions.count("month.close") == 1
    # December 2026 is over by the middle of January.
    assert close(engine, "2026-12", now=datetime(2027, 1, 15, 6, 0, tzinfo=UTC))["closed"]


@pytest.mark.parametrize("reason", ["", "   ", "ok", "x" * 501, None])
def test_a_close_needs_a_reason_of_5_to_500_characters(engine, registered, reason):
    seed_october(engine, registered)
    with pytest.raises(CloseInputError, match="reason") as refused:
        close(engine, reason=reason)
    assert isinstance(refused.value, Invalid) and refused.value.status_code == 422


def test_bad_months_and_unknown_sites(engine, registered):
    seed_october(engine, registered)
    for month in ("2026-13", "2026-1", "October", "2026-10-01"):
        with pytest.raises(CloseInputError, match="month"):
            close(engine, month)
    with engine.begin() as conn, pytest.raises(NotFound):
        close_month(conn, "office-9", OCT, "admin", "reviewed by the DDO", NOW, key=KEY, tz=TZ)


def count_rows(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables}


def test_open_exceptions_need_force_and_the_stored_reason_says_so(engine, registered):
    seed_october(engine, registered)
    with engine.begin() as conn:
        # A report download fills the month in: emp-2's absences and emp-1's from the 5th raise requests.
        build_monthly(conn, month_period(OCT, NOW.date()), ReportScope(site_id="office-1"), TZ, now=NOW)
        raise_request(conn, "emp-1", "2026-10-20", "outside_fence", "checkin-that-was-outside")
        conn.execute(sa.update(attendance_days).where(attendance_days.c.employee_id == "emp-1",
                                                      attendance_days.c.day == "2026-10-31").values(status="pending"))
        conn.execute(sa.delete(attendance_days).where(attendance_days.c.employee_id == "emp-2",
                                                      attendance_days.c.day.in_(("2026-10-30", "2026-10-31"))))
    before = count_rows(engine)
    with engine.connect() as conn:
        exceptions = month_exceptions(conn, "office-1", OCT, tz=TZ)
    assert count_rows(engine) == before  # the review reads only
    absent_requests = exceptions["explanations_pending"]
    assert absent_requests["count"] > 20 and {i["reason"] for i in absent_requests["items"]} == {"absent"}
    assert exceptions["days_pending"] == {"count": 1, "items": [{"employee_id": "emp-1", "name": "Asha",
                                                                "day": "2026-10-31"}]}
    assert exceptions["days_not_computed"] == {"count": 2, "items": [{"employee_id": "emp-2", "name": "Bhim",
                                                                     "days": 2}]}
    assert exceptions["open"] == absent_requests["count"] + 3 + exceptions["checkins_unreviewed"]["count"]

    with pytest.raises(OpenExceptions, match="open exception") as refused:
        close(engine, force=False)
    assert refused.value.status_code == 409
    with engine.connect() as conn:
        assert not month_status(conn, "office-1", OCT, tz=TZ)["closed"]
    status = close(engine, force=True, reason="Salary bill is due; the absences are on leave papers")
    assert status["reason"].startswith(f"[closed with {exceptions['open']} open exception(s): ")
    assert status["reason"].endswith("] Salary bill is due; the absences are on leave papers")
    with engine.connect() as conn:
        audit = conn.execute(sa.select(audit_log.c.detail).where(audit_log.c.action == "month.close")).scalar_one()
    detail = json.loads(audit)
    assert detail["forced"] and detail["open_exceptions"]["days_not_computed"] == 2
    assert set(detail["files"]) == {"csv", "xlsx", "pdf"}


def test_a_month_without_exceptions_closes_without_force(engine, registered):
    seed_october(engine, registered)
    with engine.begin() as conn:
        build_monthly(conn, month_period(OCT, NOW.date()), ReportScope(site_id="office-1"), TZ, now=NOW)
        # The office head decided every request (here: by hand) before closing.
        conn.execute(sa.update(explanations).values(status="rejected", decided_by="head"))
    with engine.connect() as conn:
        assert month_exceptions(conn, "office-1", OCT, tz=TZ)["open"] == 0
    status = close(engine, force=False, reason="  All explanations decided.  ")
    assert status["reason"] == "All explanations decided."


def add_checkin(conn, checkin_id: str, flags: str, day: str = "2026-10-20", hhmm: str = "10:05") -> None:
    """A stored mobile check-in (as attendance.checkins stores one) at `hhmm` local time on `day`."""
    at = local_wire(day, hhmm)
    conn.execute(sa.insert(checkins).values(
        checkin_id=checkin_id, employee_id="emp-1", idempotency_key=checkin_id, event="IN", lat=20.0, lon=85.0,
        accuracy_m=10.0, device_time=at, event_time=at, received_at=at, flags=flags, selfie_sha256="0" * 64,
        selfie_status="matched"))


def test_flagged_checkins_are_exceptions_until_reviewed(engine, registered):
    seed_october(engine, registered)
    with engine.begin() as conn:
        add_checkin(conn, "c-outside", "outside_fence")
        raise_request(conn, "emp-1", "2026-10-20", "outside_fence", "c-outside")
        add_checkin(conn, "c-mock", "mock_location,outside_fence")
        add_checkin(conn, "c-fine", "kiosk_clock_unsynced")  # flagged, but it counts: nothing to review
        add_checkin(conn, "c-november", "selfie_mismatch", day="2026-11-02")
        add_checkin(conn, "c-first-minute", "selfie_spoof", "2026-10-01", "00:05")  # 30 September in UTC
    with engine.connect() as conn:
        listed = month_exceptions(conn, "office-1", OCT, tz=TZ)["checkins_unreviewed"]
    assert [i["checkin_id"] for i in listed["items"]] == ["c-first-minute", "c-mock", "c-outside"]
    with engine.begin() as conn:
        conn.execute(sa.update(explanations).where(explanations.c.ref == "c-outside").values(status="accepted"))
        conn.execute(sa.insert(checkin_reviews).values(checkin_id="c-mock", decision="rejected", reason="mock GPS",
                                                       reviewed_by="head", reviewed_at=local_wire("2026-11-01", "12:00")))
    with engine.connect() as conn:
        listed = month_exceptions(conn, "office-1", OCT, tz=TZ)["checkins_unreviewed"]
    assert [i["checkin_id"] for i in listed["items"]] == ["c-first-minute"] and listed["count"] == 1
