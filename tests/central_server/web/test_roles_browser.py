"""Every role in a real browser: signs in by pressing Enter, lands on its home page, reaches its menu's
pages, and is refused (403, never another site's data) on a page that is not its own."""

import pytest

from tests.central_server.web.conftest import screenshot

pytestmark = pytest.mark.slow

# username -> (home path, a page of another site or role it must not see, a name it must never be shown)
ROLES = {
    "admin": ("/state", None, None),
    "do-sehore": ("/districts/Sehore", "/districts/Raisen", "Collectorate Raisen"),
    "head-1": ("/sites/office-1", "/sites/office-2", "Meena Yadav"),
    "warden-1": ("/rollcall/hostel-1", "/rollcall/office-1", "Rajesh Kumar"),
    "it-1": ("/kiosks", "/reports", None),
    "emp-1": ("/employees/emp-1", "/employees/emp-2", "Rajesh Kumar"),
}


@pytest.mark.parametrize("username", sorted(ROLES))
def test_each_role_lands_home_uses_its_menu_and_is_kept_out_of_the_rest(page_as, username):
    home, forbidden, secret = ROLES[username]
    page = page_as(username)
    assert page.url.endswith(home), page.url
    assert page.locator("main h1").count() >= 1
    screenshot(page, f"home-{username}")
    links = [a.get_attribute("href") for a in page.locator("nav.menu a").all()]
    assert links, "a signed-in page has the role's menu"
    for href in links:
        answer = page.goto(href)
        assert answer.status == 200, (username, href, answer.status)
    if forbidden:
        answer = page.goto(forbidden)
        assert answer.status in (403, 404), (username, forbidden, answer.status)
        if secret:
            assert secret not in page.content()
