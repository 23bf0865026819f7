"""Web app benchmark: server time of each office page over a state's worth of data.

    python -m bench.web [--database URL] [--employees 50000] [--sites 900] [--repeat 15]

Seeds (bench.web_seed) N employees in M offices, one of them of 500 people, with a month of kiosk records,
mobile check-ins, stored days, leave, tours and open explanation requests; signs in through /login as each
role; then times each page in-process (the ASGI app through Starlette's TestClient: server time without a
network) after one warm-up request: the presence board of the 500-person office, an employee's month, the
district and state roll-ups for a month and a day, the review page, the map, and the office's monthly report
download as CSV, XLSX and PDF. Baseline in the same run: the JSON API calls that return the same data
(the page's cost beyond its data). The last stdout line is one JSON object; keys `employees`, `sites`,
`pages` (name -> {"p50_ms", "p95_ms", ...}) and `rss_mb` are stable.
"""

import argparse
import logging
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bench.common import machine, peak_rss_mb, print_result
from bench.web_seed import BIG_SITE, MONTH, seed_state
from central_server.access.users import create_user
from central_server.app import create_app
from central_server.config import ServerConfig
from central_server.db.engine import make_engine
from central_server.db.migrate import migrate

log = logging.getLogger("bench.web")
PASSWORD = "bench password 1"
DAY = (MONTH.replace(day=25)).isoformat()
MONTH_S = MONTH.strftime("%Y-%m")
DISTRICT = "District 01"  # holds the 500-person office (office-0000)
GOAL_PAGE_P95_MS = 300
GOAL_DOWNLOAD_S = 2.0
LOGINS = {"admin": ("state_admin", None, None, None), "district": ("district_officer", None, DISTRICT, None),
          "head": ("office_head", BIG_SITE, None, None), "employee": ("employee", BIG_SITE, None, "emp-000000")}


def page_list() -> dict[str, tuple[str, str]]:
    """name -> (login, URL) of every page timed; downloads end in _csv/_xlsx/_pdf."""
    d = quote(DISTRICT)
    download = f"/reports/download?kind=monthly&month={MONTH_S}&site_id={BIG_SITE}&format="
    return {
        "board_500": ("head", f"/sites/{BIG_SITE}?day={DAY}"),
        "employee_month": ("head", f"/employees/emp-000000?month={MONTH_S}&day={DAY}"),
        "district_month": ("district", f"/districts/{d}?month={MONTH_S}"),
        "district_day": ("district", f"/districts/{d}?day={DAY}"),
        "state_month": ("admin", f"/state?month={MONTH_S}"),
        "state_day": ("admin", f"/state?day={DAY}"),
        "review": ("head", "/review"),
        "map": ("head", f"/sites/{BIG_SITE}/map?day={DAY}"),
        "monthly_csv": ("head", download + "csv"),
        "monthly_xlsx": ("head", download + "xlsx"),
        "monthly_pdf": ("head", download + "pdf"),
    }


def api_list() -> dict[str, tuple[str, str]]:
    """The baseline: JSON API calls returning the same data as the page of the same name."""
    base = "/api/v1/reports"
    return {
        "board_500": ("head", f"/api/v1/attendance?site_id={BIG_SITE}&date={DAY}"),
        "employee_month": ("head", f"{base}/monthly?format=json&month={MONTH_S}&employee_id=emp-000000"),
        "district_month": ("district", f"{base}/rollup?format=json&month={MONTH_S}&district={quote(DISTRICT)}"),
        "state_month": ("admin", f"{base}/rollup?format=json&month={MONTH_S}"),
        "review": ("head", "/api/v1/explanations?status=open"),
        "monthly_csv": ("head", f"{base}/monthly?format=csv&month={MONTH_S}&site_id={BIG_SITE}"),
        "monthly_xlsx": ("head", f"{base}/monthly?format=xlsx&month={MONTH_S}&site_id={BIG_SITE}"),
        "monthly_pdf": ("head", f"{base}/monthly?format=pdf&month={MONTH_S}&site_id={BIG_SITE}"),
    }


def sign_in_web(app, username: str) -> TestClient:
    client = TestClient(app)
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"csrf": token, "username": username, "password": PASSWORD},
                    follow_redirects=False)
    if r.status_code != 303:
        raise RuntimeError(f"sign-in as {username} failed: {r.status_code}")
    return client


def api_token(client: TestClient, username: str) -> str:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return r.json()["token"]


