"""Report workbooks with XlsxWriter: a bold frozen header row, numbers as numbers, every text as a string.

Text cells go through write_string, never write(), so a name like '=HYPERLINK(...)' or '+cmd|...' is stored as
text and Excel never runs it as a formula; the workbook options say the same for any write() to come. Big
workbooks use XlsxWriter's constant_memory mode: each row goes to a temporary file as it is written, so memory
does not grow with the sheet (strings are then stored inline rather than in the shared table).
"""

import math
import re
from collections.abc import Iterable, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import xlsxwriter

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
# Control characters XML 1.0 does not allow: XlsxWriter would store them as _x0001_ escapes, which readers
# other than Excel show as such; they carry nothing in a report, so they are dropped.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Above this many rows in all sheets (or rows of unknown count) the workbook is written in constant_memory
# mode.
CONSTANT_MEMORY_ROWS = 2_000
_WIDTH_SAMPLE_ROWS = 1_000  # column widths follow the header and the first rows
_MAX_WIDTH, _MIN_WIDTH = 60, 4
_MAX_STRING = 32_767  # Excel's limit for one cell


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name, header row and rows; freeze_columns also keeps that many left columns (e.g.
    the names of a day-by-day grid) in view."""

    name: str
    columns: tuple[str, ...]
    rows: Iterable[tuple]
    freeze_columns: int = 0


def sheet_name(name: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique."""
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'")[:31] or "Sheet"
    out, n = base, 1
    while out.lower() in taken:
        n += 1
        out = f"{base[:28]}_{n}"
    taken.add(out.lower())
    return out


def _total_rows(sheets: list[Sheet]) -> int | None:
    if not all(isinstance(s.rows, Sized) for s in sheets):
        return None
    return sum(len(s.rows) for s in sheets)  # type: ignore[arg-type]


def _write_sheet(book: xlsxwriter.Workbook, name: str, sheet: Sheet, bold: object) -> None:
    ws = book.add_worksheet(name)
    widths = [len(c) for c in sheet.columns]
    for col, heading in enumerate(sheet.columns):
        ws.write_string(0, col, heading, bold)
    ws.freeze_panes(1, sheet.freeze_columns)
    for r, row in enumerate(sheet.rows, 1):
        sample = r <= _WIDTH_SAMPLE_ROWS
        for col, v in enumerate(row):
            if v is None or v == "":
                continue
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                ws.write_number(r, col, v)
                text_len = len(f"{v:g}") if sample else 0
            else:
                text = _CONTROL.sub("", str(v))[:_MAX_STRING]
                ws.write_string(r, col, text)
                text_len = len(text) if sample else 0
            if text_len > widths[col]:
                widths[col] = text_len
    # Widths are set last: XlsxWriter writes the column records when it closes the sheet, also in
    # constant_memory mode.
    for col, w in enumerate(widths):
        ws.set_column(col, col, min(_MAX_WIDTH, max(_MIN_WIDTH, w + 2)))


def write_xlsx(target: Path | BinaryIO, sheets: list[Sheet]) -> None:
    """Write a workbook with these sheets (in order) to a path or a binary file."""
    total = _total_rows(sheets)
    options = {"constant_memory": total is None or total > CONSTANT_MEMORY_ROWS,
               # Defence in depth: write() would otherwise turn '=...' into formulas and 'http...' into links.
               "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    book = xlsxwriter.Workbook(str(target) if isinstance(target, Path) else target, options)
    bold = book.add_format({"bold": True})
    taken: set[str] = set()
    for sheet in sheets:
        _write_sheet(book, sheet_name(sheet.name, taken), sheet, bold)
    book.close()
