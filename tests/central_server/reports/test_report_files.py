"""The report files themselves, read back with other programs' readers: the PDF with pypdf (Devanagari
shaped and embedded, the header row on every page), the XLSX with openpyxl (text stays text, numbers stay
numbers), the CSV with Python's csv (formulas neutralised, a BOM for Excel), and the day-by-day grid of a
seeded month."""

import csv
import io
import re
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pypdf
import pytest
import sqlalchemy as sa

from central_server.db.schema import employees, leaves
from central_server.org.employees import add_absence, create_employee
from central_server.reports import ReportScope, build_monthly, month_period
from central_server.reports.csv_writer import iter_csv
from central_server.reports.export import monthly_pdf_bytes, monthly_sheets, monthly_xlsx_bytes
from central_server.reports.grid import grid_columns, grid_rows
from central_server.reports.monthly import MONTHLY_COLUMNS
from central_server.reports.pdf_writer import (
    LEADING,
    ReportFontsMissing,
    Section,
    clusters,
    leading,
    pages_needed,
    write_pdf,
)
from central_server.reports.xlsx_writer import CONSTANT_MEMORY_ROWS, Sheet, write_xlsx
from tests.central_server.reports.test_reports import FEB, NOW, TZ, seed_february

HINDI = ("सुनीता वर्मा", "राजेश कुमार", "क्षितिज त्रिपाठी")
INJECTED = '=HYPERLINK("http://x","y")'
_DEVANAGARI = re.compile("[\u0900-\u097f]")


def devanagari(text: str) -> str:
    """Only the Devanagari code points of text, in order. pypdf reads fpdf2's shaped runs with a space where a
    glyph is positioned apart and, for the second glyph of a cluster (which has no entry of its own in the
    ToUnicode map), its raw code as some ASCII character; dropping everything else compares what the map
    carries. Text printed as '????' has no Devanagari left at all."""
    return "".join(_DEVANAGARI.findall(text))


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


@pytest.fixture
def hindi_month(engine, registered):
    """seed_february's month with Hindi names, an earned leave, a joiner on the 15th, a formula-like name."""
    seed_february(engine, registered)
    with engine.begin() as conn:
        for emp, name in (("emp-1", HINDI[0]), ("emp-2", HINDI[1])):
            conn.execute(sa.update(employees).where(employees.c.employee_id == emp).values(name=name))
        create_employee(conn, {"employee_id": "emp-3", "name": HINDI[2], "site_id": "office-2",
                               "shift_id": "office", "joined_on": "2026-02-15"}, actor="test")
        create_employee(conn, {"employee_id": "emp-4", "name": INJECTED, "site_id": "office-2",
                               "shift_id": "office"}, actor="test")
        add_absence(conn, leaves, {"employee_id": "emp-2", "from_day": "2026-02-17", "to_day": "2026-02-18",
                                   "approved": True, "kind": "earned"}, actor="test")
        return build_monthly(conn, FEB, ReportScope(), TZ, now=NOW)


def test_the_grid_marks_every_day_of_a_seeded_month(hindi_month):
    columns = grid_columns(FEB)
    assert columns[3:3 + 28] == tuple(str(d) for d in range(1, 29))  # one column per day of February 2026
    rows = {r[1]: dict(zip(columns, r, strict=True)) for r in grid_rows(hindi_month)}
    one = rows["emp-1"]
    marks = {d: one[str(d)] for d in range(1, 29)}
    assert (one["site_id"], one["name"]) == ("office-1", HINDI[0])
    assert [marks[d] for d in (1, 8, 15, 22)] == ["WO"] * 4  # Sundays
    assert (marks[2], marks[3]) == ("CL", "CL")  # casual leave
    assert marks[4] == "H" and marks[5] == "H"  # half-day leave (worked half), a half day
    assert (marks[6], marks[9], marks[10], marks[11], marks[12], marks[13]) == ("L", "T", "T", "P", "P", "A")
    assert marks[16] == marks[26] == "HO"  # the office festival, the state holiday
    assert marks[7] == marks[27] == "A"  # no records on a working day
    totals = (one["present"], one["late"], one["half_days"], one["leave"], one["payable_days"])
    assert totals == (3, 1, 2, 2.5, 14.5)
    assert rows["emp-2"]["17"] == rows["emp-2"]["18"] == "EL"
    joiner = [rows["emp-3"][str(d)] for d in range(1, 29)]
    assert joiner[:14] == [""] * 14 and joiner[14] == "WO" and joiner[15] == "A"  # blank before joining


def test_the_grid_of_the_current_month_leaves_days_to_come_blank(engine, registered):
    seed_february(engine, registered)
    now = datetime(2026, 2, 20, 10, 30, tzinfo=ZoneInfo(TZ))  # a Friday, during the 10:00-17:30 shift
    with engine.begin() as conn:
        report = build_monthly(conn, month_period("2026-02", now.date()), ReportScope(employee_id="emp-2"),
                               TZ, now=now)
    (row,) = grid_rows(report)
    days = dict(zip(grid_columns(report.period), row, strict=True))
    assert len(grid_columns(report.period)) == 3 + 28 + 9  # the whole month has columns
    assert days["19"] == "A" and days["20"] == "\u2026"  # today is pending until the shift is over
    assert [days[str(d)] for d in range(21, 29)] == [""] * 8