def time_get(client: TestClient, url: str, repeat: int, headers: dict | None = None) -> dict:
    """One warm-up, then `repeat` timed GETs: p50/p95 in ms, status, bytes of the answer."""
    t = time.perf_counter()
    first = client.get(url, headers=headers, follow_redirects=False)
    first_ms = (time.perf_counter() - t) * 1000
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        r = client.get(url, headers=headers, follow_redirects=False)
        samples.append((time.perf_counter() - t) * 1000)
    s = np.asarray(samples)
    return {"p50_ms": round(float(np.percentile(s, 50)), 1), "p95_ms": round(float(np.percentile(s, 95)), 1),
            "first_ms": round(first_ms, 1), "status": first.status_code, "bytes": len(r.content)}


def open_database(args: argparse.Namespace, work: Path):
    if args.database:
        from bench.sync import temp_postgres

        url, drop = temp_postgres(args.database)
        return url, "postgresql", drop
    return f"sqlite:///{work / 'central.db'}", "sqlite", None


def run_bench(args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="hajiri-bench-web-"))
    url, database, drop = open_database(args, work)
    engine = make_engine(url)
    try:
        migrate(engine)
        t = time.perf_counter()
        seeded = seed_state(engine, args.employees, args.sites, args.districts, args.big, random.Random(args.seed))
        seed_s = time.perf_counter() - t
        log.info("seeded %s in %.0f s", seeded, seed_s)
        with engine.begin() as conn:
            for username, (role, site_id, district, employee_id) in LOGINS.items():
                create_user(conn, username, PASSWORD, role, actor="bench", site_id=site_id, district=district,
                            employee_id=employee_id)
        app = create_app(ServerConfig(database_url=url, timezone="Asia/Kolkata"), engine=engine,
                         start_ingest=False)
        with TestClient(app) as boot:
            web = {u: sign_in_web(app, u) for u in LOGINS}
            tokens = {u: api_token(boot, u) for u in LOGINS}
            pages = {}
            for name, (login, page_url) in page_list().items():
                pages[name] = time_get(web[login], page_url, args.repeat)
                log.info("%s %s", name, pages[name])
            baseline = {}
            for name, (login, api_url) in api_list().items():
                baseline[name] = time_get(boot, api_url, args.repeat, {"Authorization": f"Bearer {tokens[login]}"})
                log.info("api %s %s", name, baseline[name])
        with engine.connect() as conn:
            day_rows = conn.execute(sa.text("SELECT count(*) FROM attendance_days")).scalar_one()
        views = {k: v for k, v in pages.items() if not k.startswith("monthly_")}
        downloads = {k: v for k, v in pages.items() if k.startswith("monthly_")}
        met = (all(v["status"] == 200 and v["p95_ms"] <= GOAL_PAGE_P95_MS for v in views.values())
               and all(v["status"] == 200 and v["p95_ms"] <= GOAL_DOWNLOAD_S * 1000 for v in downloads.values()))
        return {"employees": seeded["employees"], "sites": seeded["sites"], "pages": pages, "rss_mb": peak_rss_mb(),
                "database": database, "districts": seeded["districts"], "day_rows": day_rows,
                "records": seeded["records"], "checkins": seeded["checkins"],
                "explanations": seeded["explanations"], "seed_s": round(seed_s, 1), "repeat": args.repeat,
                "baseline_api": baseline, "goal": {"page_p95_ms": GOAL_PAGE_P95_MS, "download_s": GOAL_DOWNLOAD_S},
                "goal_met": met, "machine": machine()}
    finally:
        engine.dispose()
        if drop is not None:
            drop()
        shutil.rmtree(work, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.split("\n\n")[0])
    p.add_argument("--database", default=None,
                   help="PostgreSQL URL; a temporary database is created beside it and dropped (default SQLite)")
    p.add_argument("--employees", type=int, default=50_000, help="employees in all (default 50000)")
    p.add_argument("--sites", type=int, default=900, help="offices (default 900)")
    p.add_argument("--districts", type=int, default=50, help="districts (default 50)")
    p.add_argument("--big", type=int, default=500, help="people in the office the board is opened on (500)")
    p.add_argument("--repeat", type=int, default=15, help="timed requests per page after a warm-up (15)")
    p.add_argument("--seed", type=int, default=7, help="RNG seed (default 7)")
    args = p.parse_args(argv)
    if not 2 <= args.sites <= args.employees or not 1 <= args.districts <= args.sites or args.repeat < 1:
        p.error("need 2 <= --sites <= --employees, 1 <= --districts <= --sites and --repeat >= 1")
    if args.big >= args.employees - args.sites:
        p.error("--big must leave employees for the other offices")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    print_result(run_bench(parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
