"""Sign-in in a real browser: Enter in the password field signs in; the session survives a reload; sign-out."""

import pytest

from tests.central_server.web.conftest import screenshot
from tests.central_server.web.world import PASSWORD

pytestmark = pytest.mark.slow


def test_enter_in_the_password_field_signs_in_and_sign_out_ends_it(browser, live_server):
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=live_server)
    page = context.new_page()
    page.goto("/login?next=/sites")
    screenshot(page, "login-phone")
    page.fill("#username", "do-sehore")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.press("#password", "Enter")
    assert page.url.endswith("/sites")
    assert "जिला शिक्षा कार्यालय, सीहोर" in page.inner_text("main")
    cookie = next(c for c in context.cookies() if c["name"] == "hajiri_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.reload()
    assert page.url.endswith("/sites")
    with page.expect_navigation():
        page.click("text=Sign out")
    assert "/login" in page.url
    page.goto("/sites")
    assert "/login?next=" in page.url
    context.close()


def test_a_wrong_password_says_so_beside_the_form_and_keeps_the_name(browser, live_server):
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.goto("/login?lang=hi")
    page.fill("#username", "head-1")
    page.fill("#password", "not the password")
    with page.expect_navigation():
        page.press("#password", "Enter")
    assert "उपयोगकर्ता नाम या पासवर्ड गलत है।" in page.inner_text("#login-error")
    assert page.input_value("#username") == "head-1"
    context.close()
