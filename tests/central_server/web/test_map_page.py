"""/sites/{site_id}/map: who may see which site's map; check-ins posted through the real API appear on the SVG
where they were taken (inside ✓, outside ✗ with its accuracy ring) and in the table with their distance; a GET
writes nothing."""

import base64
import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
import sqlalchemy as sa

from central_server.access.tokens import Role, create_token
from central_server.db.schema import metadata
from central_server.org.geofence import EARTH_RADIUS_M
from hajiri_common.timefmt import wire_time
from tests.builders import bearer
from tests.central_server.web.world import sign_in

NS = "{http://www.w3.org/2000/svg}"
SITE_LAT, SITE_LON = 23.205, 77.085  # office-1's reference point, in the middle of its fence


def selfie() -> str:
    """A JPEG of noise: no face, so the check-in is stored flagged no_face / no_templates (nothing to match)."""
    img = np.random.default_rng(7).integers(0, 255, (128, 128, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return base64.b64encode(buf.tobytes()).decode()


def check_in(client, token: str, key: str, lat: float, lon: float, accuracy: float, event: str = "IN") -> dict:
    r = client.post("/api/v1/checkins", headers=bearer(token), json={
        "employee_id": "emp-1", "idempotency_key": key, "event": event, "lat": lat, "lon": lon,
        "accuracy_m": accuracy, "device_time": wire_time(datetime.now(UTC)), "selfie_jpeg_b64": selfie()})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def checked_in(client, world) -> list[dict]:
    """emp-1 checks in at the office, then ~556 m north of its fence (23.210 N is the fence's edge)."""
    with world.begin() as conn:
        token = create_token(conn, Role.EMPLOYEE, "emp-1's phone", employee_id="emp-1")
    return [check_in(client, token, "phone-1:0001", SITE_LAT, SITE_LON, 12.0),
            check_in(client, token, "phone-1:0002", 23.215, 77.085, 40.0, "OUT")]


def the_map(html: str) -> ET.Element:
    (svg,) = re.findall(r"<svg\b.*?</svg>", html, re.S)
    return ET.fromstring(svg)


def test_who_may_open_which_map(client, world):
    expected = {"head-1": {"/sites/office-1/map": 200, "/sites/office-2/map": 403},
                "do-sehore": {"/sites/office-1/map": 200, "/sites/hostel-1/map": 200, "/sites/office-2/map": 403},
                "admin": {"/sites/office-2/map": 200, "/sites/nowhere/map": 404},
                "emp-1": {"/sites/office-1/map": 403}, "it-1": {"/sites/office-1/map": 403},
                "warden-1": {"/sites/hostel-1/map": 403}}
    for username, pages in expected.items():
        client.cookies.clear()
        sign_in(client, username)
        for url, code in pages.items():
            r = client.get(url)
            assert r.status_code == code, (username, url, r.status_code)
            if code == 403:
                assert "campus" not in r.text


def test_checkins_are_drawn_where_they_were_taken_and_listed(client, checked_in):
    inside, outside = checked_in
    assert "outside_fence" in outside["flags"] and "outside_fence" not in inside["flags"]
    sign_in(client, "head-1")
    r = client.get("/sites/office-1/map")
    assert r.status_code == 200
    svg = the_map(r.text)
    assert svg.get("role") == "img" and "जिला शिक्षा कार्यालय, सीहोर" in svg.get("aria-label")
    assert "campus" in {t.text for t in svg.iter(f"{NS}text")}  # the fence, named
    spots = {g.get("class"): g for g in svg.iter(f"{NS}g") if (g.get("class") or "").startswith("spot")}
    ok, out = spots["spot inside"], spots["spot outside"]
    dot = {name: [c for c in g.iter(f"{NS}circle") if c.get("r") == "8"][0] for name, g in spots.items()}
    assert {t.text for t in ok.iter(f"{NS}text")} >= {"✓", "1"} and {t.text for t in out.iter(f"{NS}text")} >= {"✗", "2"}
    # North is up: the check-in 1.1 km north of the office is drawn above it, at the same x.
    x_in, y_in = float(dot["spot inside"].get("cx")), float(dot["spot inside"].get("cy"))
    x_out, y_out = float(dot["spot outside"].get("cx")), float(dot["spot outside"].get("cy"))
    assert x_out == pytest.approx(x_in, abs=0.2) and y_out < y_in
    # The dashed ring is the 40 m accuracy at the map's scale (metres between the two points known).
    metres = math.radians(23.215 - SITE_LAT) * EARTH_RADIUS_M
    ring = [c for c in out.iter(f"{NS}circle") if c.get("stroke-dasharray")][0]
    assert float(ring.get("r")) == pytest.approx(max(9.0, 40.0 * (y_in - y_out) / metres), abs=0.3)
    assert any(re.fullmatch(r"\d+ m|\d+(\.\d)? km", t.text or "") for t in svg.iter(f"{NS}text"))  # scale bar
    # The table: number, name, time, IN/OUT, where, distance, accuracy, flags.
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", r.text.split("<tbody>")[1], re.S)
    cells = [[re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
             for row in rows]
    assert cells[0][:7] == ["1", "सुनीता वर्मा", cells[0][2], "IN", "✓ Inside", "0", "12"]
    assert cells[1][:4] == ["2", "सुनीता वर्मा", cells[1][2], "OUT"] and cells[1][4] == "✗ Outside"
    assert int(cells[1][5].replace(",", "")) == pytest.approx(556, abs=3) and cells[1][6] == "40"
    assert "outside office area" in cells[1][7] and "no face in selfie" in cells[1][7]


def test_a_day_without_checkins_shows_the_fence_and_says_so(client, world):
    sign_in(client, "do-sehore")
    r = client.get("/sites/office-1/map", params={"day": "2026-11-25"})
    assert r.status_code == 200 and "Nobody checked in from a phone on this day." in r.text
    svg = the_map(r.text)
    assert not [g for g in svg.iter(f"{NS}g") if (g.get("class") or "").startswith("spot")]
    assert client.get("/sites/office-1/map", params={"day": "2099-01-01"}).status_code == 422
    assert client.get("/sites/office-1/map", params={"day": "25-11-2026"}).status_code == 422
    hostel = client.get("/sites/hostel-1/map")  # no fence, no check-in: centred on its own point
    assert hostel.status_code == 200 and "Office location" in hostel.text


def test_a_get_writes_nothing(client, checked_in, world):
    sign_in(client, "admin")

    def counts() -> dict[str, int]:
        with world.connect() as conn:
            return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                    for t in metadata.sorted_tables}

    before = counts()
    for url in ("/sites/office-1/map", "/sites/office-1/map?day=2026-11-25", "/sites/hostel-1/map"):
        assert client.get(url).status_code == 200
    assert counts() == before
