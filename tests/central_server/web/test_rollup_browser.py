"""The roll-ups, the map and the kiosks in Chromium: a district officer opens their district, clicks an office in
the chart and lands on its board, then in the table; the state, the map and the fleet; screenshots at 1366x768
and the district page at phone width (360x740), which must not scroll sideways."""

import base64
from datetime import UTC, date, datetime, timedelta

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.attendance.rules.recompute import recompute_after_ingest
from central_server.devices.heartbeat import ingest_heartbeat
from hajiri_common.timefmt import utc_iso, wire_time
from hajiri_wire import Heartbeat, topics
from hajiri_wire.messages import encode_heartbeat
from tests.builders import bearer, local_wire
from tests.central_server.web.conftest import screenshot
from tests.central_server.web.world import feed, register_kiosk

pytestmark = pytest.mark.slow
TZ = "Asia/Kolkata"
MONTH = "2026-11"
DAY = "2026-11-25"
# (employee, kiosk, arrival) on each working day: emp-2 often late, emp-3 and res-2 seldom there.
PATTERN = {"emp-1": "09:52", "emp-2": "10:24", "emp-3": None, "emp-21": "09:58", "res-1": "09:45", "res-2": None}


def seed_month(world) -> None:
    """Two weeks of November through the real ingest, then the days recomputed as the worker does."""
    with world.begin() as conn:
        kiosks = {"office-1": register_kiosk(conn, "kiosk-01", "office-1"),
                  "office-2": register_kiosk(conn, "kiosk-02", "office-2"),
                  "hostel-1": register_kiosk(conn, "kiosk-03", "hostel-1")}
    site_of = {"emp-1": "office-1", "emp-2": "office-1", "emp-3": "office-1", "emp-21": "office-2",
               "res-1": "hostel-1", "res-2": "hostel-1"}
    first = date(2026, 11, 12)
    for i in range(14):
        day = first + timedelta(days=i)
        if day.weekday() == 6:
            continue
        for site, kiosk in kiosks.items():
            recs = []
            for emp, at in PATTERN.items():
                sometimes = emp in ("emp-3", "res-2") and i % 3 == 0
                if site_of[emp] != site or (at is None and not sometimes):
                    continue
                recs += [kiosk.record(emp, "IN", local_wire(day, at or "10:05")),
                         kiosk.record(emp, "OUT", local_wire(day, "17:40"))]
            if recs:
                feed(world, kiosk, *recs)
                recompute_after_ingest(world, [(r.person_id, r.wall_time) for r in recs], TZ)


def seed_checkins_and_beats(world, web_config) -> None:
    """emp-1 checks in by phone at the office and from 560 m away; three kiosks' heartbeats, one long ago."""
    img = np.random.default_rng(3).integers(0, 255, (128, 128, 3), dtype=np.uint8)
    selfie = base64.b64encode(cv2.imencode(".jpg", img)[1].tobytes()).decode()
    with world.begin() as conn:
        token = create_token(conn, Role.EMPLOYEE, "emp-1's phone", employee_id="emp-1")
    with TestClient(create_app(web_config, engine=world, start_ingest=False)) as api:
        for key, lat, lon, acc, event in (("phone:0001", 23.2052, 77.0846, 9.0, "IN"), ("phone:0002", 23.2151, 77.0853, 45.0, "OUT")):
            r = api.post("/api/v1/checkins", headers=bearer(token), json={
                "employee_id": "emp-1", "idempotency_key": key, "event": event, "lat": lat, "lon": lon,
                "accuracy_m": acc, "device_time": wire_time(datetime.now(UTC)), "selfie_jpeg_b64": selfie})
            assert r.status_code == 201, r.text
    now = datetime.now(UTC).timestamp()
    for device, age, extra in (("kiosk-01", 90, {"queue_depth": 2, "cpu_temp_c": 58.0, "clock_offset_s": 0.3,
                                                 "model_versions": {"sface": "2021dec"}, "liveness_enabled": True}),
                               ("kiosk-02", 5 * 3600, {"queue_depth": 41, "oldest_unsent_age_s": 18000.0,
                                                      "last_error": "MQTT connection refused", "liveness_enabled": True}),
                               ("kiosk-03", 20, {"queue_depth": 0, "cpu_temp_c": 79.0, "liveness_enabled": False})):
        sent = now - age
        hb = Heartbeat(device_id=device, sent_at=utc_iso(sent), boot_id="b", mono_ns=10**12, uptime_s=600.0,
                       clock_synced=True, **{"queue_depth": 0, **extra})
        ingest_heartbeat(world, topics.heartbeat(device), encode_heartbeat(hb), received_unix_ms=int(sent * 1000))


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_district_officer_drills_down_from_the_chart_and_the_table(world, page_as):
    seed_month(world)
    page = page_as("do-sehore")
    assert page.url.endswith("/districts/Sehore")
    page.goto(f"/districts/Sehore?day={DAY}")
    assert "जिला शिक्षा कार्यालय, सीहोर" in page.inner_text("table.rollup")
    with page.expect_navigation():
        page.click("svg.bars a[href='/sites/office-1?day=2026-11-25']")
    assert page.url.endswith("/sites/office-1?day=2026-11-25")
    page.go_back()
    with page.expect_navigation():
        page.click("table.rollup a:has-text('कन्या छात्रावास, सीहोर')")
    assert page.url.endswith("/sites/hostel-1?day=2026-11-25")
    page.goto(f"/districts/Sehore?month={MONTH}")
    page.click("text=One day")  # the switch keeps the district, goes to the month's last day shown
    assert "day=2026-11-30" in page.url and page.locator(".switch a[aria-current='page']").inner_text() == "One day"
    page.goto(f"/districts/Sehore?month={MONTH}")
    assert page.locator("svg.trend circle").count() > 10
    screenshot(page, "district-rollup")


def test_the_state_the_map_and_the_kiosks_in_a_browser(world, web_config, page_as):
    seed_month(world)
    seed_checkins_and_beats(world, web_config)
    admin = page_as("admin")
    admin.goto(f"/state?month={MONTH}")
    assert admin.locator("svg.bars a").count() == 2
    screenshot(admin, "state-rollup")
    with admin.expect_navigation():
        admin.click("table.rollup a:has-text('Raisen')")
    assert "/districts/Raisen?month=2026-11" in admin.url
    head = page_as("head-1")
    head.goto("/sites/office-1/map")
    assert head.locator("svg.map g.spot").count() == 2 and "✗ Outside" in head.inner_text("table")
    screenshot(head, "site-map")
    it = page_as("it-1")
    it.goto("/kiosks")
    assert it.locator("tbody tr").first.inner_text().startswith("kiosk-02")  # the silent one first
    screenshot(it, "kiosks")


def test_the_district_page_at_phone_width(world, page_as):
    seed_month(world)
    page = page_as("do-sehore", viewport=(360, 740))
    page.goto(f"/districts/Sehore?day={DAY}")
    no_sideways_scroll(page)
    box = page.locator("svg.bars").bounding_box()
    assert box["width"] <= 360 and box["width"] > 300
    screenshot(page, "district-rollup-phone")
    with page.expect_navigation():
        page.click("button[lang='hi']")
    assert "जिला उपस्थिति सारांश" in page.inner_text("h1")
    no_sideways_scroll(page)
    screenshot(page, "district-rollup-phone-hi")
    page.goto("/sites/office-1/map")
    no_sideways_scroll(page)
