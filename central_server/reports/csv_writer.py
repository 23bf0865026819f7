"""CSV output streamed in chunks of rows: UTF-8 with a BOM, formula-like text neutralised, halves as 12.5.

Each file has a header line; halves are written as 12.5 and wholes as 12.

The BOM (U+FEFF) opens the file: Excel on Windows reads a CSV without one in the ANSI code page, which turns
Devanagari names into mojibake; with it, Excel, LibreOffice and Python's 'utf-8-sig' read UTF-8.
Text starting with = + - @, a tab or a carriage return (OWASP's list for CSV injection) gets a leading
apostrophe, so '=HYPERLINK(...)' shows as text instead of running. Numbers written from numeric values (-0.5)
stay numbers: only str cells are touched.
"""

import csv
import io
import numbers
from collections.abc import Iterable, Iterator
from pathlib import Path

_ROWS_PER_CHUNK = 500
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: object) -> str:
    if isinstance(value, str):  # most cells: checked first
        text = value
    elif value is None:
        return ""
    elif isinstance(value, float):
        return f"{value:g}"  # days are whole or half: 12.0 -> 12, 12.5 -> 12.5
    elif isinstance(value, int | numbers.Number) and not isinstance(value, bool):
        return str(value)  # a number, negative or not, stays a number
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def iter_csv(columns: Iterable[str], rows: Iterable[tuple]) -> Iterator[bytes]:
    """The CSV as byte chunks, a few hundred rows each (a streamed response); the first opens with the BOM."""
    buf = io.StringIO()
    buf.write(BOM)
    out = csv.writer(buf, lineterminator="\r\n")
    out.writerow([cell_text(c) for c in columns])
    for i, row in enumerate(rows, 1):
        out.writerow([cell_text(v) for v in row])
        if i % _ROWS_PER_CHUNK == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode()


def write_csv(path: Path, columns: Iterable[str], rows: Iterable[tuple]) -> Path:
    with open(path, "wb") as f:
        for chunk in iter_csv(columns, rows):
            f.write(chunk)
    return path
