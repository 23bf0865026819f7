"""Report files benchmark: one monthly report written by the old hand-written writers and the new ones.

    python -m bench.report_files [--employees 500 5000] [--repeats 3] [--old-commit 01225b3]

For each size, seeds a month (October 2026, 31 days) of stored days with bench.reports' seeder, gives
every employee a Hindi name ("सुनीता वर्मा", "राजेश कुमार", "क्षितिज त्रिपाठी", ...; two words, three past 480
employees so names stay distinct), builds the monthly report once, then writes it with each writer:

    pdf   every section of reports.export.monthly_sections (per employee, day by day, roll-up, late, absent)
    xlsx  every sheet of reports.export.monthly_sheets
    csv   the per-employee table

The old writers are read from git (`git show <old-commit>:central_server/reports/<writer>.py`, run as a
module made in memory), not copied into the tree. Each writer first writes a one-row file (imports, lazy
set-up: pdf_cold_s is that first new PDF); times are then the best of --repeats runs (the machine is
shared). Whether Devanagari survives: the PDF's text extracted with pypdf holds every sampled name (its
Devanagari code points in order: see tests/central_server/reports/test_report_files.py), the XLSX read back
with openpyxl has every name equal, the CSV decoded as UTF-8 has every name. The last stdout line is one JSON
object:
{"runs": [{"rows": N, "formats": {name: {"old_s", "new_s", "old_bytes", "new_bytes", "old_devanagari_ok",
"new_devanagari_ok", "old_cpu_s", "new_cpu_s"}}}], ...}; *_s are wall seconds, *_cpu_s this process's CPU.
"""

import argparse
import io
import logging
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pypdf
import sqlalchemy as sa

from bench.common import print_result
from bench.reports import MONTH_START, TZ, seed
from central_server.db.engine import make_engine
from central_server.db.migrate import migrate
from central_server.db.schema import employees
from central_server.reports import ReportScope, build_monthly
from central_server.reports.csv_writer import iter_csv
from central_server.reports.export import FORMULA, monthly_sections, monthly_sheets, monthly_title
from central_server.reports.monthly import MONTHLY_COLUMNS, MonthlyReport
from central_server.reports.pdf_writer import Section, write_pdf
from central_server.reports.period import Period
from central_server.reports.xlsx_writer import Sheet, write_xlsx

log = logging.getLogger("bench.report_files")
REPO = Path(__file__).resolve().parents[1]
OLD_COMMIT = "01225b3"  # the last commit with the hand-written PDF and XLSX writers
PDF_GOAL_S = 2.0  # a 500-employee monthly PDF, grid included, on this 2-core machine
FIRST = ("सुनीता", "राजेश", "क्षितिज", "प्रियंका", "मोहन", "अनीता", "विकास", "पूजा", "सुरेश", "कविता", "अमित", "रेखा",
         "दिनेश", "ज्योति", "संजय", "ममता", "राहुल", "सीमा", "अजय", "नेहा", "विनोद", "शालिनी", "पंकज", "ऋचा")
LAST = ("वर्मा", "कुमार", "त्रिपाठी", "सिंह", "शर्मा", "यादव", "गुप्ता", "मिश्रा", "पटेल", "चौहान", "श्रीवास्तव",
        "द्विवेदी", "पांडेय", "ठाकुर", "जोशी", "तिवारी", "दुबे", "सक्सेना", "अग्रवाल", "रस्तोगी")
_DEVANAGARI = re.compile("[\u0900-\u097f]")
_SAMPLE = 40  # names checked in each file


def hindi_name(i: int) -> str:
    """Distinct names: first x last (480), then with a middle name."""
    first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
    n = len(FIRST) * len(LAST)
    return f"{first} {last}" if i < n else f"{first} {FIRST[(i // n) % len(FIRST)]} {last}"


def old_writer(name: str, commit: str) -> types.ModuleType:
    """central_server/reports/<name>.py as it was at commit, as a module (it needs only the stdlib)."""
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:central_server/reports/{name}.py"],
                            check=True, capture_output=True, text=True).stdout
    module = types.ModuleType(f"old_{name}")
    exec(compile(source, f"{commit}:central_server/reports/{name}.py", "exec"), module.__dict__)
    return module


def month_report(n: int, work: Path, rng_seed: int) -> MonthlyReport:
    engine = make_engine(f"sqlite:///{work / f'central-{n}.db'}")
    try:
        migrate(engine)
        seed(engine, n, 31, random.Random(rng_seed))
        with engine.begin() as conn:
            ids = [r[0] for r in conn.execute(sa.select(employees.c.employee_id)
                                              .order_by(employees.c.employee_id))]
            conn.execute(sa.update(employees).where(employees.c.employee_id == sa.bindparam("emp"))
                         .values(name=sa.bindparam("new_name")),
                         [{"emp": e, "new_name": hindi_name(i)} for i, e in enumerate(ids)])
            period = Period(MONTH_START, MONTH_START + timedelta(days=30))
            now = datetime(2026, 11, 25, 12, tzinfo=ZoneInfo(TZ))  # the month is over: no day is pending
            return build_monthly(conn, period, ReportScope(), TZ, now=now)
    finally:
        engine.dispose()


def best_of(repeats: int, write: Callable[[], bytes]) -> tuple[float, float, bytes]:
    """The best wall time and the best CPU time of this process (less swayed by other work on the machine)
    over the runs, and the bytes written."""
    best, best_cpu, data = float("inf"), float("inf"), b""
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        data = write()
        best, best_cpu = min(best, time.perf_counter() - t), min(best_cpu, time.process_time() - c)
    return best, best_cpu, data


