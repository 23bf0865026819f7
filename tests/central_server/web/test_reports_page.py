"""/reports: who reads which offices' reports (an employee their own rows, IT staff none), the filters and
their errors beside the field, a preview of the first rows with numbers right-aligned and status marks, and the
downloads: CSV with Hindi names intact (in the file and its name), XLSX that openpyxl opens, PDF; the same rows
as the API's; opening the page or downloading writes nothing."""

import csv
import io
import re
from urllib.parse import unquote

import openpyxl
import pytest
import sqlalchemy as sa

from central_server.access.tokens import Role, create_token
from central_server.db.schema import metadata
from tests.builders import bearer, local_wire
from tests.central_server.web.world import HINDI_NAME, feed, register_kiosk, sign_in

MONTH = "2026-11"
OFFICE_1 = "जिला शिक्षा कार्यालय, सीहोर"


@pytest.fixture
def month(world) -> dict:
    """November at office-1: emp-1 present on the 25th and late on the 26th, emp-2 present on the 25th."""
    with world.begin() as conn:
        kiosk = register_kiosk(conn)
        head_token = create_token(conn, Role.OFFICE_HEAD, "head api", "office-1")
    feed(world, kiosk, kiosk.record("emp-1", "IN", local_wire("2026-11-25", "09:55")),
         kiosk.record("emp-2", "IN", local_wire("2026-11-25", "09:58")),
         kiosk.record("emp-1", "OUT", local_wire("2026-11-25", "17:40")),
         kiosk.record("emp-2", "OUT", local_wire("2026-11-25", "17:35")),
         kiosk.record("emp-1", "IN", local_wire("2026-11-26", "10:30")),
         kiosk.record("emp-1", "OUT", local_wire("2026-11-26", "17:45")))
    return {"head_token": head_token}


def _download(client, **params):
    return client.get("/reports/download", params={"month": MONTH, **params})


def _file_name(response) -> str:
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    if "filename*=UTF-8''" in disposition:
        return unquote(disposition.split("filename*=UTF-8''")[1])
    return re.search(r'filename="([^"]+)"', disposition).group(1)


def _csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _row_counts(world) -> dict[str, int]:
    with world.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables}


def test_each_role_reads_only_its_offices(client, month):
    sign_in(client, "head-1")
    page = client.get("/reports", params={"month": MONTH})
    assert page.status_code == 200 and HINDI_NAME in page.text and "Rajesh Kumar" in page.text
    assert "Meena Yadav" not in page.text and "<script>" not in page.text and "style=" not in page.text
    client.cookies.clear()
    sign_in(client, "head-2")
    assert client.get("/reports", params={"site_id": "office-1"}).status_code == 403
    assert _download(client, site_id="office-1").status_code == 403
    client.cookies.clear()
    sign_in(client, "do-sehore")
    page = client.get("/reports", params={"month": MONTH}).text
    assert HINDI_NAME in page and "पूजा सिंह" in page and "Meena Yadav" not in page
    assert client.get("/reports", params={"district": "Raisen"}).status_code == 403
    client.cookies.clear()
    sign_in(client, "admin")
    page = client.get("/reports", params={"month": MONTH, "district": "Raisen"}).text
    assert "Meena Yadav" in page and HINDI_NAME not in page
    client.cookies.clear()
    sign_in(client, "it-1")
    assert client.get("/reports").status_code == 403 and _download(client).status_code == 403


def test_an_employee_sees_and_downloads_only_their_own_rows(client, month):
    sign_in(client, "emp-1")
    page = client.get("/reports", params={"month": MONTH}).text
    assert HINDI_NAME in page and "Rajesh Kumar" not in page and 'name="site_id"' not in page
    r = _download(client, kind="monthly", format="csv")
    assert r.status_code == 200
    assert [row["employee_id"] for row in _csv_rows(r)] == ["emp-1"]
    assert _file_name(r) == "monthly-सुनीता-वर्मा-2026-11.csv"
    late = _csv_rows(_download(client, kind="late", format="csv"))
    assert [(row["employee_id"], row["day"]) for row in late] == [("emp-1", "2026-11-26")]
    assert client.get("/reports", params={"site_id": "office-2"}).status_code == 403


