"""Report tables as PDF with fpdf2: A4 landscape, embedded Noto fonts shaped by HarfBuzz so Devanagari prints.

One table per section, each starting on a new page, the header row repeated on every page, numbers
right-aligned, cells cut to fit with '..', a footnote and 'page N of M' on every page. Text is set in Noto
Sans with Noto Sans Devanagari as fpdf2's fallback font (Debian's fonts-noto-core), so Latin and Devanagari
mix in one cell. Sections with Devanagari get rows 15% taller: its vowel signs reach above and below the line.

Speed (a 500-employee month is ~40,000 cells): fpdf2's cell() with shaping costs ~0.5-1 ms a cell (bidi,
fragments, three HarfBuzz runs), so only text that needs shaping goes through it, once per distinct string:
its operators are taken back out of the page and drawn from then on inside q/cm/Q, moved to each place and
scaled to each size (a name is in the per-employee table, the grid at a smaller size, the late and absent
lists). Plain Latin text needs no shaping: its glyph codes (fpdf2's font subset) and widths are cached per
string, each (column, value) of a table is fitted and placed once, and a row's plain cells go out as one
text object. What is left is fpdf2's cell() once per distinct shaped string (~1 ms: 5,000 distinct names
take ~5 s). This leans on three fpdf2 internals, each in one place below: the page's content buffer, _out()
and the page resource catalogue (fpdf2 is pinned below 3).
"""

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fpdf import FPDF
from fpdf.enums import PDFResourceType
from fpdf.fonts import TTFFont

from central_server.errors import DomainError

PAGE_W, PAGE_H = 842.0, 595.0  # A4 landscape, points
MARGIN = 28.0
FONT_SIZE = 7.0
LEADING = 10.0  # at FONT_SIZE; other sizes scale it
DEVANAGARI_LEADING = 1.15  # the extra line height Devanagari's marks above and below the line need
TITLE_BASELINE, SUBTITLE_BASELINE = MARGIN + 12, MARGIN + 26  # from the top of the page
TABLE_TOP = PAGE_H - MARGIN - 40  # the header row's baseline, from the bottom
TABLE_BOTTOM = MARGIN + 16  # above the footer, from the bottom
FONT_DIR = Path("/usr/share/fonts/truetype/noto")
FONT_FILES = {("NotoSans", ""): "NotoSans-Regular.ttf", ("NotoSans", "B"): "NotoSans-Bold.ttf",
              ("NotoSansDevanagari", ""): "NotoSansDevanagari-Regular.ttf",
              ("NotoSansDevanagari", "B"): "NotoSansDevanagari-Bold.ttf"}
LATIN, FALLBACK = "NotoSans", "NotoSansDevanagari"
_DEVANAGARI = re.compile("[\u0900-\u097f\ua8e0-\ua8ff\u1cd0-\u1cff]")
_FONT_OP = re.compile(rb"/F(\d+) ")
_TEXT_START = re.compile(rb"BT (-?[\d.]+) (-?[\d.]+) Td")  # where cell() starts its text
_VIRAMA_JOINERS = {"\u094d", "\u200c", "\u200d"}  # a consonant after these belongs to the same conjunct


class ReportFontsMissing(DomainError):
    """The Noto fonts the PDF reports embed are not installed."""

    status_code = 503


@dataclass(frozen=True)
class Section:
    """A table: its title, columns, relative column widths, which columns are numbers (right-aligned), its
    rows; optionally centred columns, a smaller font (wide tables) and a note right of the subtitle."""

    title: str
    columns: tuple[str, ...]
    widths: tuple[float, ...]
    numeric: frozenset[int]
    rows: Sequence[tuple]
    centered: frozenset[int] = frozenset()
    font_size: float = FONT_SIZE
    note: str = ""


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def has_devanagari(section: Section) -> bool:
    """Whether any heading or cell of the section holds Devanagari (then all its rows are taller)."""
    texts = (v for row in section.rows for v in row if isinstance(v, str) and not v.isascii())
    return any(_DEVANAGARI.search(t) for t in (*[c for c in section.columns if not c.isascii()], *texts))


def leading(section: Section) -> float:
    base = LEADING * section.font_size / FONT_SIZE
    return base * DEVANAGARI_LEADING if has_devanagari(section) else base