def pdf_has(data: bytes, names: list[str]) -> bool:
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    found = "".join(_DEVANAGARI.findall(text))
    return all("".join(_DEVANAGARI.findall(n)) in found for n in names)


def xlsx_has(data: bytes, names: list[str]) -> bool:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    col = MONTHLY_COLUMNS.index("name")
    read = [row[col] for row in book["Monthly"].iter_rows(min_row=2, values_only=True)]
    return read[:len(names)] == names


def csv_has(data: bytes, names: list[str]) -> bool:
    text = data.decode("utf-8-sig")
    return all(n in text for n in names)


def run_size(n: int, repeats: int, old_pdf: types.ModuleType, old_xlsx: types.ModuleType,
             old_csv: types.ModuleType, work: Path, rng_seed: int) -> dict:
    t = time.perf_counter()
    report = month_report(n, work, rng_seed)
    log.info("%d employees: seeded and built in %.1f s", n, time.perf_counter() - t)
    names = [m.name for m in report.employees]
    sample = names[:_SAMPLE]
    sections, sheets, title = monthly_sections(report), monthly_sheets(report), monthly_title(report)
    rows = report.rows()

    def pdf(writer: types.ModuleType) -> Callable[[], bytes]:
        def go() -> bytes:
            buf = io.BytesIO()
            writer.write_pdf(buf, *title, FORMULA, sections)
            return buf.getvalue()
        return go

    def xlsx(writer: Callable) -> Callable[[], bytes]:
        def go() -> bytes:
            buf = io.BytesIO()
            writer(buf, sheets)
            return buf.getvalue()
        return go

    def csv(writer: Callable) -> Callable[[], bytes]:
        return lambda: b"".join(writer(MONTHLY_COLUMNS, rows))

    new_pdf = types.SimpleNamespace(write_pdf=write_pdf)
    cases = {"pdf": (pdf(old_pdf), pdf(new_pdf), pdf_has),
             "xlsx": (xlsx(old_xlsx.write_xlsx), xlsx(write_xlsx), xlsx_has),
             "csv": (csv(old_csv.iter_csv), csv(iter_csv), csv_has)}
    formats = {}
    for name, (old, new, check) in cases.items():
        old_s, old_cpu, old_data = best_of(repeats, old)
        new_s, new_cpu, new_data = best_of(repeats, new)
        formats[name] = {"old_s": round(old_s, 3), "new_s": round(new_s, 3), "old_cpu_s": round(old_cpu, 3),
                         "new_cpu_s": round(new_cpu, 3), "old_bytes": len(old_data),
                         "new_bytes": len(new_data), "old_devanagari_ok": check(old_data, sample),
                         "new_devanagari_ok": check(new_data, sample)}
        log.info("%d employees, %s: %s", n, name, formats[name])
    return {"rows": n, "formats": formats, "pdf_sections_rows": {s.title: len(s.rows) for s in sections},
            "distinct_names": len(set(names))}


def warm_up(old: dict[str, types.ModuleType]) -> float:
    """Write a one-row file with every writer (imports, font loading); returns the new PDF's time."""
    section = Section("warm-up", ("name",), (1,), frozenset(), [(FIRST[0],)])
    sheet = Sheet("warm-up", ("name",), [(FIRST[0],)])
    old["pdf_writer"].write_pdf(io.BytesIO(), "t", "s", "f", [section])
    old["xlsx_writer"].write_xlsx(io.BytesIO(), [sheet])
    write_xlsx(io.BytesIO(), [sheet])
    t = time.perf_counter()
    write_pdf(io.BytesIO(), "t", "s", "f", [section])
    return round(time.perf_counter() - t, 3)


def run_bench(args: argparse.Namespace) -> dict:
    load_at_start = round(os.getloadavg()[0], 2)
    work = Path(tempfile.mkdtemp(prefix="hajiri-bench-report-files-"))
    try:
        old = {name: old_writer(name, args.old_commit) for name in ("pdf_writer", "xlsx_writer",
                                                                    "csv_writer")}
        cold = warm_up(old)
        runs = [run_size(n, args.repeats, old["pdf_writer"], old["xlsx_writer"], old["csv_writer"], work,
                         args.seed) for n in args.employees]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    at_500 = next((r["formats"]["pdf"]["new_s"] for r in runs if r["rows"] == 500), None)
    return {"runs": runs, "old_commit": args.old_commit, "repeats": args.repeats, "pdf_cold_s": cold,
            "pdf_goal_s_500": PDF_GOAL_S,
            "pdf_500_within_goal": None if at_500 is None else at_500 <= PDF_GOAL_S, "cpus": os.cpu_count(),
            "load_avg_1m_at_start": load_at_start, "load_avg_1m_at_end": round(os.getloadavg()[0], 2)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.report_files", description=__doc__.split("\n\n")[0])
    p.add_argument("--employees", type=int, nargs="+", default=[500, 5000], help="sizes (default 500 5000)")
    p.add_argument("--repeats", type=int, default=3, help="runs per writer; the best counts (default 3)")
    p.add_argument("--old-commit", default=OLD_COMMIT,
                   help=f"the commit the old writers are read from (default {OLD_COMMIT})")
    p.add_argument("--seed", type=int, default=7, help="RNG seed (default 7)")
    args = p.parse_args(argv)
    if min(args.employees) < 1 or args.repeats < 1:
        p.error("need --employees >= 1 and --repeats >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # its subsetter tells every table it prunes
    print_result(run_bench(parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
