"""The employee page /employees/{id}: who may open whose, the month calendar and totals, a day's timeline, the
explanation threads and the reply form (CSRF, bounded text kept when refused), leave and tours; a GET stores
nothing; bad months and days are refused beside the field."""

import re

import pytest
import sqlalchemy as sa

from central_server.attendance.explanations import decide, raise_request
from central_server.db.schema import attendance_days, checkins, explanations, leaves, tours
from central_server.org.employees import add_absence
from tests.builders import DAY, local_wire
from tests.central_server.web.test_board_page import count_rows, set_clock
from tests.central_server.web.world import HINDI_NAME, feed, register_kiosk, sign_in

MONTH = DAY[:7]


@pytest.fixture
def month_of_emp_1(client, world):
    """emp-1 in November 2026, today being the 25th at 12:30: on time, late, absent, on leave, on tour."""
    set_clock(client, DAY, "12:30")
    with world.begin() as conn:
        kiosk = register_kiosk(conn)
        add_absence(conn, leaves, {"employee_id": "emp-1", "from_day": "2026-11-10", "to_day": "2026-11-11",
                                   "kind": "casual", "approved": True}, actor="test")
        add_absence(conn, tours, {"employee_id": "emp-1", "from_day": "2026-11-12", "to_day": "2026-11-12",
                                  "purpose": "Block inspection, Ashta", "approved": True}, actor="test")
    feed(world, kiosk, kiosk.record("emp-1", "IN", local_wire("2026-11-02", "09:50")),
         kiosk.record("emp-1", "OUT", local_wire("2026-11-02", "17:40")),
         kiosk.record("emp-1", "IN", local_wire("2026-11-03", "10:30")),
         kiosk.record("emp-1", "OUT", local_wire("2026-11-03", "17:35")),
         kiosk.record("emp-1", "IN", local_wire(DAY, "09:58")))
    return kiosk


def cell(html: str, day: int) -> str:
    """The calendar cell of a November day (its link or its future-day text)."""
    for td in re.findall(r"<td[^>]*>.*?</td>", re.search(r'<table class="calendar">.*?</table>', html, re.S).group(0), re.S):
        if re.search(rf'<span class="num">{day}</span>', td):
            return td
    raise AssertionError(f"no cell for day {day}")


def test_an_employee_sees_only_themselves(client):
    s = sign_in(client, "emp-1")
    assert s.client.get("/employees/emp-1").status_code == 200
    r = s.client.get("/employees/emp-2")
    assert r.status_code == 403 and "Rajesh Kumar" not in r.text
    assert s.client.get("/employees/nobody").status_code == 403  # nothing says who exists


def test_who_may_open_which_employee(client):
    cases = {"head-1": {"emp-1": 200, "emp-3": 200, "emp-21": 403}, "head-2": {"emp-1": 403, "emp-21": 200},
             "do-sehore": {"emp-1": 200, "res-1": 200, "emp-21": 403}, "warden-1": {"res-1": 200, "emp-1": 403},
             "admin": {"emp-21": 200, "nobody": 404}}
    for username, wanted in cases.items():
        client.cookies.clear()
        s = sign_in(client, username)
        for employee_id, expected in wanted.items():
            r = s.client.get(f"/employees/{employee_id}")
            assert r.status_code == expected, (username, employee_id, r.status_code)
            if expected == 403 and employee_id == "emp-1":
                assert HINDI_NAME not in r.text


def test_the_month_calendar_marks_each_day_and_links_it(client, month_of_emp_1):
    s = sign_in(client, "emp-1")
    html = s.client.get("/employees/emp-1").text  # this month, today
    heads = re.findall(r'<th scope="col" abbr="[^"]+">([^<]+)</th>', html)
    assert heads == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert html.count('<td class="blank"></td>') == 6 + 6  # Nov 2026 starts on a Sunday; 30th is a Monday
    assert "st-off" in cell(html, 1)  # Sunday, weekly off
    assert "st-present" in cell(html, 2) and f'href="/employees/emp-1?month={MONTH}&amp;day=2026-11-02#day"' in cell(html, 2)
    assert "st-late" in cell(html, 3) and "st-absent" in cell(html, 4)
    assert "st-leave" in cell(html, 10) and "st-tour" in cell(html, 12)
    assert "st-present" in cell(html, 25) and 'aria-current="date"' in cell(html, 25)
    assert "future" in cell(html, 26) and "href" not in cell(html, 26)
    totals = re.search(r'<ul class="totals">.*?</ul>', html, re.S).group(0)
    figures = {label.strip(): n for n, label in re.findall(r'<span class="n">([\d.,]+)</span>\s*([^<]+)', totals)}
    assert figures["Present"] == "3" and figures["Late"] == "1" and figures["Leave"] == "2" and figures["Tour"] == "1"
    assert figures["Working days"] == "21"  # 25 days so far, 4 of them Sundays
    # Payable: present 3 (the 2nd, the 3rd late, today) + leave 2 + tour 1 + weekly offs 4.
    assert figures["Payable days"] == "10"
    assert figures["Absent"] == "15"


