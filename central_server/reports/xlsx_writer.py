"""A small streaming XLSX (Office Open XML) writer: inline strings, numbers, a bold frozen header row.

Written here rather than taken from a library because it is the fastest measured way (see the reports
README text in central_server/reports/__init__.py) and needs nothing: rows go straight into a deflated zip
member, so memory does not grow with the sheet.
"""

import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_ROWS_PER_WRITE = 500


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[str, ...]
    rows: Iterable[tuple]


def column_letters(n: int) -> list[str]:
    out = []
    for i in range(n):
        name, i = "", i + 1
        while i:
            i, rem = divmod(i - 1, 26)
            name = chr(65 + rem) + name
        out.append(name)
    return out


def _text(value: str) -> str:
    return escape(_CONTROL.sub("", value))


def _row_xml(r: int, letters: list[str], values: tuple, style: str = "") -> str:
    cells = []
    for col, v in zip(letters, values, strict=False):
        if v is None or v == "":
            continue
        if isinstance(v, bool) or not isinstance(v, int | float):
            cells.append(f'<c r="{col}{r}" t="inlineStr"{style}><is><t>{_text(str(v))}</t></is></c>')
        else:
            cells.append(f'<c r="{col}{r}"{style}><v>{v!r}</v></c>' if isinstance(v, float)
                         else f'<c r="{col}{r}"{style}><v>{v}</v></c>')
    return f'<row r="{r}">{"".join(cells)}</row>'


_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
               ' state="frozen"/></sheetView></sheetViews><sheetData>')


def _write_sheet(zf: zipfile.ZipFile, index: int, sheet: Sheet) -> None:
    letters = column_letters(len(sheet.columns))
    with zf.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True) as f:
        f.write(_SHEET_HEAD.encode())
        f.write(_row_xml(1, letters, sheet.columns, ' s="1"').encode())
        chunk = []
        for r, row in enumerate(sheet.rows, 2):
            chunk.append(_row_xml(r, letters, row))
            if len(chunk) >= _ROWS_PER_WRITE:
                f.write("".join(chunk).encode())
                chunk = []
        f.write(("".join(chunk) + "</sheetData></worksheet>").encode())


def sheet_name(name: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique."""
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'")[:31] or "Sheet"
    out, n = base, 1
    while out.lower() in taken:
        n += 1
        out = f"{base[:28]}_{n}"
    taken.add(out.lower())
    return out


def write_xlsx(target: Path | BinaryIO, sheets: list[Sheet]) -> None:
    """Write a workbook with these sheets (in order) to a path or a binary file."""
    taken: set[str] = set()
    names = [sheet_name(s.name, taken) for s in sheets]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _content_types(len(sheets)))
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _workbook(names))
        zf.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        zf.writestr("xl/styles.xml", _STYLES)
        for i, sheet in enumerate(sheets, 1):
            _write_sheet(zf, i, sheet)


_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')

_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
           '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill>'
           '<fill><patternFill patternType="gray125"/></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
           '</styleSheet>')


def _content_types(n: int) -> str:
    sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                     f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, n + 1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' + sheets + '</Types>')


def _workbook(names: list[str]) -> str:
    sheets = "".join(f'<sheet name="{escape(n, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                     for i, n in enumerate(names, 1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets>{sheets}</sheets></workbook>')


def _workbook_rels(n: int) -> str:
    rels = "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, n + 1))
    styles = (f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
              'relationships/styles" Target="styles.xml"/>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{rels}{styles}</Relationships>')
