"""Reports as files or bytes: the monthly report in CSV, XLSX and PDF, the muster roll in CSV and XLSX."""

import io
from collections.abc import Iterator
from pathlib import Path

from central_server.reports.csv_writer import iter_csv, write_csv
from central_server.reports.grid import (
    HEAD_COLUMNS,
    LEGEND,
    TOTAL_COLUMNS,
    grid_columns,
    grid_days,
    grid_rows,
)
from central_server.reports.monthly import (
    ABSENT_COLUMNS,
    LATE_COLUMNS,
    MONTHLY_COLUMNS,
    ROLLUP_COLUMNS,
    MonthlyReport,
)
from central_server.reports.muster import MUSTER_COLUMNS, Muster
from central_server.reports.pdf_writer import Section, write_pdf
from central_server.reports.xlsx_writer import Sheet, write_xlsx

FORMULA = ("payable days = present (incl. late) + leave (half-day leave counts 0.5) + tour + holidays + "
           "weekly offs + 0.5 x half days;  working days = days - holidays - weekly offs")


def monthly_sheets(report: MonthlyReport) -> list[Sheet]:
    """The monthly workbook: per employee, the day-by-day grid, the roll-up, the late and absent days."""
    return [Sheet("Monthly", MONTHLY_COLUMNS, report.rows()),
            Sheet("Day by day", grid_columns(report.period), grid_rows(report),
                  freeze_columns=len(HEAD_COLUMNS)),
            Sheet("District roll-up", ROLLUP_COLUMNS, report.rollup()),
            Sheet("Late", LATE_COLUMNS, report.late),
            Sheet("Absent", ABSENT_COLUMNS, report.absent)]


def per_employee_days(rows: list[tuple]) -> list[tuple]:
    """Late or absent day rows (district, site, employee, name, day, ...) as one row per employee: the count
    and the days of the month, e.g. '3, 7, 15' (rows come sorted by employee, then day)."""
    out: list[tuple] = []
    for r in rows:
        day = str(int(r[4][8:10]))
        if out and out[-1][2] == r[2]:
            last = out[-1]
            out[-1] = (*last[:4], last[4] + 1, f"{last[5]}, {day}")
        else:
            out.append((r[0], r[1], r[2], r[3], 1, day))
    return out


_NUM_FROM = 5
# MONTHLY_COLUMNS and ROLLUP_COLUMNS as short headings that fit the PDF's narrow number columns.
_PDF_MONTHLY = ("district", "site", "office", "employee", "name", "days", "working", "present", "half", "leave",
                "tour", "absent", "late", "holiday", "w. off", "pending", "no row", "payable")
_PDF_ROLLUP = ("level", "district", "site", "office", "staff", "working", "present", "half", "leave", "tour",
               "absent", "late", "payable")
# grid.TOTAL_COLUMNS as short headings, and widths that fit them at the grid's size
_PDF_GRID_TOTALS = ("present", "late", "half", "absent", "leave", "tour", "hol.", "w. off", "payable")
_PDF_GRID_TOTAL_WIDTHS = (27, 18, 18, 24, 20, 18, 18, 20, 27)
_GRID_FONT_SIZE = 6.0  # 31 day columns across a landscape page


def grid_section(report: MonthlyReport) -> Section:
    """The day-by-day grid as a PDF table: narrow centred day columns, a wider name column, the totals."""
    days = len(grid_days(report.period))
    head = len(HEAD_COLUMNS)
    day_columns = grid_columns(report.period)[head:head + days]
    return Section("day by day", ("site", "employee", "name", *day_columns, *_PDF_GRID_TOTALS),
                   (31, 35, 90, *([13] * days), *_PDF_GRID_TOTAL_WIDTHS),
                   frozenset(range(head + days, head + days + len(TOTAL_COLUMNS))), grid_rows(report),
                   centered=frozenset(range(head, head + days)), font_size=_GRID_FONT_SIZE, note=LEGEND)


def monthly_sections(report: MonthlyReport) -> list[Section]:
    listed = ("district", "site_id", "employee_id", "name", "count", "days of the month")
    return [
        Section("per employee", _PDF_MONTHLY,
                (50, 48, 80, 52, 92, *([30] * (len(MONTHLY_COLUMNS) - _NUM_FROM - 1)), 38),
                frozenset(range(_NUM_FROM, len(MONTHLY_COLUMNS))), report.rows()),
        grid_section(report),
        Section("offices and districts", _PDF_ROLLUP, (40, 60, 60, 110, 40, *([42] * 8)),
                frozenset(range(4, len(ROLLUP_COLUMNS))), report.rollup()),
        Section("late arrivals", listed, (50, 50, 55, 95, 30, 330), frozenset({4}), per_employee_days(report.late)),
        Section("absences", listed, (50, 50, 55, 95, 30, 330), frozenset({4}), per_employee_days(report.absent)),
    ]


def monthly_title(report: MonthlyReport) -> tuple[str, str]:
    return ("Monthly attendance and salary report",
            f"{report.scope.label}; {report.period.label}; {len(report.employees)} employees")


def iter_monthly_csv(report: MonthlyReport) -> Iterator[bytes]:
    return iter_csv(MONTHLY_COLUMNS, report.rows())


def monthly_xlsx_bytes(report: MonthlyReport) -> bytes:
    buf = io.BytesIO()
    write_xlsx(buf, monthly_sheets(report))
    return buf.getvalue()


def monthly_pdf_bytes(report: MonthlyReport) -> bytes:
    buf = io.BytesIO()
    write_pdf(buf, *monthly_title(report), FORMULA, monthly_sections(report))
    return buf.getvalue()


def muster_xlsx_bytes(muster: Muster) -> bytes:
    buf = io.BytesIO()
    write_xlsx(buf, [Sheet(f"Muster {muster.day.isoformat()}", MUSTER_COLUMNS, muster.rows)])
    return buf.getvalue()


def write_monthly_files(report: MonthlyReport, out_dir: Path, stem: str) -> list[Path]:
    """<stem>.csv, .xlsx and .pdf in out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(out_dir / f"{stem}.csv", MONTHLY_COLUMNS, report.rows())
    xlsx_path = out_dir / f"{stem}.xlsx"
    write_xlsx(xlsx_path, monthly_sheets(report))
    pdf_path = out_dir / f"{stem}.pdf"
    write_pdf(pdf_path, *monthly_title(report), FORMULA, monthly_sections(report))
    return [csv_path, xlsx_path, pdf_path]


def write_muster_csv(muster: Muster, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_csv(path, MUSTER_COLUMNS, muster.rows)