def test_weekday_names_and_words_in_hindi(client, month_of_emp_1):
    s = sign_in(client, "emp-1")
    s.post_form("/language", {"language": "hi", "next": "/employees/emp-1"})
    html = s.client.get("/employees/emp-1?month=2026-11&day=2026-11-03").text
    heads = re.findall(r'<th scope="col" abbr="[^"]+">([^<]+)</th>', html)
    assert heads[0] == "सोम" and heads[6] == "रवि"
    assert "30 मिनट विलंब" in html and "नवंबर 2026" in html


def test_a_days_timeline_shows_kiosk_and_mobile_events_with_fence_status(client, world, month_of_emp_1):
    with world.begin() as conn:
        conn.execute(sa.insert(checkins).values(
            checkin_id="chk-9", employee_id="emp-1", idempotency_key="k9", event="OUT", lat=23.3, lon=77.2,
            accuracy_m=15.0, device_time=local_wire("2026-11-03", "16:20"), event_time=local_wire("2026-11-03", "16:50"),
            received_at=local_wire("2026-11-03", "16:51"), geofence_id=1, distance_m=9400.0,
            flags="device_clock_skew,outside_fence", selfie_sha256="1" * 64, selfie_status="match"))
    s = sign_in(client, "head-1")
    html = s.client.get("/employees/emp-1?month=2026-11&day=2026-11-03").text
    timeline = re.search(r'<ol class="timeline">.*?</ol>', html, re.S).group(0)
    items = re.findall(r"<li class=\"([^\"]+)\">(.*?)</li>", timeline, re.S)
    assert [cls for cls, _ in items] == ["ev-in", "ev-out not-counted", "ev-out"]
    first, phone, last = (text for _, text in items)
    assert "10:30" in first and "IN" in first and "kiosk" in first and "kiosk-01" in first
    assert "16:50" in phone and "device clock 16:20" in phone and "mobile" in phone
    assert "outside office area: 9.4 km from campus" in phone and "phone clock wrong" in phone
    assert "not counted" in phone
    assert "17:35" in last
    assert "late by 30 min" in html and "st-late" in html


def _open_request(world, day="2026-11-04", reason="absent") -> int:
    with world.begin() as conn:
        raise_request(conn, "emp-1", day, reason, day)
        return conn.execute(sa.select(explanations.c.id).where(explanations.c.day == day)).scalar_one()


