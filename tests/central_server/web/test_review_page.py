"""/review: who sees which office's queue, decisions with CSRF and a reason (422 keeps what was typed), an
accepted explanation and a rejected check-in change the day (read back through the API), every decision and
crop view audited, the spoof crop served with the session, a GET writes nothing; the old /dashboard pages
redirect."""

import re

import pytest
import sqlalchemy as sa

from central_server.access.tokens import Role, create_token
from central_server.db.schema import audit_log, metadata
from tests.builders import bearer
from tests.central_server.web.review_seed import DAY, JPEG, add_checkin, add_explanation, add_spoof
from tests.central_server.web.world import HINDI_NAME, sign_in


@pytest.fixture
def queue(world) -> dict:
    """emp-1 checked in outside the office area and explained it; emp-2's arrival was sent late (offline);
    res-1 at the hostel was late and explained it; emp-21 at office-2 was absent and explained it."""
    with world.begin() as conn:
        outside = add_checkin(conn, "emp-1", "IN", "09:55", "outside_fence", distance_m=340.0)
        add_checkin(conn, "emp-1", "OUT", "17:40")
        offline = add_checkin(conn, "emp-2", "IN", "09:50", "queued_offline")
        add_checkin(conn, "emp-2", "OUT", "17:35")
        ids = {"emp-1": add_explanation(conn, "emp-1", "outside_fence", outside),
               "res-1": add_explanation(conn, "res-1", "late", answer="बस देर से आई"),
               "emp-21": add_explanation(conn, "emp-21", "absent", answer="Fever")}
        admin = create_token(conn, Role.STATE_ADMIN, "test reader")
    return {"explanations": ids, "outside": outside, "offline": offline, "admin": admin}


def _day(client, token: str, employee_id: str) -> dict:
    r = client.get("/api/v1/days", params={"date": DAY, "employee_id": employee_id}, headers=bearer(token))
    assert r.status_code == 200, r.text
    (day,) = r.json()
    return day


def _audit(world, action: str) -> list[sa.Row]:
    with world.connect() as conn:
        return list(conn.execute(sa.select(audit_log).where(audit_log.c.action == action)))


def _row_counts(world) -> dict[str, int]:
    with world.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables}


def test_each_role_sees_only_its_offices_queue(client, queue):
    sign_in(client, "head-1")
    page = client.get("/review")
    assert page.status_code == 200
    assert HINDI_NAME in page.text and "I was at the block office for a meeting" in page.text
    assert "Meena Yadav" not in page.text and "पूजा सिंह" not in page.text
    assert f'action="/review/explanations/{queue["explanations"]["emp-1"]}/decision"' in page.text
    assert "<script>" not in page.text and "style=" not in page.text

    for username, shown, hidden in (("head-2", "Meena Yadav", HINDI_NAME), ("warden-1", "पूजा सिंह", HINDI_NAME)):
        client.cookies.clear()
        sign_in(client, username)
        page = client.get("/review").text
        assert shown in page and hidden not in page and "Rajesh Kumar" not in page, username

    client.cookies.clear()
    sign_in(client, "do-sehore")  # read-only: their district's offices, no decision forms
    page = client.get("/review").text
    assert HINDI_NAME in page and "पूजा सिंह" in page and "Meena Yadav" not in page
    assert "/decision" not in page and 'action="/review/checkins/' not in page
    assert client.get("/review", params={"site_id": "office-2"}).status_code == 403

    client.cookies.clear()
    sign_in(client, "admin")  # state-wide, with a site filter
    page = client.get("/review").text
    assert HINDI_NAME in page and "Meena Yadav" in page
    page = client.get("/review", params={"site_id": "office-2"}).text
    assert "Meena Yadav" in page and HINDI_NAME not in page

    for username in ("emp-1", "it-1"):
        client.cookies.clear()
        sign_in(client, username)
        assert client.get("/review").status_code == 403


def test_another_office_head_cannot_decide(client, queue, world):
    me = sign_in(client, "head-2")
    url = f"/review/explanations/{queue['explanations']['emp-1']}/decision"
    assert me.post_form(url, {"decision": "accept", "reason": "ok"}).status_code == 403
    assert me.post_form(f"/review/checkins/{queue['offline']}", {"decision": "reject", "reason": "no"}).status_code == 403
    assert _audit(world, "explanation.accepted") == []


def test_a_decision_needs_the_forms_token_and_a_reason(client, queue, world):
    me = sign_in(client, "head-1")
    url = f"/review/explanations/{queue['explanations']['emp-1']}/decision"
    assert client.post(url, data={"decision": "accept", "reason": "ok"}).status_code == 403  # no CSRF field
    r = me.post_form(url, {"decision": "accept", "reason": "   "})
    assert r.status_code == 422 and "Write a short reason" in r.text and 'aria-invalid="true"' in r.text
    r = me.post_form(url, {"reason": "मीटिंग में थे"})  # no button pressed
    assert r.status_code == 422 and "Choose accept or reject." in r.text
    assert re.search(r"<textarea[^>]*>मीटिंग में थे</textarea>", r.text)  # kept as typed
    r = me.post_form(f"/review/checkins/{queue['offline']}", {"decision": "reject", "reason": ""})
    assert r.status_code == 422 and "Write a short reason" in r.text
    assert _audit(world, "explanation.accepted") == [] and _audit(world, "checkin.rejected") == []


