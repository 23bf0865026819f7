"""The board, the employee page and the roll-call in a real browser: the board updates without a reload after a
kiosk record is ingested, says when it shows old data, fits a phone; an employee sees only themselves; the
warden's roll-call on a phone. Screenshots: board-desktop, board-phone, employee-month, rollcall-phone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hajiri_common.timefmt import wire_time
from tests.builders import IST, local_wire
from tests.central_server.web.conftest import screenshot
from tests.central_server.web.world import feed, register_kiosk

pytestmark = pytest.mark.slow


def today() -> str:
    return datetime.now(ZoneInfo(IST)).date().isoformat()


def ago(minutes: int) -> str:
    return wire_time(datetime.now(UTC) - timedelta(minutes=minutes))


@pytest.fixture
def office(world):
    """office-1's kiosk with a morning: emp-1 on time, emp-3 late and gone; emp-2 not seen yet."""
    with world.begin() as conn:
        kiosk = register_kiosk(conn)
    day = today()
    feed(world, kiosk, kiosk.record("emp-1", "IN", local_wire(day, "09:52")),
         kiosk.record("emp-3", "IN", local_wire(day, "10:34")), kiosk.record("emp-3", "OUT", local_wire(day, "15:05")))
    return kiosk


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_board_updates_after_a_kiosk_record_without_a_reload(page_as, world, office):
    page = page_as("head-1")
    page.goto("/sites/office-1?refresh=2")
    assert page.locator("#board-live").get_attribute("data-live-every") == "2"
    assert page.locator("#row-emp-2.is-in").count() == 0
    page.evaluate("window.notReloaded = true")
    feed(world, office, office.record("emp-2", "IN", ago(1)))
    page.wait_for_selector("#row-emp-2.is-in", timeout=10_000)
    assert page.evaluate("window.notReloaded === true")  # the fragment was swapped in, the page not reloaded
    assert "IN" in page.inner_text("#row-emp-2 td:nth-child(5)")
    screenshot(page, "board-desktop")


def test_the_board_says_it_shows_old_data_when_a_refresh_fails(page_as, office):
    page = page_as("head-1")
    page.goto("/sites/office-1?refresh=2")
    assert page.locator("#board-stale").is_hidden()
    shown = page.get_attribute(".board-frame", "data-as-of")
    page.route("**/sites/office-1/live*", lambda route: route.abort())
    page.wait_for_selector("#board-stale", state="visible", timeout=10_000)
    assert page.inner_text("#board-stale") == f"Showing data from {shown}; reconnecting…"
    page.unroute("**/sites/office-1/live*")
    page.wait_for_selector("#board-stale", state="hidden", timeout=10_000)


def test_the_board_on_a_phone_is_one_column_of_cards(page_as, office):
    page = page_as("head-1", viewport=(360, 740))
    page.goto("/sites/office-1")
    assert no_sideways_scroll(page)
    assert page.locator("#row-emp-1 td:nth-child(1) a").is_visible()
    assert page.locator("#row-emp-1 .cell-label").first.is_visible()  # "First IN" beside the time on a card
    screenshot(page, "board-phone")
    with page.expect_navigation():
        page.click("button[lang=hi]")
    assert "पहला आगमन" in page.inner_text("#row-emp-1") and no_sideways_scroll(page)
    screenshot(page, "board-phone-hi")


def test_an_employee_sees_their_month_and_only_theirs(page_as, office):
    page = page_as("emp-1")
    assert page.url.endswith("/employees/emp-1")
    assert page.locator("table.calendar thead th").count() == 7
    today_cell = page.locator('table.calendar td[aria-current="date"]')
    assert today_cell.locator(".st").count() == 1
    page.click(f'table.calendar a[href$="day={today()}#day"]')
    assert "09:52" in page.inner_text("#day")
    screenshot(page, "employee-month")
    response = page.goto("/employees/emp-2")
    assert response.status == 403 and "Rajesh Kumar" not in page.content()


def test_the_wardens_roll_call_on_a_phone(page_as, world):
    with world.begin() as conn:
        gate = register_kiosk(conn, "kiosk-h1", "hostel-1")
    feed(world, gate, gate.record("res-1", "OUT", ago(95)), gate.record("res-2", "IN", ago(30)))
    page = page_as("warden-1", viewport=(360, 740))
    assert page.url.endswith("/rollcall/hostel-1")
    assert "20:00" in page.inner_text(".curfew")
    listed = page.locator(".people li .name").all_inner_texts()
    assert listed.index("पूजा सिंह") < listed.index("Kavita Rao")  # not back first
    assert no_sideways_scroll(page)
    screenshot(page, "rollcall-phone")
    assert page.goto("/rollcall/office-1").status == 403


def test_the_employee_month_fits_a_phone_in_hindi(page_as, office):
    page = page_as("emp-1", viewport=(360, 740))
    with page.expect_navigation():
        page.click("button[lang=hi]")
    assert page.locator("table.calendar thead th").first.inner_text() == "सोम"
    assert no_sideways_scroll(page)
    screenshot(page, "employee-month-phone-hi")
