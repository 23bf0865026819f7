"""The presence board /sites/{site_id} and its live fragment: who may open which board, what it shows after
kiosk records and check-ins come in, that a GET stores nothing, and bad days refused beside the field."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from central_server.access.users import create_user
from central_server.db.schema import attendance_days, checkins, explanations, record_times
from central_server.org.employees import create_employee
from hajiri_common.timefmt import wire_time
from tests.builders import DAY, IST, local_wire
from tests.central_server.web.world import HINDI_NAME, feed, register_kiosk, sign_in

OFFICE_1_NAMES = ("जिला शिक्षा कार्यालय, सीहोर", HINDI_NAME, "Rajesh Kumar", "क्षितिज त्रिपाठी")


def set_clock(client, day: str, hhmm: str) -> None:
    """The app's now: a local time in India on `day` (pages read app.state.clock)."""
    ts = datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=ZoneInfo(IST)).timestamp()
    client.app.state.clock = lambda: ts


def row_of(html: str, employee_id: str) -> str:
    m = re.search(rf'<tr id="row-{re.escape(employee_id)}".*?</tr>', html, re.S)
    assert m, f"no row for {employee_id}"
    return m.group(0)


def summary_numbers(html: str) -> dict[str, int]:
    """The summary row as {label: count} (a status's label, else the words after the number)."""
    summary = re.search(r'<ul class="summary">.*?</ul>', html, re.S).group(0)
    out = {}
    for li in re.findall(r"<li[^>]*>(.*?)</li>", summary, re.S):
        n = int(re.search(r'<span class="n">([\d,]+)</span>', li).group(1).replace(",", ""))
        label = re.search(r'<span class="st-label">([^<]+)</span>', li)
        words = label.group(1) if label else re.sub(r"<[^>]+>", "", li.split("</span>", 1)[1])
        out[words.split("(")[0].strip()] = n
    return out