def test_the_preview_shows_the_first_rows_with_marks_and_right_aligned_numbers(client, month):
    sign_in(client, "head-1")
    page = client.get("/reports", params={"month": MONTH}).text
    assert 'class="table-wrap"' in page and '<td class="num">' in page and 'class="st st-present"' in page
    for fmt in ("csv", "xlsx", "pdf"):
        assert f"/reports/download?kind=monthly&amp;month={MONTH}" in page and f"format={fmt}" in page
    page = client.get("/reports", params={"kind": "muster", "day": "2026-11-25"}).text
    assert "✓ P" in page and "09:55" in page and "format=pdf" not in page
    page = client.get("/reports", params={"kind": "late", "month": MONTH}).text
    assert "26-11-2026" in page and HINDI_NAME in page and "Rajesh Kumar" not in page


def test_downloads_in_each_format_keep_hindi_names(client, month):
    sign_in(client, "head-1")
    r = _download(client, kind="monthly", format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert _file_name(r) == "monthly-जिला-शिक्षा-कार्यालय-सीहोर-2026-11.csv"
    assert 'filename="monthly-office-1-2026-11.csv"' in r.headers["content-disposition"]  # for old clients
    rows = _csv_rows(r)
    assert {row["name"] for row in rows} >= {HINDI_NAME, "Rajesh Kumar"} and rows[0]["office"] == OFFICE_1
    r = _download(client, kind="monthly", format="xlsx")
    book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    names = {cell for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row}
    assert HINDI_NAME in names and _file_name(r).endswith(".xlsx")
    r = _download(client, kind="monthly", format="pdf")
    assert r.content.startswith(b"%PDF") and r.headers["content-type"] == "application/pdf"
    for kind in ("rollup", "late", "absent"):
        for fmt in ("csv", "xlsx"):
            r = _download(client, kind=kind, format=fmt)
            assert r.status_code == 200 and _file_name(r).startswith(f"{kind}-"), (kind, fmt)
    r = client.get("/reports/download", params={"kind": "muster", "day": "2026-11-25", "format": "xlsx"})
    assert r.status_code == 200 and _file_name(r) == "muster-जिला-शिक्षा-कार्यालय-सीहोर-2026-11-25.xlsx"
    openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)


def test_a_page_download_holds_the_apis_rows(client, month):
    sign_in(client, "head-1")
    page = _download(client, kind="monthly", format="csv").content
    api = client.get("/api/v1/reports/monthly", params={"month": MONTH, "format": "csv"},
                     headers=bearer(month["head_token"]))
    assert api.status_code == 200 and page == api.content


def test_opening_and_downloading_write_nothing(client, month, world):
    for username in ("head-1", "admin", "emp-1"):
        client.cookies.clear()
        sign_in(client, username)
        before = _row_counts(world)
        assert client.get("/reports", params={"month": MONTH}).status_code == 200
        assert client.get("/reports", params={"kind": "muster", "day": "2026-11-25"}).status_code == 200
        assert _download(client, kind="monthly", format="pdf").status_code == 200
        assert _download(client, kind="absent", format="csv").status_code == 200
        assert _row_counts(world) == before, username


def test_a_refused_filter_is_marked_beside_its_field(client, month):
    sign_in(client, "admin")
    r = client.get("/reports", params={"month": "2026-13"})
    assert r.status_code == 422 and 'id="error-month"' in r.text and 'value="2026-13"' in r.text
    r = client.get("/reports", params={"month": "2030-01"})
    assert r.status_code == 422 and "Choose a month that has begun." in r.text
    r = client.get("/reports", params={"kind": "muster", "day": "2030-01-01"})
    assert r.status_code == 422 and 'id="error-day"' in r.text
    r = client.get("/reports", params={"month": MONTH, "site_id": "office-1", "district": "Sehore"})
    assert r.status_code == 422 and 'id="error-district"' in r.text
    assert _download(client, kind="late", format="pdf").status_code == 422
    assert _download(client, kind="nonsense", format="csv").status_code == 422
