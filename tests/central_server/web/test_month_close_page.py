"""/month-close in the app: the DDO sees the month's exceptions, closes it with a reason (force when some are
open), downloads the frozen files whose signatures verify, and reviews the adjustment a late record makes."""

import json
import re

import sqlalchemy as sa

from central_server.attendance.rules.recompute import recompute_after_ingest
from central_server.closing.signing import verify_signature_file
from central_server.db.schema import audit_log, month_closes
from tests.builders import local_wire
from tests.central_server.web.world import feed, register_kiosk, sign_in

MONTH = "2026-11"


def _close(me, **extra):
    return me.post_form("/month-close", {"site_id": "office-1", "month": MONTH,
                                         "reason": "checked with the DDO", **extra}, follow_redirects=False)


def test_closing_needs_force_while_exceptions_are_open_and_keeps_the_reason(client):
    me = sign_in(client, "head-1")
    page = client.get(f"/month-close?month={MONTH}")
    assert page.status_code == 200 and "days not computed yet" in page.text
    r = _close(me)
    assert r.status_code == 409 and "open exception" in r.text and "checked with the DDO" in r.text
    r = me.post_form("/month-close", {"site_id": "office-1", "month": MONTH, "reason": "ok", "force": "yes"})
    assert r.status_code == 422 and "reason" in r.text
    assert client.post("/month-close", data={"site_id": "office-1", "month": MONTH,
                                             "reason": "no csrf here", "force": "yes"}).status_code == 403


def test_a_closed_month_serves_signed_frozen_files_and_a_late_record_becomes_an_adjustment(client, world):
    me = sign_in(client, "head-1")
    r = _close(me, force="yes")
    assert r.status_code == 303
    page = client.get(f"/month-close?site_id=office-1&month={MONTH}").text
    assert "Closed on" in page and "head-1" in page and "checked with the DDO" in page
    for fmt in ("csv", "xlsx", "pdf"):
        content = client.get(f"/month-close/file?site_id=office-1&month={MONTH}&format={fmt}")
        sig = client.get(f"/month-close/file?site_id=office-1&month={MONTH}&format={fmt}.sig")
        assert content.status_code == sig.status_code == 200 and content.headers["x-hajiri-closed"]
        assert verify_signature_file(content.content, json.loads(sig.content))
        assert not verify_signature_file(content.content + b" ", json.loads(sig.content))
    # emp-2's kiosk synced only now: 25 November changes, the frozen files do not.
    before = client.get(f"/month-close/file?site_id=office-1&month={MONTH}&format=csv").content
    from_reports = client.get(f"/reports/download?kind=monthly&format=csv&month={MONTH}&site_id=office-1")
    assert from_reports.content == before and from_reports.headers["x-hajiri-closed"]
    with world.begin() as conn:
        kiosk = register_kiosk(conn)
    recs = [kiosk.record("emp-2", "IN", local_wire("2026-11-25", "09:55")),
            kiosk.record("emp-2", "OUT", local_wire("2026-11-25", "17:40"))]
    feed(world, kiosk, *recs)
    recompute_after_ingest(world, [(r.person_id, r.wall_time) for r in recs], "Asia/Kolkata")
    assert client.get(f"/month-close/file?site_id=office-1&month={MONTH}&format=csv").content == before
    page = client.get(f"/month-close?site_id=office-1&month={MONTH}").text
    assert "Rajesh Kumar" in page and "+1" in page and "Mark reviewed" in page
    adj_id = int(re.search(r'id="adj-(\d+)"', page).group(1))
    r = me.post_form(f"/month-close/adjustments/{adj_id}/review", {"note": "", "month": MONTH})
    assert r.status_code == 422
    r = me.post_form(f"/month-close/adjustments/{adj_id}/review", {"note": "paid in December", "month": MONTH},
                     follow_redirects=False)
    assert r.status_code == 303
    assert "paid in December" in client.get(f"/month-close?site_id=office-1&month={MONTH}").text
    with world.begin() as conn:
        actions = set(conn.execute(sa.select(audit_log.c.action)).scalars())
    assert {"month.close", "adjustment.review"} <= actions


def test_only_the_sites_own_head_closes_and_others_read_or_are_refused(client, world):
    me = sign_in(client, "head-2")
    assert _close(me, force="yes").status_code == 403
    assert client.get(f"/month-close?site_id=office-1&month={MONTH}").status_code == 403
    client.cookies.clear()
    do = sign_in(client, "do-sehore")
    page = client.get(f"/month-close?site_id=office-1&month={MONTH}")
    assert page.status_code == 200 and "Close the month" not in page.text
    assert _close(do, force="yes").status_code == 403
    assert client.get(f"/month-close?site_id=office-2&month={MONTH}").status_code == 403
    client.cookies.clear()
    sign_in(client, "emp-1")
    assert client.get("/month-close").status_code == 403
    with world.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(month_closes)).scalar_one() == 0


def test_the_current_month_cannot_be_closed_and_a_bad_month_is_a_422_page(client):
    me = sign_in(client, "head-1")
    r = me.post_form("/month-close", {"site_id": "office-1", "month": "2026-12", "reason": "too early",
                                      "force": "yes"})
    assert r.status_code == 409 and "not over" in r.text
    r = client.get("/month-close?month=2026-13")
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
