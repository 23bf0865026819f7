"""A small PDF writer for report tables: A4 landscape, the base-14 Helvetica fonts (nothing embedded), one
table per section, a repeated header row, page numbers and a footnote. Text outside Latin-1 prints as '?'
(base-14 fonts have no Devanagari; that would need an embedded TrueType font and shaping)."""

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

PAGE_W, PAGE_H = 842.0, 595.0  # A4 landscape, points
MARGIN = 28.0
FONT_SIZE = 7.0
LEADING = 10.0
TABLE_TOP = PAGE_H - MARGIN - 40  # below the title and subtitle
TABLE_BOTTOM = MARGIN + 16  # above the footer
ROWS_PER_PAGE = int((TABLE_TOP - LEADING - TABLE_BOTTOM) // LEADING)  # data rows under the header row

# Helvetica advance widths (1/1000 em) for ASCII 32..126, from the Adobe AFM; others use 556.
_W = [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
      556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278,
      500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
      556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
      278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584]
_WIDTH = {chr(32 + i): w for i, w in enumerate(_W)}


@dataclass(frozen=True)
class Section:
    """A table: its title, columns, relative column widths, which columns are numbers (right-aligned)."""

    title: str
    columns: tuple[str, ...]
    widths: tuple[float, ...]
    numeric: frozenset[int]
    rows: Sequence[tuple]


def text_width(s: str, size: float = FONT_SIZE) -> float:
    return sum(_WIDTH.get(c, 556) for c in s) * size / 1000.0


def fit(s: str, width: float, size: float = FONT_SIZE) -> str:
    """s cut to fit width points, ending in '..' when cut."""
    if text_width(s, size) <= width:
        return s
    while s and text_width(s + "..", size) > width:
        s = s[:-1]
    return s + ".."


def pdf_text(s: str) -> str:
    s = s.encode("latin-1", "replace").decode("latin-1")
    s = "".join(c if 32 <= ord(c) < 127 or ord(c) >= 160 else "?" for c in s)
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pages_needed(sections: Sequence[Section]) -> int:
    """Pages the sections take: each starts on a new page; an empty table still takes one."""
    return sum(max(1, math.ceil(len(s.rows) / ROWS_PER_PAGE)) for s in sections)


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class _Page:
    def __init__(self) -> None:
        self.ops: list[str] = []

    def text(self, x: float, y: float, s: str, font: str = "F1", size: float = FONT_SIZE) -> None:
        self.ops.append(f"BT /{font} {size:g} Tf {x:.2f} {y:.2f} Td ({pdf_text(s)}) Tj ET")

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.ops.append(f"{x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l S")


def _layout(section: Section) -> list[tuple[float, float]]:
    """(x, width) of each column, scaled to the printable width."""
    scale = (PAGE_W - 2 * MARGIN) / sum(section.widths)
    out, x = [], MARGIN
    for w in section.widths:
        out.append((x, w * scale))
        x += w * scale
    return out


def _table_page(section: Section, rows: Sequence[tuple], cols: list[tuple[float, float]], title: str,
                subtitle: str, footnote: str, page_no: int, pages: int, cache: dict) -> bytes:
    p = _Page()
    p.text(MARGIN, PAGE_H - MARGIN - 12, f"{title} - {section.title}", "F2", 12)
    p.text(MARGIN, PAGE_H - MARGIN - 26, subtitle, "F1", 8)
    y = TABLE_TOP
    for i, (name, (x, w)) in enumerate(zip(section.columns, cols, strict=True)):
        label = fit(name.replace("_", " "), w - 3)
        p.text(x + w - 2 - text_width(label) * 1.05 if i in section.numeric else x + 1, y, label, "F2")
    p.ops.append("0.4 w")
    p.line(MARGIN, y - 3, PAGE_W - MARGIN, y - 3)
    # One text object per row: Td moves are relative, so each cell is a move and a show.
    for row in rows:
        y -= LEADING
        parts, prev = [f"BT /F1 {FONT_SIZE:g} Tf"], None
        for i, (value, (x, w)) in enumerate(zip(row, cols, strict=True)):
            s = cell(value)
            if not s:
                continue
            hit = cache.get((s, w))
            if hit is None:
                fitted = fit(s, w - 3)
                hit = cache[(s, w)] = (fitted, text_width(fitted), pdf_text(fitted))
            tx = x + w - 2 - hit[1] if i in section.numeric else x + 1
            move = f"{tx:.2f} {y:.2f}" if prev is None else f"{tx - prev:.2f} 0"
            parts.append(f"{move} Td ({hit[2]}) Tj")
            prev = tx
        parts.append("ET")
        if len(parts) > 2:
            p.ops.append(" ".join(parts))
    p.line(MARGIN, TABLE_BOTTOM - 2, PAGE_W - MARGIN, TABLE_BOTTOM - 2)
    p.text(MARGIN, MARGIN, footnote, "F1", 6.5)
    page_label = f"page {page_no} of {pages}"
    p.text(PAGE_W - MARGIN - text_width(page_label, 7), MARGIN, page_label, "F1", 7)
    return "\n".join(p.ops).encode("latin-1")


def write_pdf(target: Path | BinaryIO, title: str, subtitle: str, footnote: str,
              sections: Sequence[Section]) -> int:
    """Write the sections as a PDF; returns the number of pages."""
    if isinstance(target, Path | str):
        with open(target, "wb") as f:
            return write_pdf(f, title, subtitle, footnote, sections)
    pages = pages_needed(sections)
    out = _Out(target)
    out.raw(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    first_page_obj = 5
    kids = " ".join(f"{first_page_obj + 2 * i} 0 R" for i in range(pages))
    out.obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    out.obj(2, f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    for num, base in ((3, "Helvetica"), (4, "Helvetica-Bold")):
        out.obj(num, f"<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>".encode())
    page_no, cache = 0, {}
    for section in sections:
        cols = _layout(section)
        chunks = [section.rows[i:i + ROWS_PER_PAGE] for i in range(0, len(section.rows), ROWS_PER_PAGE)] or [[]]
        for rows in chunks:
            page_no += 1
            content = zlib.compress(_table_page(section, rows, cols, title, subtitle, footnote, page_no, pages,
                                                cache), 6)
            obj = first_page_obj + 2 * (page_no - 1)
            out.obj(obj, (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W:g} {PAGE_H:g}] "
                          f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {obj + 1} 0 R >>").encode())
            out.obj(obj + 1, f"<< /Length {len(content)} /Filter /FlateDecode >>\nstream\n".encode() + content
                    + b"\nendstream")
    out.finish()
    return pages


class _Out:
    """Numbered objects written in order, with the byte offsets the xref table needs."""

    def __init__(self, f: BinaryIO) -> None:
        self.f, self.pos, self.offsets = f, 0, {}

    def raw(self, data: bytes) -> None:
        self.f.write(data)
        self.pos += len(data)

    def obj(self, num: int, body: bytes) -> None:
        self.offsets[num] = self.pos
        self.raw(f"{num} 0 obj\n".encode() + body + b"\nendobj\n")

    def finish(self) -> None:
        n = max(self.offsets) + 1
        xref = self.pos
        lines = [f"xref\n0 {n}\n", "0000000000 65535 f \n"]
        lines += [f"{self.offsets[i]:010d} 00000 n \n" for i in range(1, n)]
        lines.append(f"trailer\n<< /Size {n} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n")
        self.raw("".join(lines).encode())
