"""Month close in a real browser: the office head closes November with a reason, downloads the frozen PDF,
and after a late kiosk record the page lists it as an adjustment while the frozen file stays the same."""

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from central_server.attendance.rules.recompute import recompute_after_ingest
from tests.builders import local_wire
from tests.central_server.web.conftest import screenshot
from tests.central_server.web.world import HINDI_NAME, feed, register_kiosk

pytestmark = pytest.mark.slow


def test_close_download_then_a_late_record_is_an_adjustment(page_as, world):
    page = page_as("head-1")
    page.goto("/month-close?month=2026-11")
    page.fill("#reason", "checked with the DDO on 2 December")
    page.check("input[name=force]")
    with page.expect_navigation():
        page.click("text=Close the month and freeze the report")
    assert "Closed on" in page.inner_text("main")
    with page.expect_download() as download:
        page.click("text=Download PDF")
    frozen = Path(download.value.path()).read_bytes()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(frozen)).pages)
    assert frozen.startswith(b"%PDF") and "Rajesh Kumar" in text
    assert HINDI_NAME.replace(" ", "") in text.replace(" ", "")
    with world.begin() as conn:
        kiosk = register_kiosk(conn)
    recs = [kiosk.record("emp-2", "IN", local_wire("2026-11-25", "09:55")),
            kiosk.record("emp-2", "OUT", local_wire("2026-11-25", "17:40"))]
    feed(world, kiosk, *recs)
    recompute_after_ingest(world, [(r.person_id, r.wall_time) for r in recs], "Asia/Kolkata")
    page.reload()
    row = page.locator("tr[id^=adj-]").first
    assert "Rajesh Kumar" in row.inner_text() and "+1" in row.inner_text()
    screenshot(page, "month-close")
    with page.expect_download() as again:
        page.click("text=Download PDF")
    assert Path(again.value.path()).read_bytes() == frozen
