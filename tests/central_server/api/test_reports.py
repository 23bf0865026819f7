"""The reports API (SQLite and PostgreSQL): who may read which office's reports, bad parameters, and the
CSV, XLSX and PDF files themselves."""

import csv
import io
import random
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pypdf
import pytest
from fastapi.testclient import TestClient

from bench.reports import seed as seed_bench
from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.config import ServerConfig
from central_server.org.employees import create_employee, set_site_details
from central_server.org.sites import create_site
from central_server.reports import ReportScope, build_monthly, month_period
from central_server.reports.export import monthly_sections
from central_server.reports.monthly import MONTHLY_COLUMNS
from central_server.reports.pdf_writer import pages_needed

M, D = "2026-10", "2026-10-05"
ODD_NAME = "Ram & Shyam <Sr.> (रामू)"


@pytest.fixture
def tokens(engine) -> dict:
    with engine.begin() as conn:
        for site, kind, district in (("hostel-1", "hostel", "North"), ("hostel-2", "hostel", "South"),
                                     ("office-1", "office", "North")):
            create_site(conn, site, site.title(), kind, actor="test")
            set_site_details(conn, site, {"district": district}, actor="test")
        for emp, name, site in (("res-1", "Res One", "hostel-1"), ("res-1b", ODD_NAME, "hostel-1"),
                                ("res-2", "Res Two", "hostel-2"), ("emp-1", "Emp One", "office-1")):
            create_employee(conn, {"employee_id": emp, "name": name, "site_id": site}, actor="test")
        return {
            "warden-1": create_token(conn, Role.WARDEN, "warden 1", "hostel-1"),
            "head": create_token(conn, Role.OFFICE_HEAD, "head", "office-1"),
            "res-1": create_token(conn, Role.EMPLOYEE, "res 1", employee_id="res-1"),
            "admin": create_token(conn, Role.STATE_ADMIN, "admin"),
            "district": create_token(conn, Role.DISTRICT_OFFICER, "state-wide district officer"),
            "do-north": create_token(conn, Role.DISTRICT_OFFICER, "do north", district="North"),
            "it": create_token(conn, Role.IT_STAFF, "it"),
        }


@pytest.fixture
def client(engine, tokens):
    app = create_app(ServerConfig(database_url="sqlite:///unused.db"), engine=engine, start_ingest=False)
    with TestClient(app) as c:
        yield c


def get(client, tokens, who, path, **params):
    return client.get(f"/api/v1/reports/{path}", params=params, headers={"Authorization": f"Bearer {tokens[who]}"})


