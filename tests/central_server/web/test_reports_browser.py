"""/reports in a real browser: the monthly PDF downloaded through the page's button holds the Hindi name; the
page on a desktop and on a phone."""

import io

import pypdf
import pytest

from tests.builders import local_wire
from tests.central_server.web.conftest import screenshot
from tests.central_server.web.world import HINDI_NAME, feed, register_kiosk

pytestmark = pytest.mark.slow


@pytest.fixture
def november(world) -> None:
    with world.begin() as conn:
        kiosk = register_kiosk(conn)
    records = []
    for day, arrive in (("2026-11-24", "09:51"), ("2026-11-25", "09:55"), ("2026-11-26", "10:32")):
        for person in ("emp-1", "emp-2"):
            records.append(kiosk.record(person, "IN", local_wire(day, arrive)))
            records.append(kiosk.record(person, "OUT", local_wire(day, "17:41")))
    feed(world, kiosk, *records)


def test_the_monthly_pdf_downloaded_from_the_page_has_the_hindi_name(page_as, november):
    page = page_as("head-1")
    page.goto("/reports?kind=monthly&month=2026-11")
    assert HINDI_NAME in page.locator("table").inner_text()
    screenshot(page, "reports")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == "monthly-जिला-शिक्षा-कार्यालय-सीहोर-2026-11.pdf"
    content = download.value.path().read_bytes()
    assert content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(content)).pages)
    assert HINDI_NAME in text


def test_the_reports_page_fits_a_phone(page_as, november):
    page = page_as("head-1", viewport=(360, 740))
    page.goto("/reports?kind=muster&day=2026-11-25")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "reports-phone")
