"""CSV import of employees and sites: every row checked first, then all imported or none (all-or-nothing)."""

import csv
import io
from dataclasses import dataclass

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError

from central_server.db.schema import departments, employees, shifts, sites
from central_server.errors import Invalid
from central_server.org.employees import create_employee, set_site_details
from central_server.org.schemas import EmployeeCreate, SiteCreate, SiteDetails
from central_server.org.sites import create_site
from hajiri_common.strict import Strict

MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
EMPLOYEE_COLUMNS = ("employee_id", "name", "role", "site_id", "department_id", "shift_id", "mobile", "joined_on",
                    "left_on")
SITE_COLUMNS = ("site_id", "name", "kind", "department_id", "district", "lat", "lon", "curfew", "go_live_on")
REQUIRED = {"employees": ("employee_id", "name", "site_id"), "sites": ("site_id", "name")}


@dataclass(frozen=True)
class RowError:
    row: int  # the line in the file: the header is row 1, the first data row is row 2
    column: str | None
    message: str


class ImportFailed(Invalid):
    """The file was refused; nothing from it was imported. The answer lists every problem."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s); nothing imported")
        self.errors = errors

    @property
    def detail(self) -> dict:
        return {"message": str(self),
                "errors": [{"row": r.row, "column": r.column, "message": r.message} for r in self.errors]}


class SiteRow(SiteCreate, SiteDetails):
    pass


def _read(data: bytes, columns: tuple[str, ...], kind: str) -> tuple[list[tuple[int, dict]], list[RowError]]:
    """The data rows (line number, non-empty values) and the rows too malformed to read."""
    if len(data) > MAX_CSV_BYTES:
        raise ImportFailed([RowError(0, None, f"file is {len(data)} bytes, more than {MAX_CSV_BYTES}")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ImportFailed([RowError(0, None, f"not UTF-8 text (byte {e.start}); save the CSV as UTF-8")]) from e
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    errors = [RowError(1, h, f"unknown column; the columns are: {', '.join(columns)}")
              for h in header if h not in columns]
    errors += [RowError(1, c, "required column is missing") for c in REQUIRED[kind] if c not in header]
    if len(set(header)) != len(header):
        errors.append(RowError(1, None, "a column appears twice"))
    if errors:
        raise ImportFailed(errors)
    rows = []
    for line in reader:
        if not any(v.strip() for v in line):
            continue  # blank lines are not rows
        if len(line) != len(header):
            errors.append(RowError(reader.line_num, None, f"{len(line)} fields, the header has {len(header)}"))
            continue
        rows.append((reader.line_num, {h: v.strip() for h, v in zip(header, line, strict=True) if v.strip()}))
        if len(rows) > MAX_ROWS:
            raise ImportFailed([RowError(reader.line_num, None, f"more than {MAX_ROWS} rows; split the file")])
    if not rows and not errors:
        raise ImportFailed([RowError(2, None, "the file has a header but no rows")])
    return rows, errors


def _validate(model: type[Strict | BaseModel], line: int, values: dict, errors: list[RowError]):
    try:
        return model.model_validate(values)
    except ValidationError as e:
        for err in e.errors():
            column = str(err["loc"][0]) if err["loc"] else None
            errors.append(RowError(line, column, err["msg"]))
        return None


def _known(conn: sa.Connection, column: sa.Column) -> set[str]:
    return {r[0] for r in conn.execute(sa.select(column))}


def _check_unique(line: int, key: str, column: str, seen: dict[str, int], taken: set[str],
                  errors: list[RowError]) -> None:
    if key in taken:
        errors.append(RowError(line, column, f"{key!r} already exists"))
    elif key in seen:
        errors.append(RowError(line, column, f"{key!r} repeats row {seen[key]}"))
    seen[key] = line


def import_employees(conn: sa.Connection, data: bytes, *, actor: str, site_scope: str | None = None) -> int:
    """All rows or none; ImportFailed lists every problem (row, column, message)."""
    rows, errors = _read(data, EMPLOYEE_COLUMNS, "employees")
    site_ids, dept_ids, shift_ids = _known(conn, sites.c.site_id), _known(conn, departments.c.department_id), \
        _known(conn, shifts.c.shift_id)
    taken, seen, good = _known(conn, employees.c.employee_id), {}, []
    for line, values in rows:
        emp = _validate(EmployeeCreate, line, values, errors)
        if emp is None:
            continue
        _check_unique(line, emp.employee_id, "employee_id", seen, taken, errors)
        for column, value, known in (("site_id", emp.site_id, site_ids), ("department_id", emp.department_id,
                                     dept_ids), ("shift_id", emp.shift_id, shift_ids)):
            if value is not None and value not in known:
                errors.append(RowError(line, column, f"{value!r} is not registered"))
        if site_scope is not None and emp.site_id != site_scope:
            errors.append(RowError(line, "site_id", f"this token may import for site {site_scope} only"))
        good.append(emp)
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: e.row))
    for emp in good:
        create_employee(conn, emp.model_dump(), actor=actor)
    return len(good)


def import_sites(conn: sa.Connection, data: bytes, *, actor: str) -> int:
    rows, errors = _read(data, SITE_COLUMNS, "sites")
    dept_ids = _known(conn, departments.c.department_id)
    taken, seen, good = _known(conn, sites.c.site_id), {}, []
    for line, values in rows:
        site = _validate(SiteRow, line, {"kind": "office", **values}, errors)
        if site is None:
            continue
        _check_unique(line, site.site_id, "site_id", seen, taken, errors)
        if (site.lat is None) != (site.lon is None):
            errors.append(RowError(line, "lat" if site.lat is None else "lon", "give both lat and lon, or neither"))
        if site.department_id is not None and site.department_id not in dept_ids:
            errors.append(RowError(line, "department_id", f"{site.department_id!r} is not registered"))
        good.append(site)
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: e.row))
    for site in good:
        create_site(conn, site.site_id, site.name, site.kind, actor=actor)
        details = site.model_dump(include=set(SiteDetails.model_fields))
        if any(v is not None for v in details.values()):
            set_site_details(conn, site.site_id, details, actor=actor)
    return len(good)