def test_the_pdf_carries_hindi_names_in_noto_sans_devanagari(hindi_month):
    data = monthly_pdf_bytes(hindi_month)
    assert data.startswith(b"%PDF-")
    assert b"+NotoSansDevanagari" in data and b"+NotoSans\n" in data  # both fonts embedded (subsets)
    pages = pdf_pages(data)
    text = "\n".join(pages)
    assert "????" not in text
    for name in HINDI:
        assert devanagari(name) in devanagari(text), name
    assert INJECTED in text  # just text in a PDF
    assert len(pages) == 5 and "day by day" in pages[1] and "page 5 of 5" in pages[-1]
    grid = pages[1]
    assert "1 2 3 4 5 6 7 8 9 10" in grid and "WO CL CL H H L A WO T T P P A" in grid


def test_the_header_row_repeats_on_every_page_and_long_cells_are_cut():
    long_name = "क्षितिज त्रिपाठी " * 8
    rows = [(f"emp-{i:03d}", HINDI[i % 3] if i % 10 else long_name, i * 1.5) for i in range(100)]
    section = Section("staff", ("employee_id", "name", "payable_days"), (60, 30, 30), frozenset({2}), rows)
    latin = Section("staff", ("employee_id", "name", "payable_days"), (60, 60, 30), frozenset({2}),
                    [("emp-1", "Asha", 1)])
    assert leading(section) == pytest.approx(1.15 * leading(latin)) and leading(latin) == LEADING
    buf = io.BytesIO()
    pages_written = write_pdf(buf, "Title", "subtitle", "a footnote", [section, latin])
    assert pages_written == pages_needed([section, latin]) == 4
    pages = pdf_pages(buf.getvalue())
    assert len(pages) == 4
    for page in pages:
        assert "employee id name payable days" in page and "a footnote" in page
    assert "emp-000" in pages[0] and "emp-099" in pages[2] and "148.5" in pages[2]
    assert ".." in pages[0] and devanagari(long_name) not in devanagari(pages[0])  # the long name is cut
    # A cut never splits a conjunct or leaves a vowel sign without its consonant.
    assert clusters("क्षितिज") == ["क्षि", "ति", "ज"]


def test_missing_fonts_are_named_with_the_package_to_install(tmp_path):
    with pytest.raises(ReportFontsMissing, match="fonts-noto-core") as caught:
        write_pdf(tmp_path / "x.pdf", "t", "s", "f", [], font_dir=tmp_path)
    assert "NotoSansDevanagari-Regular.ttf" in str(caught.value) and caught.value.status_code == 503
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize("rows", [3, CONSTANT_MEMORY_ROWS + 1])  # shared strings, then constant_memory
def test_xlsx_round_trips_text_as_text_and_numbers_as_numbers(rows):
    data = [(f"emp-{i}", HINDI[i % 3] if i else INJECTED, -0.5, 3, "0012", "+cmd|' /C calc'!A0", "a\x01b")
            for i in range(rows)]
    buf = io.BytesIO()
    columns = ("id", "name", "delta", "days", "code", "cmd", "ctl")
    write_xlsx(buf, [Sheet("Names", columns, data, freeze_columns=2)])
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()  # no formula anywhere
    book = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
    ws = book["Names"]
    assert ws.freeze_panes == "C2" and ws["A1"].font.b and ws.max_row == rows + 1
    first, second = ws[2], ws[3]
    assert (first[1].value, first[1].data_type) == (INJECTED, "s")
    assert (first[2].value, first[2].data_type, first[3].value, first[3].data_type) == (-0.5, "n", 3, "n")
    assert (first[4].value, first[5].data_type, first[6].value) == ("0012", "s", "ab")
    assert second[1].value == HINDI[1]
    assert ws.column_dimensions["B"].width > ws.column_dimensions["D"].width


def test_the_monthly_workbook_has_the_day_by_day_sheet(hindi_month):
    book = openpyxl.load_workbook(io.BytesIO(monthly_xlsx_bytes(hindi_month)))
    assert book.sheetnames == [s.name for s in monthly_sheets(hindi_month)] == [
        "Monthly", "Day by day", "District roll-up", "Late", "Absent"]
    monthly = list(book["Monthly"].values)
    assert monthly[0] == MONTHLY_COLUMNS
    by_id = {r[3]: dict(zip(MONTHLY_COLUMNS, r, strict=True)) for r in monthly[1:]}
    assert by_id["emp-1"]["name"] == HINDI[0] and by_id["emp-1"]["payable_days"] == 14.5
    assert isinstance(by_id["emp-1"]["days"], int) and by_id["emp-4"]["name"] == INJECTED
    grid = book["Day by day"]
    assert grid.freeze_panes == "D2"
    assert [c.value for c in grid[1]][:5] == ["site_id", "employee_id", "name", "1", "2"]
    one = next(r for r in grid.iter_rows(min_row=2, values_only=True) if r[1] == "emp-1")
    assert one[2] == HINDI[0] and one[3:3 + 4] == ("WO", "CL", "CL", "H") and one[-1] == 14.5


def test_csv_neutralises_formulas_but_keeps_numbers():
    rows = [("=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", -0.5, -3, "सुनीता", "a=b")]
    data = b"".join(iter_csv(("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), rows))
    assert data.startswith("\ufeff".encode())  # Excel on Windows reads UTF-8 only with the BOM
    (row,) = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(row.values()) == ["'=1+2", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx",
                                  "-0.5", "-3", "सुनीता", "a=b"]