def rows_per_page(line: float) -> int:
    """Data rows under the header row, at this row height."""
    return int((TABLE_TOP - line - TABLE_BOTTOM) // line)


ROWS_PER_PAGE = rows_per_page(LEADING)  # Latin-only tables at FONT_SIZE


def _chunks(section: Section, line: float) -> list[Sequence[tuple]]:
    n = rows_per_page(line)
    return [section.rows[i:i + n] for i in range(0, len(section.rows), n)] or [[]]


def pages_needed(sections: Sequence[Section], lines: Sequence[float] | None = None) -> int:
    """Pages the sections take: each starts on a new page; an empty table still takes one. lines: each
    section's leading(), when known already (it reads every cell)."""
    lines = [leading(s) for s in sections] if lines is None else lines
    return sum(max(1, math.ceil(len(s.rows) / rows_per_page(line))) for s, line in zip(sections, lines,
                                                                                        strict=True))


def check_fonts(font_dir: Path = FONT_DIR) -> dict[tuple[str, str], Path]:
    """The font files by (family, style); ReportFontsMissing names the missing ones and the package."""
    paths = {key: font_dir / name for key, name in FONT_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ReportFontsMissing(f"PDF reports need the Noto fonts, missing: {', '.join(missing)}; install "
                                 "the Debian package fonts-noto-core (apt-get install fonts-noto-core)")
    return paths


def clusters(s: str) -> list[str]:
    """s as units a cut may not split: a base letter with its marks, and a Devanagari conjunct (consonants
    joined by virama) with its vowel signs; cutting inside one would leave a broken glyph."""
    out: list[str] = []
    for c in s:
        if out and (unicodedata.category(c).startswith("M") or c in _VIRAMA_JOINERS
                    or out[-1][-1] in _VIRAMA_JOINERS):
            out[-1] += c
        else:
            out.append(c)
    return out


# A shaped text as fpdf2's cell() wrote it: its operators, the x and y (from the bottom) of the baseline they
# start at, the size they were written at, the font the cell starts in, and every font the operators name.
_Shaped = tuple[bytes, float, float, float, int, tuple[int, ...]]


class _Writer:
    """One document: fpdf2 set up with the fonts, plus the per-string caches that keep it fast."""

    def __init__(self, fonts: dict[tuple[str, str], Path]) -> None:
        pdf = self.pdf = FPDF(orientation="L", unit="pt", format="A4")
        pdf.set_auto_page_break(False)  # pages are laid out here, so each gets its header row
        pdf.set_margins(0, 0, 0)
        pdf.c_margin = 0
        for (family, style), path in fonts.items():
            pdf.add_font(family, style, str(path))
        pdf.set_fallback_fonts([FALLBACK])
        pdf.set_text_shaping(True)
        pdf.alias_nb_pages("")  # page numbers are known up front; '{nb}' in a name stays as written
        pdf.set_font(LATIN, "", FONT_SIZE)
        self.latin = {style: pdf.fonts[LATIN.lower() + style] for style in ("", "B")}
        self.fallback = {style: pdf.fonts[FALLBACK.lower() + style] for style in ("", "B")}
        self.widths: dict[tuple[str, str], float] = {}
        self.fitted: dict[tuple[str, str, float, float], str] = {}
        self.shaped: dict[tuple[str, str], _Shaped] = {}
        self.encoded: dict[tuple[str, str], str] = {}
        self.registered: set[tuple[int, int]] = set()

    def plain(self, s: str, style: str) -> bool:
        """Text the Latin font draws without shaping: ASCII, or Latin letters and punctuation it has."""
        if s.isascii():
            return True
        cmap = self.latin[style].cmap
        return all((o < 0x300 or 0x2000 <= o < 0x20d0) and o in cmap for o in map(ord, s))

    def width(self, s: str, style: str, size: float) -> float:
        # Kept per string at 1 pt: advances scale with the size, so one measure serves every size.
        key = (s, style)
        w = self.widths.get(key)
        if w is None:
            if self.plain(s, style):
                w = self.latin[style].get_text_width(s, 1, None)[1]
            else:
                shaping = self.pdf.text_shaping
                w = sum(font.get_text_width(run, 1, shaping)[1] for font, run in self._runs(s, style))
            self.widths[key] = w
        return w * size

    def _base_font(self, s: str, style: str) -> TTFFont:
        """The font fpdf2 starts a shaped cell in: the Devanagari font when it has every character (digits,
        spaces and punctuation too), so the cell is one run; else Latin, with fallback to Devanagari."""
        fallback = self.fallback[style]
        return fallback if all(ord(c) in fallback.cmap for c in s) else self.latin[style]

    def _runs(self, s: str, style: str) -> list[tuple[TTFFont, str]]:
        """s split as fpdf2 splits a cell: runs of characters in the base font, the others in the fallback
        font where it has them. Measuring these runs gives fpdf2's shaped width without its bidi and fragment
        work (3x slower)."""
        base = self._base_font(s, style)
        fallback = self.fallback[style]
        runs: list[tuple[TTFFont, str]] = []
        for c in s:
            font = fallback if ord(c) not in base.cmap and ord(c) in fallback.cmap else base
            if runs and runs[-1][0] is font:
                runs[-1] = (font, runs[-1][1] + c)
            else:
                runs.append((font, c))
        return runs

    def fit(self, s: str, room: float, style: str, size: float) -> str:
        """s cut to fit room points, ending in '..' when cut (whole clusters only)."""
        key = (s, style, size, room)
        hit = self.fitted.get(key)
        if hit is not None:
            return hit
        out = s
        if self.width(s, style, size) > room:
            parts = clusters(s)
            lo, hi = 0, len(parts) - 1  # the longest prefix that fits with '..' has lo..hi clusters
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if self.width("".join(parts[:mid]) + "..", style, size) <= room:
                    lo = mid
                else:
                    hi = mid - 1
            out = "".join(parts[:lo]).rstrip() + ".."
        self.fitted[key] = out
        return out

    def _use_fonts(self, fonts: Sequence[int]) -> None:
        """List fonts in the page's resources, as fpdf2 does for what it draws itself."""
        for i in fonts:
            if (self.pdf.page, i) not in self.registered:
                self.registered.add((self.pdf.page, i))
                self.pdf._resource_catalog.add(PDFResourceType.FONT, i, self.pdf.page)

    def row(self, cells: Sequence[tuple[str, float]], baseline: float, style: str, size: float) -> None:
        """Texts each with its left end at x, on one baseline (points from the top of the page), in order (so
        text extraction reads the row as it stands).

        Runs of plain texts go into one text object each, their glyph codes cached per string, wrapped in q/Q
        so the font it sets does not leak into what fpdf2 believes the page's font is."""
        font = self.latin[style]
        y = PAGE_H - baseline
        ops: list[str] = []
        for text, x in cells:
            if self.plain(text, style):
                enc = self.encoded.get((text, style))
                if enc is None:  # "(...) Tj"; the glyphs are now in the font's subset
                    enc = self.encoded[(text, style)] = font.encode_text(text)
                ops.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm {enc}")
            else:
                self._plain_out(ops, font, size)
                ops = []
                self.shape(text, x, baseline, style, size)
        self._plain_out(ops, font, size)

    def body_row(self, row: tuple, baseline: float, section: Section, cols: list[tuple[float, float]],
                 placed: dict) -> None:
        """A table row: like row(), but each (column, value) is fitted, placed and encoded once per section
        (placed), since the same marks and numbers fill most cells; only the baseline changes."""
        if len(row) != len(cols):
            raise ValueError(f"{section.title}: a row of {len(row)} cells under {len(cols)} columns")
        font, size = self.latin[""], section.font_size
        y = f" {PAGE_H - baseline:.2f} Tm "
        ops: list[str] = []
        for i, value in enumerate(row):
            if value is None or value == "":
                continue
            key = (i, value.__class__, value)
            hit = placed.get(key)
            if hit is None:
                hit = placed[key] = self._place(value, i, section, cols[i])
            x, start, enc, shaped = hit
            if shaped is None:
                if enc:
                    ops.append(start + y + enc)
            else:
                self._plain_out(ops, font, size)
                ops = []
                self.shape(shaped, x, baseline, "", size)
        self._plain_out(ops, font, size)

    def _place(self, value: object, i: int, section: Section,
               col: tuple[float, float]) -> tuple[float, str, str, str | None]:
        """(x, the text matrix up to the baseline, the encoded text, or the text to shape) of a cell."""
        text = cell(value)
        if not text:
            return 0.0, "", "", None
        x, w = col
        text = self.fit(text, w - 3, "", section.font_size)
        x = _cell_x(self, text, i, x, w, section, "")
        if not self.plain(text, ""):
            return x, "", "", text
        enc = self.encoded.get((text, ""))
        if enc is None:
            enc = self.encoded[(text, "")] = self.latin[""].encode_text(text)
        return x, f"1 0 0 1 {x:.2f}", enc, None

    def _plain_out(self, ops: list[str], font: TTFFont, size: float) -> None:
        if ops:
            self._use_fonts((font.i,))
            self.pdf._out(f"q BT /F{font.i} {size:.2f} Tf\n" + "\n".join(ops) + "\nET Q")

    def draw(self, text: str, x: float, baseline: float, style: str, size: float) -> None:
        self.row(((text, x),), baseline, style, size)

    def shape(self, s: str, x: float, baseline: float, style: str, size: float) -> None:
        """s shaped by fpdf2 (HarfBuzz, fallback font) once; its operators drawn, moved into place."""
        pdf = self.pdf
        hit = self.shaped.get((s, style))
        if hit is None:
            hit = self.shaped[(s, style)] = self._capture(s, style, size)
        ops, x0, y0, size0, base_i, fonts = hit
        self._use_fonts(fonts)
        # The kept operators place text absolutely, so a transformation moves them and scales them to this
        # size (glyph advances scale with the size). The first Tf makes them independent of the font the page
        # has set; q/Q keeps whatever they change to themselves.
        k = size / size0
        pdf._out(b"q %.4f 0 0 %.4f %.3f %.3f cm BT /F%d %.2f Tf ET\n%s\nQ"
                 % (k, k, x - k * x0, PAGE_H - baseline - k * y0, base_i, size0, ops))

    def _capture(self, s: str, style: str, size: float) -> _Shaped:
        """fpdf2's cell() operators for s, taken back out of the page."""
        pdf = self.pdf
        base = self._base_font(s, style)
        pdf.set_font(LATIN if base is self.latin[style] else FALLBACK, style, size)
        contents = pdf.pages[pdf.page].contents  # a bytearray that _out() appends to
        start = len(contents)
        pdf.set_xy(MARGIN, MARGIN)
        pdf.cell(w=self.width(s, style, size), h=size, text=s)
        ops = bytes(contents[start:])
        del contents[start:]
        # Taken out, so the font fpdf2 set for the page with them is gone too: let it set it again.
        pdf.current_font_is_set_on_page = False
        origin = _TEXT_START.search(ops)
        if origin is None:  # nothing drawable (e.g. only glyphs no font has)
            return b"", 0.0, 0.0, size, base.i, ()
        fonts = tuple({int(i) for i in _FONT_OP.findall(ops)} | {base.i})
        return ops, float(origin[1]), float(origin[2]), size, base.i, fonts

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.pdf.line(x1, y1, x2, y2)


def _layout(section: Section) -> list[tuple[float, float]]:
    """(x, width) of each column, scaled to the printable width."""
    scale = (PAGE_W - 2 * MARGIN) / sum(section.widths)
    out, x = [], MARGIN
    for w in section.widths:
        out.append((x, w * scale))
        x += w * scale
    return out


def _cell_x(doc: _Writer, text: str, i: int, x: float, w: float, section: Section, style: str) -> float:
    if i in section.numeric:
        return x + w - 2 - doc.width(text, style, section.font_size)
    if i in section.centered:
        return x + (w - doc.width(text, style, section.font_size)) / 2
    return x + 1


def _table_page(doc: _Writer, section: Section, rows: Sequence[tuple], cols: list[tuple[float, float]],
                line: float, title: str, subtitle: str, footnote: str, page_no: int, pages: int,
                placed: dict) -> None:
    pdf, size = doc.pdf, section.font_size
    pdf.add_page()
    doc.draw(f"{title} - {section.title}", MARGIN, TITLE_BASELINE, "B", 12)
    doc.draw(subtitle, MARGIN, SUBTITLE_BASELINE, "", 8)
    if section.note:
        doc.draw(section.note, PAGE_W - MARGIN - doc.width(section.note, "", 7), SUBTITLE_BASELINE, "", 7)
    y = PAGE_H - TABLE_TOP
    labels = [doc.fit(name.replace("_", " "), w - 3, "B", size) for name, (x, w) in zip(section.columns, cols,
                                                                                         strict=True)]
    doc.row([(label, _cell_x(doc, label, i, x, w, section, "B")) for i, (label, (x, w)) in enumerate(zip(
        labels, cols, strict=True))], y, "B", size)
    pdf.set_line_width(0.4)
    doc.line(MARGIN, y + 3, PAGE_W - MARGIN, y + 3)
    for row in rows:
        y += line
        doc.body_row(row, y, section, cols, placed)
    bottom = PAGE_H - TABLE_BOTTOM + 2
    doc.line(MARGIN, bottom, PAGE_W - MARGIN, bottom)
    doc.draw(footnote, MARGIN, PAGE_H - MARGIN, "", 6.5)
    label = f"page {page_no} of {pages}"
    doc.draw(label, PAGE_W - MARGIN - doc.width(label, "", 7), PAGE_H - MARGIN, "", 7)


def write_pdf(target: Path | BinaryIO, title: str, subtitle: str, footnote: str, sections: Sequence[Section],
              *, font_dir: Path = FONT_DIR) -> int:
    """Write the sections as a PDF; returns the number of pages. ReportFontsMissing without the Noto fonts."""
    doc = _Writer(check_fonts(font_dir))
    lines = [leading(s) for s in sections]
    pages = pages_needed(sections, lines)
    page_no = 0
    for section, line in zip(sections, lines, strict=True):
        cols = _layout(section)
        placed: dict = {}  # (column, value) -> where and what, for this section's layout
        for rows in _chunks(section, line):
            page_no += 1
            _table_page(doc, section, rows, cols, line, title, subtitle, footnote, page_no, pages, placed)
    data = doc.pdf.output()
    if isinstance(target, Path | str):
        Path(target).write_bytes(data)
    else:
        target.write(data)
    return pages