def count_rows(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


@pytest.fixture
def kiosk(world):
    with world.begin() as conn:
        return register_kiosk(conn)


def test_the_board_shows_each_employees_status_times_and_source(client, world, kiosk):
    set_clock(client, DAY, "12:30")
    feed(world, kiosk, kiosk.record("emp-1", "IN", local_wire(DAY, "09:55")),
         kiosk.record("emp-2", "IN", local_wire(DAY, "10:25")))
    s = sign_in(client, "head-1")
    r = s.client.get("/sites/office-1")  # today, by the app's clock
    assert r.status_code == 200
    html = r.text
    assert "जिला शिक्षा कार्यालय, सीहोर" in html and "Sehore" in html
    one, two, three = row_of(html, "emp-1"), row_of(html, "emp-2"), row_of(html, "emp-3")
    assert "st-present" in one and "09:55" in one and "kiosk" in one and 'class="in-badge"' in one
    assert 'href="/employees/emp-1"' in one
    assert "st-late" in two and "late by 25 min" in two and "10:25" in two and 'class="in-badge"' in two
    assert "st-pending" in three and "in-badge" not in three  # not yet in, the shift is not over
    numbers = summary_numbers(html)
    assert numbers["In now"] == 2 and numbers["Present"] == 1 and numbers["Late"] == 1
    assert numbers["Pending"] == 1 and numbers["Absent"] == 0 and numbers["Total"] == 3
    # The live part is wired for live.js, every 10 s by default.
    assert 'data-live="/sites/office-1/live?day=2026-11-25"' in html and 'data-live-every="10"' in html
    assert 'class="stale" id="board-stale" hidden' in html
    assert "<script>" not in html and "style=" not in html


def test_hindi_says_late_by_in_the_offices_words(client, world, kiosk):
    set_clock(client, DAY, "12:30")
    feed(world, kiosk, kiosk.record("emp-2", "IN", local_wire(DAY, "10:12")))
    s = sign_in(client, "head-1")
    s.post_form("/language", {"language": "hi", "next": "/sites/office-1"})
    html = s.client.get("/sites/office-1").text
    assert "12 मिनट विलंब" in row_of(html, "emp-2")
    assert "विलंब से" in html and "लंबित" in html  # status names from the catalog


def test_who_may_open_which_board(client):
    cases = {"head-1": {"office-1": 200, "office-2": 403, "hostel-1": 403},
             "head-2": {"office-1": 403, "office-2": 200},
             "do-sehore": {"office-1": 200, "hostel-1": 200, "office-2": 403},
             "warden-1": {"hostel-1": 200, "office-1": 403},
             "admin": {"office-1": 200, "office-2": 200, "nowhere": 404},
             "emp-1": {"office-1": 403}, "it-1": {"office-1": 403}}
    for username, sites in cases.items():
        client.cookies.clear()
        s = sign_in(client, username)
        for site, expected in sites.items():
            for url in (f"/sites/{site}", f"/sites/{site}/live"):
                r = s.client.get(url)
                assert r.status_code == expected, (username, url, r.status_code)
                if expected == 403 and site == "office-1":
                    assert not any(name in r.text for name in OFFICE_1_NAMES), (username, url)


def test_a_district_officer_cannot_probe_sites_outside_the_district(client):
    s = sign_in(client, "do-sehore")
    # An unknown site and another district's site answer alike: nothing says whether it exists.
    assert s.client.get("/sites/nowhere").status_code == 403
    assert s.client.get("/sites/office-2?day=garbage").status_code == 403


def test_the_live_fragment_changes_after_a_record_is_ingested(client, world, kiosk):
    set_clock(client, DAY, "12:30")
    s = sign_in(client, "head-1")
    before = s.client.get("/sites/office-1/live")
    assert before.status_code == 200 and "<html" not in before.text and 'class="summary"' in before.text
    assert "st-pending" in row_of(before.text, "emp-2") and "in-badge" not in row_of(before.text, "emp-2")
    feed(world, kiosk, kiosk.record("emp-2", "IN", local_wire(DAY, "10:05")))
    after = s.client.get("/sites/office-1/live")
    row = row_of(after.text, "emp-2")
    assert "st-present" in row and "10:05" in row and 'class="in-badge"' in row
    assert 'data-as-of="12:30"' in after.text


def test_a_get_stores_no_day_and_raises_no_explanation(client, world, kiosk):
    # After the shift: emp-3 is absent and emp-2 late; storing either would raise an explanation request.
    set_clock(client, DAY, "19:00")
    feed(world, kiosk, kiosk.record("emp-2", "IN", local_wire(DAY, "10:40")))
    s = sign_in(client, "head-1")
    before = (count_rows(world, attendance_days), count_rows(world, explanations))
    for url in ("/sites/office-1", f"/sites/office-1?day={DAY}", "/sites/office-1/live",
                "/sites/office-1?day=2026-11-20", "/employees/emp-3"):
        assert s.client.get(url).status_code == 200, url
    assert (count_rows(world, attendance_days), count_rows(world, explanations)) == before == (0, 0)
    html = s.client.get(f"/sites/office-1?day={DAY}").text
    assert "st-absent" in row_of(html, "emp-3") and "st-late" in row_of(html, "emp-2")
    assert 'class="in-badge"' in row_of(html, "emp-2")  # never went out
    past = s.client.get("/sites/office-1?day=2026-11-24").text
    assert "Still in at day&#39;s end" in past and "st-absent" in row_of(past, "emp-2")


@pytest.mark.parametrize(("day", "says"), [
    ("2026-13-01", "is not a calendar date"),
    ("2026-02-30", "is not a calendar date"),
    ("tomorrow", "Write the day as YYYY-MM-DD"),
    ("2026-11-26", "is in the future"),
    ("1999-12-31", "Choose a day from 2000-01-01 on"),
])
def test_a_bad_day_is_refused_beside_the_field_with_what_was_typed(client, day, says):
    set_clock(client, DAY, "12:30")
    s = sign_in(client, "head-1")
    r = s.client.get("/sites/office-1", params={"day": day})
    assert r.status_code == 422
    assert says in r.text and 'id="day-error"' in r.text and 'aria-invalid="true"' in r.text
    assert f'value="{day}"' in r.text
    assert HINDI_NAME not in r.text  # no board for a day that is not one
    assert s.client.get("/sites/office-1/live", params={"day": day}).status_code == 422


def test_the_refresh_can_be_shortened_within_bounds(client):
    s = sign_in(client, "head-1")
    for asked, every in (("2", "2"), ("1", "2"), ("999", "60"), ("soon", "10")):
        html = s.client.get("/sites/office-1", params={"refresh": asked}).text
        assert f'data-live-every="{every}"' in html, asked


def test_the_events_list_shows_corrected_kiosk_times_mobile_check_ins_and_unknown_faces(client, world, kiosk):
    set_clock(client, DAY, "12:30")
    early = kiosk.record("emp-1", "IN", local_wire(DAY, "08:10"))  # the kiosk's clock was 2 h slow
    feed(world, kiosk, early, kiosk.record(None, "UNKNOWN", local_wire(DAY, "10:01")),
         kiosk.record(None, "SPOOF", local_wire(DAY, "10:02")))
    with world.begin() as conn:
        conn.execute(sa.insert(record_times).values(
            record_id=early.record_id, device_id=kiosk.device_id, boot_id="boot-a", mono_ns=early.mono_ns,
            corrected_wall_time=local_wire(DAY, "10:08"), time_corrected=True, corrected_at=wire_time(datetime.now())))
        conn.execute(sa.insert(checkins).values(
            checkin_id="chk-1", employee_id="emp-3", idempotency_key="k1", event="IN", lat=23.3, lon=77.2,
            accuracy_m=12.0, device_time=local_wire(DAY, "10:20"), event_time=local_wire(DAY, "10:20"),
            received_at=local_wire(DAY, "10:21"), geofence_id=None, distance_m=9000.0, flags="outside_fence",
            selfie_sha256="0" * 64, selfie_status="match"))
    s = sign_in(client, "head-1")
    html = s.client.get("/sites/office-1").text
    events = re.search(r'<table class="events-table">.*?</table>', html, re.S).group(0)
    assert "10:08" in events and "device clock 08:10" in events and "kiosk clock corrected" in events
    assert "unknown face" in events and "spoof attempt" in events and "kiosk-01" in events
    check_in = re.search(r'<tr class="ev-in not-counted">.*?</tr>', events, re.S).group(0)
    assert "क्षितिज त्रिपाठी" in check_in and "mobile" in check_in and "outside office area" in check_in
    # The employee's first IN is the corrected kiosk time; the outside-area check-in does not count.
    assert "10:08" in row_of(html, "emp-1") and "st-present" in row_of(html, "emp-1")
    three = row_of(html, "emp-3")
    assert "st-pending" in three and 'class="flag"' in three and "st pending flagged" not in three
    assert "Unknown faces today: 1 · spoof attempts: 1" in html


def test_flagged_days_show_dashed_with_plain_words(client, world, kiosk):
    set_clock(client, DAY, "19:00")
    feed(world, kiosk, kiosk.record("emp-1", "IN", local_wire(DAY, "09:50")),
         kiosk.record("emp-1", "OUT", local_wire(DAY, "16:00")))
    s = sign_in(client, "head-1")
    row = row_of(s.client.get(f"/sites/office-1?day={DAY}").text, "emp-1")
    assert "flagged" in row and '<span class="flag">left early</span>' in row
    assert "16:00" in row and 'class="out-badge"' in row and "in-badge" not in row


@pytest.mark.slow
def test_a_board_of_500_employees_lists_every_one(client, world, kiosk):
    """The benchmark's case (bench.web times it): 500 employees, most in and some out today, plus a month of
    history behind; every one is on the board, in or out as fed."""
    with world.begin() as conn:
        for i in range(500):
            create_employee(conn, {"employee_id": f"big-{i:03d}", "name": f"कर्मचारी {i}", "site_id": "office-2",
                                   "shift_id": "office"}, actor="test")
        create_user(conn, "head-big", "correct horse battery", "office_head", actor="test", site_id="office-2")
        big = register_kiosk(conn, "kiosk-big", "office-2")
    history = [big.record(f"big-{i:03d}", ev, local_wire(f"2026-11-{d:02d}", hhmm))
               for d in range(2, 25) for i in range(0, 500, 5) for ev, hhmm in (("IN", "09:58"), ("OUT", "17:40"))]
    today = [big.record(f"big-{i:03d}", "IN", local_wire(DAY, f"{9 + i % 3:02d}:{i % 60:02d}")) for i in range(450)]
    today += [big.record(f"big-{i:03d}", "OUT", local_wire(DAY, "12:10")) for i in range(0, 450, 9)]
    for i in range(0, len(history + today), 200):
        feed(world, big, *(history + today)[i:i + 200])
    set_clock(client, DAY, "12:30")
    s = sign_in(client, "head-big")
    r = s.client.get("/sites/office-2")
    assert r.status_code == 200 and r.text.count('<tr id="row-big-') == 500
    assert r.text.count('class="in-badge"') == 450 - 50 and r.text.count('class="out-badge"') == 50
