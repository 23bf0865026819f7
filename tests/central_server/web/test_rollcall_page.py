"""The warden's roll-call /rollcall/{site_id}: who may open which hostel's, who is not back by the curfew
(first, with when they went out and how long ago), who is in, live updates, a site without a curfew."""

import re

import pytest

from central_server.db.schema import attendance_days, explanations
from tests.builders import DAY, local_wire
from tests.central_server.web.test_board_page import count_rows, set_clock
from tests.central_server.web.world import feed, register_kiosk, sign_in


@pytest.fixture
def gate(world):
    """The hostel's kiosk; पूजा सिंह went out at 17:05, Kavita Rao went out at 16:00 and came back at 19:40."""
    with world.begin() as conn:
        kiosk = register_kiosk(conn, "kiosk-h1", "hostel-1")
    feed(world, kiosk, kiosk.record("res-2", "OUT", local_wire(DAY, "16:00")),
         kiosk.record("res-1", "OUT", local_wire(DAY, "17:05")),
         kiosk.record("res-2", "IN", local_wire(DAY, "19:40")))
    return kiosk


def section(html: str, heading_id: str) -> str:
    m = re.search(rf'<ul class="people [^"]+" aria-labelledby="{heading_id}">.*?</ul>', html, re.S)
    return m.group(0) if m else ""


def test_after_curfew_those_not_back_come_first_with_how_long(client, gate):
    set_clock(client, DAY, "20:30")
    s = sign_in(client, "warden-1")
    r = s.client.get("/rollcall/hostel-1")
    assert r.status_code == 200
    html = r.text
    assert "Curfew <strong>20:00</strong>" in html and "passed" in html
    not_back, back = section(html, "not-back-h"), section(html, "in-h")
    assert "पूजा सिंह" in not_back and "went out at 17:05" in not_back and "away 3 h 25 min" in not_back
    assert "Kavita Rao" in back and "in since 19:40" in back and "back after curfew" not in back
    assert html.index("Not back by curfew</h2>") < html.index('<h2 id="in-h">')
    assert 'data-live="/rollcall/hostel-1/live?day=2026-11-25"' in html and 'data-live-every="15"' in html


def test_before_curfew_it_says_who_is_out_and_how_long_until_curfew(client, gate):
    set_clock(client, DAY, "19:00")
    s = sign_in(client, "warden-1")
    html = s.client.get("/rollcall/hostel-1").text
    assert "in 1 h 0 min" in html and "Out now" in html
    out = section(html, "not-back-h")
    assert "पूजा सिंह" in out and "Kavita Rao" in out  # she is not back yet at 19:00
    assert out.index("Kavita Rao") < out.index("पूजा सिंह")  # longest away first


def test_the_live_list_moves_a_resident_who_comes_back(client, world, gate):
    set_clock(client, DAY, "20:30")
    s = sign_in(client, "warden-1")
    before = s.client.get("/rollcall/hostel-1/live")
    assert before.status_code == 200 and "<html" not in before.text
    assert "पूजा सिंह" in section(before.text, "not-back-h")
    feed(world, gate, gate.record("res-1", "IN", local_wire(DAY, "20:40")))
    set_clock(client, DAY, "20:45")
    after = s.client.get("/rollcall/hostel-1/live").text
    assert "पूजा सिंह" in section(after, "in-h") and "back after curfew" in section(after, "in-h")
    assert "Everyone is back." in after and 'data-as-of="20:45"' in after


def test_who_may_open_which_roll_call(client):
    cases = {"warden-1": {"hostel-1": 200, "office-1": 403, "office-2": 403},
             "do-sehore": {"hostel-1": 200, "office-2": 403}, "admin": {"hostel-1": 200, "nowhere": 404},
             "head-1": {"hostel-1": 403, "office-1": 403}, "emp-1": {"office-1": 403}}
    for username, sites in cases.items():
        client.cookies.clear()
        s = sign_in(client, username)
        for site, expected in sites.items():
            for url in (f"/rollcall/{site}", f"/rollcall/{site}/live"):
                r = s.client.get(url)
                assert r.status_code == expected, (username, url, r.status_code)
                if expected == 403:
                    assert "पूजा सिंह" not in r.text and "Kavita Rao" not in r.text


def test_a_site_without_a_curfew_says_so(client):
    s = sign_in(client, "admin")
    r = s.client.get("/rollcall/office-1")
    assert r.status_code == 200 and "No curfew is set for this site" in r.text
    assert "data-live=" not in r.text and 'href="/sites/office-1"' in r.text


def test_a_bad_day_is_refused_and_a_get_stores_nothing(client, gate):
    set_clock(client, DAY, "21:00")
    s = sign_in(client, "warden-1")
    r = s.client.get("/rollcall/hostel-1?day=25-11-2026")
    assert r.status_code == 422 and "Write the day as YYYY-MM-DD" in r.text and 'value="25-11-2026"' in r.text
    assert s.client.get("/rollcall/hostel-1/live?day=2026-11-26").status_code == 422
    before = (count_rows(gate_engine := client.app.state.engine, attendance_days), count_rows(gate_engine, explanations))
    assert s.client.get("/rollcall/hostel-1?day=2026-11-24").status_code == 200
    assert (count_rows(gate_engine, attendance_days), count_rows(gate_engine, explanations)) == before
