"""The monthly report's files as bytes, as the report's export functions write them, with the adjustments from
closed months that are paid in the report's month: a sheet of the XLSX and a section of the PDF. The CSV stays
the one per-employee table (a second table would break every program that reads it); the adjustments are in
GET /api/v1/adjustments as well.

They are a section beside the table, not a column of it: the PDF's per-employee section has a fixed heading
per column of MONTHLY_COLUMNS (reports.export), so a new column there breaks the PDF."""

import io
from collections.abc import Iterable

from central_server.reports.export import (
    FORMULA,
    iter_monthly_csv,
    monthly_pdf_bytes,
    monthly_sections,
    monthly_sheets,
    monthly_title,
    monthly_xlsx_bytes,
)
from central_server.reports.monthly import MonthlyReport
from central_server.reports.pdf_writer import Section, write_pdf
from central_server.reports.xlsx_writer import Sheet, write_xlsx

FORMATS = ("csv", "xlsx", "pdf")
ADJUSTMENTS_TITLE = "Adjustments from closed months"
ADJUSTMENT_COLUMNS = ("site_id", "employee_id", "name", "day", "closed_month", "old_status", "new_status",
                      "payable_delta", "cause")
_ADJUSTMENT_WIDTHS = (55, 55, 100, 55, 50, 60, 60, 45, 90)


def adjustment_rows(adjustments: Iterable[dict]) -> list[tuple]:
    """ADJUSTMENT_COLUMNS rows of adjustments (closing.adjustments rows with the employee's name)."""
    return [tuple(a[c] for c in ADJUSTMENT_COLUMNS) for a in adjustments]


def monthly_file(report: MonthlyReport, fmt: str, adjustments: list[dict] | None = None) -> bytes:
    """One format (csv, xlsx or pdf) of the monthly report; with adjustments, the XLSX and PDF show them."""
    rows = adjustment_rows(adjustments or [])
    if fmt == "csv":
        return b"".join(iter_monthly_csv(report))
    if fmt == "xlsx":
        if not rows:
            return monthly_xlsx_bytes(report)
        buf = io.BytesIO()
        write_xlsx(buf, [*monthly_sheets(report), Sheet(ADJUSTMENTS_TITLE, ADJUSTMENT_COLUMNS, rows)])
        return buf.getvalue()
    if fmt == "pdf":
        if not rows:
            return monthly_pdf_bytes(report)
        buf = io.BytesIO()
        section = Section(ADJUSTMENTS_TITLE, ADJUSTMENT_COLUMNS, _ADJUSTMENT_WIDTHS, frozenset({7}), rows)
        write_pdf(buf, *monthly_title(report), FORMULA, [*monthly_sections(report), section])
        return buf.getvalue()
    raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")


def monthly_files(report: MonthlyReport, adjustments: list[dict] | None = None) -> dict[str, bytes]:
    """format -> bytes of the monthly report in every format a closed month freezes."""
    return {fmt: monthly_file(report, fmt, adjustments) for fmt in FORMATS}
