"""CSV output streamed in chunks of rows: UTF-8, a header line, halves written as 12.5 and wholes as 12."""

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

_ROWS_PER_CHUNK = 500


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"  # days are whole or half: 12.0 -> 12, 12.5 -> 12.5
    return str(value)


def iter_csv(columns: Iterable[str], rows: Iterable[tuple]) -> Iterator[bytes]:
    """The CSV as byte chunks, a few hundred rows each, for a streamed response."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    out.writerow(columns)
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
