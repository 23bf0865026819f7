"""/state and /districts/{district}: who may see which roll-up, the numbers against kiosk records fed for real,
the day/month switch, drill-down links, the SVG charts, and that a GET writes nothing."""

import re
import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa

from central_server.attendance.rules.recompute import recompute_after_ingest
from central_server.db.schema import metadata
from central_server.web import charts
from tests.builders import local_wire
from tests.central_server.web.world import feed, register_kiosk, sign_in

DAY = "2026-11-25"  # a Wednesday (the world's shift: 10:00-17:30, 10 min grace, Sundays off)
TZ = "Asia/Kolkata"
SVG_RE = re.compile(r"<svg\b.*?</svg>", re.S)


def feed_days(engine: sa.Engine, kiosk, *records) -> None:
    """Kiosk records through the real ingest, then their days recomputed as the ingest worker does."""
    feed(engine, kiosk, *records)
    recompute_after_ingest(engine, [(r.person_id, r.wall_time) for r in records], TZ)


@pytest.fixture
def fed(world: sa.Engine) -> sa.Engine:
    """On DAY: emp-1 on time, emp-2 late (office-1); emp-21 on time (office-2); emp-3 and the hostel: nothing."""
    with world.begin() as conn:
        k1, k2 = register_kiosk(conn, "kiosk-01", "office-1"), register_kiosk(conn, "kiosk-02", "office-2")
    feed_days(world, k1, k1.record("emp-1", "IN", local_wire(DAY, "09:55")),
              k1.record("emp-2", "IN", local_wire(DAY, "10:31")),
              k1.record("emp-1", "OUT", local_wire(DAY, "17:40")), k1.record("emp-2", "OUT", local_wire(DAY, "17:45")))
    feed_days(world, k2, k2.record("emp-21", "IN", local_wire(DAY, "09:58")),
              k2.record("emp-21", "OUT", local_wire(DAY, "17:35")))
    return world


