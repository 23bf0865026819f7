"""/review in a real browser: an office head decides an explanation by keyboard alone (Tab to the button, Enter)
and sees it move to the decided list; the page on a desktop and on a phone, with a spoof crop shown."""

import pytest

from tests.central_server.web.conftest import screenshot
from tests.central_server.web.review_seed import add_checkin, add_explanation, add_spoof
from tests.central_server.web.world import HINDI_NAME

pytestmark = pytest.mark.slow


@pytest.fixture
def waiting(world, web_config) -> int:
    with world.begin() as conn:
        outside = add_checkin(conn, "emp-1", "IN", "09:55", "outside_fence", distance_m=340.0)
        add_checkin(conn, "emp-1", "OUT", "17:40")
        add_checkin(conn, "emp-2", "IN", "09:50", "queued_offline,selfie_mismatch")
        add_checkin(conn, "emp-3", "IN", "10:38", "queued_offline")
        add_checkin(conn, "emp-3", "OUT", "17:45", "mock_location", distance_m=2250.0)
        request_id = add_explanation(conn, "emp-1", "outside_fence", outside)
        add_explanation(conn, "emp-3", "late", answer="बस देर से आई, क्षमा करें")
    add_spoof(world, web_config)
    return request_id


def test_a_head_decides_an_explanation_by_keyboard(page_as, waiting):
    page = page_as("head-1")
    page.goto("/review")
    assert page.locator("#h-explanations .count").inner_text() == "2"
    card = page.locator(f"#explanation-{waiting}")
    assert HINDI_NAME in card.inner_text()
    page.locator("img[src^='/review/evidence/']").first.wait_for()
    assert page.evaluate("document.querySelector(\"img[src^='/review/evidence/']\").naturalWidth") > 0
    screenshot(page, "review")
    card.locator("textarea").focus()
    page.keyboard.type("Meeting at the block office, confirmed by phone")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "accept"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/review#explanations")
    assert page.locator(f"#explanation-{waiting}").count() == 0
    decided = page.locator("#explanations-decided").inner_text()
    assert HINDI_NAME in decided and "Meeting at the block office, confirmed by phone" in decided
    assert "head-1" in decided


def test_the_review_page_fits_a_phone(page_as, waiting):
    page = page_as("head-1", viewport=(360, 740))
    page.goto("/review")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "review-phone")