def csv_rows(response) -> list[dict]:
    """The CSV's rows; it opens with a UTF-8 byte-order mark (for Excel on Windows)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def csv_ids(response) -> list[str]:
    return [row["employee_id"] for row in csv_rows(response)]


def test_a_warden_reads_only_their_hostel(client, tokens):
    assert csv_ids(get(client, tokens, "warden-1", "monthly", month=M)) == ["res-1", "res-1b"]
    assert csv_ids(get(client, tokens, "warden-1", "muster", day=D)) == ["res-1", "res-1b"]
    assert set(csv_ids(get(client, tokens, "warden-1", "absent", month=M))) == {"res-1", "res-1b"}
    for path, params in (("monthly", {"month": M}), ("muster", {"day": D}), ("late", {"month": M}),
                         ("absent", {"month": M}), ("rollup", {"month": M})):
        r = get(client, tokens, "warden-1", path, site_id="hostel-2", **params)
        assert r.status_code == 403 and "hostel-1" in r.json()["detail"], path
        assert get(client, tokens, "warden-1", path, district="South", **params).status_code == 403, path
    assert get(client, tokens, "warden-1", "monthly", month=M, employee_id="res-2").status_code == 403
    assert get(client, tokens, "head", "monthly", month=M, site_id="hostel-1").status_code == 403
    assert csv_ids(get(client, tokens, "head", "monthly", month=M)) == ["emp-1"]


def test_an_employee_reads_only_themself(client, tokens):
    assert csv_ids(get(client, tokens, "res-1", "monthly", month=M)) == ["res-1"]
    assert csv_ids(get(client, tokens, "res-1", "muster", day=D)) == ["res-1"]
    assert get(client, tokens, "res-1", "monthly", month=M, employee_id="res-1b").status_code == 403
    assert get(client, tokens, "res-1", "monthly", month=M, site_id="hostel-2").status_code == 403
    assert get(client, tokens, "res-1", "muster", day=D, district="North").status_code == 403
    rollup = get(client, tokens, "res-1", "rollup", month=M, format="json").json()
    assert rollup[-1]["level"] == "total" and rollup[-1]["employees"] == 1


def test_other_roles_and_strangers(client, tokens):
    r = get(client, tokens, "it", "monthly", month=M)
    assert r.status_code == 403 and "it_staff" in r.json()["detail"]
    assert client.get("/api/v1/reports/monthly", params={"month": M}).status_code == 401
    # The state admin sees all; a district narrows to its offices; a district officer token without a district
    # reads state-wide, as elsewhere in the API.
    assert csv_ids(get(client, tokens, "admin", "monthly", month=M)) == ["res-1", "res-1b", "emp-1", "res-2"]
    assert csv_ids(get(client, tokens, "admin", "monthly", month=M, district="North")) == ["res-1", "res-1b", "emp-1"]
    assert csv_ids(get(client, tokens, "district", "monthly", month=M, district="South")) == ["res-2"]
    rollup = get(client, tokens, "admin", "rollup", month=M, format="json").json()
    assert [(r["level"], r["district"], r["site_id"], r["employees"]) for r in rollup] == [
        ("office", "North", "hostel-1", 2), ("office", "North", "office-1", 1), ("district", "North", "", 3),
        ("office", "South", "hostel-2", 1), ("district", "South", "", 1), ("total", "", "", 4)]


def test_a_district_officer_reads_only_their_district(client, tokens):
    r = get(client, tokens, "do-north", "monthly", month=M)
    assert csv_ids(r) == ["res-1", "res-1b", "emp-1"]
    assert 'filename="monthly-North-2026-10.csv"' in r.headers["content-disposition"]
    assert csv_ids(get(client, tokens, "do-north", "muster", day=D)) == ["res-1", "res-1b", "emp-1"]
    assert csv_ids(get(client, tokens, "do-north", "monthly", month=M, site_id="hostel-1")) == ["res-1", "res-1b"]
    assert csv_ids(get(client, tokens, "do-north", "monthly", month=M, district=" north")) == ["res-1", "res-1b",
                                                                                                 "emp-1"]
    for params in ({"district": "South"}, {"site_id": "hostel-2"}, {"employee_id": "res-2"}):
        r = get(client, tokens, "do-north", "monthly", month=M, **params)
        assert r.status_code == 403 and "North" in r.json()["detail"], params
    rollup = get(client, tokens, "do-north", "rollup", month=M, format="json").json()
    assert {r["district"] for r in rollup} == {"North", ""} and rollup[-1]["employees"] == 3


@pytest.mark.parametrize(("path", "params", "code", "names"), [
    ("monthly", {"month": "2026-13"}, 422, "month"),
    ("monthly", {"month": "Oct 2026"}, 422, "month"),
    ("monthly", {"month": "2999-01"}, 422, "month"),
    ("monthly", {"month": M, "format": "docx"}, 422, "format"),
    ("muster", {"day": D, "format": "pdf"}, 422, "format"),
    ("muster", {"day": "2026-02-30"}, 422, "day"),
    ("muster", {"day": "2999-01-01"}, 422, "day"),
    ("monthly", {"month": M, "site_id": "nowhere"}, 404, "site_id"),
    ("monthly", {"month": M, "district": "Atlantis"}, 404, "district"),
    ("monthly", {"month": M, "site_id": "hostel-1", "district": "North"}, 422, "district"),
    ("late", {"month": M, "employee_id": "emp-404"}, 404, "emp-404"),
])
def test_bad_parameters_are_named(client, tokens, path, params, code, names):
    r = get(client, tokens, "admin", path, **params)
    assert r.status_code == code, r.text
    assert names in r.json()["detail"]


def test_a_missing_month_is_named(client, tokens):
    r = get(client, tokens, "admin", "monthly")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "month"]


@pytest.fixture
def big(engine, tokens) -> dict:
    """130 more employees with a month of seeded days (bench.reports' seeder) in office-000."""
    return seed_bench(engine, 130, 31, random.Random(5))


def test_csv_and_json_agree(client, tokens, big):
    r = get(client, tokens, "admin", "monthly", month=M, site_id="office-000")
    assert 'filename="monthly-office-000-2026-10.csv"' in r.headers["content-disposition"]
    rows = csv_rows(r)
    as_json = get(client, tokens, "admin", "monthly", month=M, site_id="office-000", format="json").json()
    assert len(rows) == len(as_json) == 130
    assert all(str(j[k]).removesuffix(".0") == c[k] for j, c in zip(as_json, rows, strict=True) for k in c)
    assert {r["payable_days"] for r in as_json} != {as_json[0]["payable_days"]}  # seeded days differ


def test_the_xlsx_opens_with_every_sheet(client, tokens, big):
    r = get(client, tokens, "admin", "monthly", month=M, format="xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    report = get(client, tokens, "admin", "monthly", month=M, format="json").json()
    late = get(client, tokens, "admin", "late", month=M, format="json").json()
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.testzip() is None
    book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    assert book.sheetnames == ["Monthly", "Day by day", "District roll-up", "Late", "Absent"]
    monthly = list(book["Monthly"].values)
    assert monthly[0] == MONTHLY_COLUMNS and len(monthly) == len(report) + 1 == 135
    odd = next(row for row in monthly if "res-1b" in row)
    assert ODD_NAME in odd  # read back intact
    assert len(list(book["Late"].values)) == len(late) + 1 > 10
    grid = list(book["Day by day"].values)
    assert len(grid) == len(report) + 1 and grid[0][3:3 + 31] == tuple(str(d) for d in range(1, 32))


def test_the_pdf_has_every_row_and_the_pages_they_need(engine, client, tokens, big):
    r = get(client, tokens, "admin", "monthly", month=M, format="pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = r.content
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    report = get(client, tokens, "admin", "monthly", month=M, format="json").json()
    tz = ServerConfig.model_fields["timezone"].default
    with engine.begin() as conn:  # the days are stored now: the same report as the download's
        built = build_monthly(conn, month_period(M, datetime.now(ZoneInfo(tz)).date()), ReportScope(), tz,
                              fill=False)
    pages = pages_needed(monthly_sections(built))
    assert len(report) == 134 and pages >= 7  # per employee, day by day, roll-up, late, absent; some take two
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == pages
    text = "\n".join(page.extract_text() for page in reader.pages)
    for row in report:
        assert row["employee_id"] in text
    assert reader.pages[-1].extract_text().rstrip().endswith(f"page {pages} of {pages}")
    assert "Ram & Shyam <Sr.> (" in text and "????" not in text  # Devanagari is embedded, not replaced