def row_of(html: str, name: str) -> list[str]:
    """The cells of the first table row whose header cell holds `name`, as text."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        head = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        if head and name in head.group(1):
            return [re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    raise AssertionError(f"no row for {name!r}")


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(s) for s in SVG_RE.findall(html)]


def test_who_may_open_which_rollup(client, world):
    expected = {"do-sehore": {"/districts/Sehore": 200, "/districts/sehore": 200, "/districts/Raisen": 403,
                              "/state": 403},
                "admin": {"/state": 200, "/districts/Raisen": 200, "/districts/Nowhere": 404},
                "head-1": {"/state": 403, "/districts/Sehore": 403},
                "emp-1": {"/state": 403, "/districts/Sehore": 403},
                "it-1": {"/state": 403}}
    for username, pages in expected.items():
        client.cookies.clear()
        sign_in(client, username)
        for url, code in pages.items():
            r = client.get(url)
            assert r.status_code == code, (username, url, r.status_code)
            if code == 403:
                assert "Collectorate Raisen" not in r.text and "जिला शिक्षा कार्यालय" not in r.text


def test_a_district_officer_without_a_district_reads_the_state(client, world):
    # Users always name a district; an older district officer token (session) without one sees every site.
    from central_server.access.tokens import Role, create_token

    with world.begin() as conn:
        token = create_token(conn, Role.DISTRICT_OFFICER, "officer without a district", username="do-none")
    client.cookies.set("hajiri_session", token)
    assert client.get("/state").status_code == 200
    assert client.get("/districts/Raisen").status_code == 200


def test_district_day_counts_what_was_fed_furthest_behind_first(client, fed):
    sign_in(client, "do-sehore")
    r = client.get("/districts/Sehore", params={"day": DAY})
    assert r.status_code == 200
    html = r.text
    # office-1: 3 employees, emp-1 present, emp-2 late, emp-3 no entry -> 2/3; hostel-1: 2 with no entry -> 0%
    #          %      vs average (2 of 5 = 40%)  employees present late half absent leave tour no-entry
    assert row_of(html, "जिला शिक्षा कार्यालय, सीहोर") == ["66.7%", "+26.7", "3", "1", "1", "0", "0", "0", "0",
                                                           "1"]
    assert row_of(html, "कन्या छात्रावास, सीहोर") == ["0%", "−40", "2", "0", "0", "0", "0", "0", "0", "2"]
    assert html.index("कन्या छात्रावास, सीहोर") < html.index("जिला शिक्षा कार्यालय, सीहोर")  # behind first
    assert 'href="/sites/office-1?day=2026-11-25"' in html and 'href="/sites/hostel-1?day=2026-11-25"' in html
    assert "Collectorate Raisen" not in html  # another district's office never shows
    assert row_of(html, "शिक्षा विभाग") == ["40%", "±0", "2", "5", "1", "1", "0", "0", "0", "0", "3"]
    assert "<script>" not in html and "style=" not in html


def test_state_day_is_by_district_and_drills_down_to_the_district_page(client, fed):
    sign_in(client, "admin")
    html = client.get("/state", params={"day": DAY}).text
    #                       %  vs average  offices employees present late half absent leave tour no-entry
    assert row_of(html, "Sehore") == ["40%", "−10", "2", "5", "1", "1", "0", "0", "0", "0", "3"]
    assert row_of(html, "Raisen") == ["100%", "+50", "1", "1", "1", "0", "0", "0", "0", "0", "0"]
    assert html.index(">Sehore<") < html.index(">Raisen<")
    assert 'href="/districts/Sehore?day=2026-11-25"' in html
    district = client.get("/districts/Sehore", params={"day": DAY})
    assert district.status_code == 200 and 'href="/state?day=2026-11-25"' in district.text


def test_month_view_counts_working_days_late_days_and_draws_the_trend(client, fed):
    sign_in(client, "do-sehore")
    html = client.get("/districts/Sehore", params={"month": "2026-11"}).text
    # November 2026: 30 days, 5 Sundays -> 25 working days each; office-1: 75 employee-days, 2 present (1 late).
    #          avg%  (gap)  employees working present late-days half absent leave tour no-entry
    office = row_of(html, "जिला शिक्षा कार्यालय, सीहोर")
    assert office[0] == "2.7%" and office[2:] == ["3", "75", "1", "1", "0", "0", "0", "0", "73"]
    assert 'aria-current="page">Whole month' in html and 'type="month" name="month" value="2026-11"' in html
    bars, trend = svgs(html)
    assert trend.get("role") == "img" and "Daily attendance" in trend.get("aria-label")
    points = trend.findall(".//{http://www.w3.org/2000/svg}circle")
    assert len(points) == 25  # one per working day; Sundays are gaps
    tips = [p.findtext("{http://www.w3.org/2000/svg}title") for p in points]
    assert "25-11-2026: 40%" in tips and "24-11-2026: 0%" in tips


def test_the_bar_chart_is_an_svg_image_with_links_marks_and_proportional_parts(client, fed):
    sign_in(client, "do-sehore")
    html = client.get("/districts/Sehore", params={"day": DAY}).text
    (chart,) = svgs(html)
    ns = "{http://www.w3.org/2000/svg}"
    assert chart.get("role") == "img" and chart.get("aria-label") == "Attendance % by office"
    links = [a.get("href") for a in chart.iter(f"{ns}a")]
    assert links == ["/sites/hostel-1?day=2026-11-25", "/sites/office-1?day=2026-11-25"]
    office = chart.findall(f".//{ns}a")[1]
    widths = {r.get("class"): float(r.get("width")) for r in office.iter(f"{ns}rect") if r.get("class")}
    assert widths["part-present"] == pytest.approx(widths["part-late"]) == pytest.approx(widths["part-no_entry"])
    assert sum(widths.values()) == pytest.approx(charts.WIDTH, abs=0.3)  # one decimal per part
    texts = {t.text for t in chart.iter(f"{ns}text")}
    assert {"✓ P", "◔ L", "66.7%", "Present", "No entry"} <= texts  # marks and labels as text, not colour alone


def test_hindi_page_and_a_bad_day_is_said_beside_the_picker(client, fed):
    signed = sign_in(client, "do-sehore")
    signed.post_form("/language", {"language": "hi", "next": "/districts/Sehore"})
    r = client.get("/districts/Sehore", params={"day": DAY})
    assert "जिला उपस्थिति सारांश" in r.text and "उपस्थिति %" in r.text
    bad = client.get("/districts/Sehore", params={"day": "2099-01-01"})
    assert bad.status_code == 422 and 'id="pick-error"' in bad.text and "<table" not in bad.text
    assert client.get("/districts/Sehore", params={"month": "2026-13"}).status_code == 422


def test_a_get_writes_nothing(client, fed):
    sign_in(client, "admin")

    def counts() -> dict[str, int]:
        with fed.connect() as conn:
            return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                    for t in metadata.sorted_tables}

    before = counts()
    for url in ("/state", "/state?month=2026-11", "/districts/Sehore?day=2026-11-24", "/districts/Raisen?month=2026-12"):
        assert client.get(url).status_code == 200, url
    assert counts() == before