def test_the_employee_replies_to_an_explanation_request(client, world, month_of_emp_1):
    request_id = _open_request(world)
    head = sign_in(client, "head-1")
    html = head.client.get("/employees/emp-1").text
    assert f'id="thread-{request_id}"' in html and "explanation requested" in html
    assert "/reply" not in html  # the head reads; only the employee replies
    client.cookies.clear()
    s = sign_in(client, "emp-1")
    html = s.client.get("/employees/emp-1").text
    assert f'action="/employees/emp-1/explanations/{request_id}/reply"' in html and 'maxlength="2000"' in html
    assert "st-absent flagged" in cell(html, 4)  # a day waiting for an explanation is dashed
    r = s.post_form(f"/employees/emp-1/explanations/{request_id}/reply", {"reply": "Bus strike in Sehore"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/employees/emp-1?month=2026-11&day=2026-11-04#thread-{request_id}"
    html = s.client.get(r.headers["location"]).text
    assert "Bus strike in Sehore" in html and "replied, waiting for decision" in html
    with world.begin() as conn:
        decide(conn, request_id, True, "Strike confirmed by the collector", actor="head-1")
    html = s.client.get("/employees/emp-1").text
    thread = re.search(rf'<article class="thread" id="thread-{request_id}">.*?</article>', html, re.S).group(0)
    assert "Accepted by head-1 on" in thread and "Strike confirmed by the collector" in thread
    assert "<form" not in thread  # decided: no more replies


def test_a_reply_without_the_forms_token_is_refused(client, world, month_of_emp_1):
    request_id = _open_request(world)
    s = sign_in(client, "emp-1")
    r = s.client.post(f"/employees/emp-1/explanations/{request_id}/reply", data={"reply": "forged"})
    assert r.status_code == 403
    r = s.client.post(f"/employees/emp-1/explanations/{request_id}/reply", data={"reply": "forged", "csrf": "x" * 40})
    assert r.status_code == 403
    with world.connect() as conn:
        assert conn.execute(sa.select(explanations.c.reply).where(explanations.c.id == request_id)).scalar() is None


def test_an_over_long_or_empty_reply_is_refused_and_the_text_kept(client, world, month_of_emp_1):
    request_id = _open_request(world)
    s = sign_in(client, "emp-1")
    text = "मैं बस हड़ताल के कारण नहीं आ सका। " * 80  # about 2,700 characters
    r = s.post_form(f"/employees/emp-1/explanations/{request_id}/reply", {"reply": text})
    assert r.status_code == 422
    assert f'id="reply-error-{request_id}"' in r.text and "it may be at most 2000" in r.text
    assert text.strip() in r.text.replace("&#39;", "'")
    r = s.post_form(f"/employees/emp-1/explanations/{request_id}/reply", {"reply": "   "})
    assert r.status_code == 422 and "Write your reply before sending it." in r.text
    with world.connect() as conn:
        assert conn.execute(sa.select(explanations.c.status).where(explanations.c.id == request_id)).scalar() == "open"


def test_only_the_employee_replies_and_only_to_their_own_requests(client, world, month_of_emp_1):
    request_id = _open_request(world)
    with world.begin() as conn:
        raise_request(conn, "emp-2", "2026-11-04", "absent", "2026-11-04")
        other = conn.execute(sa.select(explanations.c.id).where(explanations.c.employee_id == "emp-2")).scalar_one()
    head = sign_in(client, "head-1")
    assert head.post_form(f"/employees/emp-1/explanations/{request_id}/reply", {"reply": "x"}).status_code == 403
    client.cookies.clear()
    s = sign_in(client, "emp-1")
    assert s.post_form(f"/employees/emp-2/explanations/{other}/reply", {"reply": "x"}).status_code == 403
    assert s.post_form(f"/employees/emp-1/explanations/{other}/reply", {"reply": "x"}).status_code == 404


def test_leave_and_tours_of_the_month_are_listed(client, month_of_emp_1):
    s = sign_in(client, "emp-1")
    html = s.client.get("/employees/emp-1?month=2026-11").text
    section = re.search(r'<section aria-labelledby="abs-h">.*?</section>', html, re.S).group(0)
    assert "Casual leave" in section and "10-11-2026" in section and "11-11-2026" in section
    assert "Block inspection, Ashta" in section and "12-11-2026" in section
    html = s.client.get("/employees/emp-1?month=2026-10").text
    assert "No leave or tour this month." in html


def test_a_get_stores_no_day_and_raises_no_explanation(client, world, month_of_emp_1):
    s = sign_in(client, "emp-1")
    before = (count_rows(world, attendance_days), count_rows(world, explanations))
    for url in ("/employees/emp-1", "/employees/emp-1?month=2026-10", "/employees/emp-1?month=2026-11&day=2026-11-04"):
        assert s.client.get(url).status_code == 200
    assert (count_rows(world, attendance_days), count_rows(world, explanations)) == before == (0, 0)


@pytest.mark.parametrize(("query", "field", "says"), [
    ({"month": "2026-13"}, "month", "Write the month as YYYY-MM"),
    ({"month": "November"}, "month", "Write the month as YYYY-MM"),
    ({"month": "2026-12"}, "month", "has not begun yet"),
    ({"month": "1999-12"}, "month", "Choose a month from 2000-01 on"),
    ({"day": "2026-11-31"}, "day", "is not a calendar date"),
    ({"day": "2026-11-26"}, "day", "is in the future"),
    ({"month": "2026-10", "day": "2026-11-03"}, "day", "is not in the month shown (2026-10)"),
])
def test_a_bad_month_or_day_is_refused_beside_the_field(client, month_of_emp_1, query, field, says):
    s = sign_in(client, "emp-1")
    r = s.client.get("/employees/emp-1", params=query)
    assert r.status_code == 422
    assert says in r.text and f'id="{field}-error"' in r.text and f'value="{query[field]}"' in r.text
    assert '<table class="calendar">' not in r.text


def test_a_day_alone_opens_its_month(client, month_of_emp_1):
    s = sign_in(client, "emp-1")
    html = s.client.get("/employees/emp-1?day=2026-10-15").text
    assert 'value="2026-10"' in html and 'aria-current="date"' in cell(html, 15)