def test_an_accepted_explanation_lets_the_outside_checkin_count(client, queue, world):
    assert _day(client, queue["admin"], "emp-1")["status"] == "absent"  # its IN was outside the office area
    me = sign_in(client, "head-1")
    r = me.post_form(f"/review/explanations/{queue['explanations']['emp-1']}/decision",
                     {"decision": "accept", "reason": "Meeting at the block office, confirmed by phone"},
                     follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/review#explanations"
    assert _day(client, queue["admin"], "emp-1")["status"] == "present"
    (audit,) = _audit(world, "explanation.accepted")
    assert audit.actor == "head-1" and "confirmed by phone" in audit.detail
    page = client.get("/review").text
    decided = page.split('id="explanations-decided"')[1].split("</ul>")[0]
    assert HINDI_NAME in decided and "Meeting at the block office, confirmed by phone" in decided
    assert f'action="/review/explanations/{queue["explanations"]["emp-1"]}/decision"' not in page


def test_a_rejected_checkin_stops_counting_and_is_decided_once(client, queue, world):
    assert _day(client, queue["admin"], "emp-2")["status"] == "present"
    me = sign_in(client, "head-1")
    page = client.get("/review").text
    assert "sent late (offline)" in page and f"/employees/emp-2?day={DAY}" in page
    url = f"/review/checkins/{queue['offline']}"
    r = me.post_form(url, {"decision": "reject", "reason": "Was on leave that morning"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/review#checkins"
    assert _day(client, queue["admin"], "emp-2")["status"] == "absent"
    (audit,) = _audit(world, "checkin.rejected")
    assert audit.actor == "head-1" and "Was on leave that morning" in audit.detail
    decided = client.get("/review").text.split('id="checkins-decided"')[1].split("</ul>")[0]
    assert "Rajesh Kumar" in decided and "Was on leave that morning" in decided and "head-1" in decided
    assert me.post_form(url, {"decision": "accept", "reason": "changed my mind"}).status_code == 409


def test_flags_are_in_plain_words_with_the_distance_and_the_day(client, world):
    with world.begin() as conn:
        add_checkin(conn, "emp-3", "IN", "10:02", "impossible_travel,mock_location,outside_fence,selfie_mismatch",
                    distance_m=1250.0)
    sign_in(client, "head-1")
    page = client.get("/review").text
    for words in ("outside the office area", "location looks simulated", "face did not match",
                  "too far from the previous place for the time taken", "1,250 m from the office area"):
        assert words in page, words
    assert f'href="/employees/emp-3?day={DAY}"' in page


def test_the_page_speaks_hindi(client, queue, world):
    me = sign_in(client, "head-1")
    me.post_form("/language", {"language": "hi", "next": "/review"})
    page = client.get("/review").text
    assert "स्पष्टीकरण" in page and "ऑफ़लाइन" in page and "कारण" in page


def test_spoof_evidence_crop_and_verdict(client, world, web_config):
    record_id = add_spoof(world, web_config)
    me = sign_in(client, "head-1")
    page = client.get("/review")
    assert f'src="/review/evidence/{record_id}/image"' in page.text
    assert "Liveness is off on kiosk kiosk-01" in page.text
    image = client.get(f"/review/evidence/{record_id}/image")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg" and image.content == JPEG
    assert "img-src 'self'" in image.headers["content-security-policy"]
    r = me.post_form(f"/review/evidence/{record_id}", {"status": "false_alarm", "reason": ""})
    assert r.status_code == 422
    r = me.post_form(f"/review/evidence/{record_id}", {"status": "false_alarm", "reason": "<b>staff with a mask</b>"},
                     follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/review#evidence"
    decided = client.get("/review").text.split('id="evidence-decided"')[1].split("</ul>")[0]
    assert "False alarm" in decided and "&lt;b&gt;staff with a mask&lt;/b&gt;" in decided
    assert [a.actor for a in _audit(world, "evidence.view")] == ["head-1"]
    assert [a.actor for a in _audit(world, "evidence.review")] == ["head-1"]

    for username in ("head-2", "warden-1"):
        client.cookies.clear()
        sign_in(client, username)
        assert client.get(f"/review/evidence/{record_id}/image").status_code == 403
        assert "/review/evidence/" not in client.get("/review").text


def test_opening_the_page_writes_nothing(client, queue, world, web_config):
    add_spoof(world, web_config)
    for username in ("head-1", "admin", "do-sehore", "warden-1"):
        client.cookies.clear()
        sign_in(client, username)
        before = _row_counts(world)
        assert client.get("/review").status_code == 200
        assert _row_counts(world) == before, username


def test_the_old_dashboard_pages_redirect_and_set_no_cookie(client):
    r = client.get("/dashboard", params={"token": "s3cr3t-value", "site_id": "office-1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/" and "set-cookie" not in r.headers
    r = client.get("/dashboard/evidence", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/review#evidence"
    sign_in(client, "head-1")
    assert client.get("/dashboard").url.path == "/sites/office-1"
