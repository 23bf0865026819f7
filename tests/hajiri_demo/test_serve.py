"""`hajiri demo --headless --serve`: the ready line's logins work for each role, the seeded month is there through
the API (sites, districts, a hostel; late, absent, leave and tour days; signed kiosk chains), and the final line
keeps its keys and counts."""

import json
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.slow

# Enough for faces, enrolment, the walk-past and the seeded month on a slow shared 2-core machine, and then for
# the test's own calls while everything still runs.
SERVE_SECONDS = 150
# The final line's keys as run.py's summarise and run_mobile give them without --serve.
FINAL_KEYS = {"frames", "faces_detected", "people_recognised", "misidentified", "unknown", "records_written",
              "records_acked", "records_in_central", "mobile_checkins", "mobile_flagged", "explanations_raised",
              "reports"}
SCOPE_KEYS = {"state_admin": set(), "district_officer": {"district"}, "office_head": {"site_id"},
              "warden": {"site_id"}, "it_staff": set(), "employee": {"site_id", "employee_id"}}
SEEDED_KIOSKS = ("kiosk-sehore-01", "kiosk-raisen-01", "kiosk-hostel-sehore-01")


def call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> object:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    req = urllib.request.Request(base + path, method=method, headers=headers,
                                 data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"null")


def json_lines(proc: subprocess.Popen) -> "queue.Queue[dict | None]":
    """The demo's stdout JSON lines as they come (None at the end of its output)."""
    lines: queue.Queue[dict | None] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            if line.startswith("{"):
                lines.put(json.loads(line))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def seeded_months() -> list[str]:
    """The months the seeded window (30 days before today, India time) touches."""
    today = datetime.now(ZoneInfo("Asia/Kolkata")).date()
    first = today - timedelta(days=30)
    return sorted({f"{first:%Y-%m}", f"{today:%Y-%m}"})


@pytest.fixture(scope="module")
def served(tmp_path_factory, mosquitto_available, shared_data):
    """The running demo: (ready line, stderr log path, queue of later JSON lines, the process)."""
    work = tmp_path_factory.mktemp("serve")
    errors = open(work / "stderr.log", "w")  # noqa: SIM115 - the child writes it until it ends
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "hajiri_cli", "demo", "--headless", "--serve",
                             "--exit-after-seconds", str(SERVE_SECONDS), "--workdir", str(work / "demo")],
                            stdout=subprocess.PIPE, stderr=errors, text=True)
    lines = json_lines(proc)
    try:
        ready = lines.get(timeout=SERVE_SECONDS)
        assert ready is not None, (work / "stderr.log").read_text()[-3000:]
        print(f"ready after {time.monotonic() - started:.0f}s")
        yield ready, work / "stderr.log", lines, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(60)
        errors.close()


def test_ready_line_names_the_login_page_and_one_login_per_role(served):
    ready = served[0]
    assert ready["ready"] is True
    assert ready["web"]["url"].startswith("http://127.0.0.1:") and ready["web"]["url"].endswith("/login")
    logins = ready["web"]["logins"]
    assert {role: set(v) - {"username", "password"} for role, v in logins.items()} == SCOPE_KEYS
    assert "Office web app:" in served[1].read_text()  # the table for a person, on stderr


def test_each_role_logs_in_with_its_scope(served):
    ready = served[0]
    base = ready["web"]["url"].removesuffix("/login")
    for role, login in ready["web"]["logins"].items():
        got = call(base, "POST", "/api/v1/auth/login", {"username": login["username"], "password": login["password"]})
        assert got["role"] == role
        assert (got["site_id"], got["district"], got["employee_id"]) == (
            login.get("site_id"), login.get("district"), login.get("employee_id")), role
    try:
        call(base, "POST", "/api/v1/auth/login", {"username": "state.admin", "password": "not-the-password"})
        raise AssertionError("a wrong password logged in")
    except urllib.error.HTTPError as e:
        assert e.code == 401


def login_token(ready: dict, role: str) -> tuple[str, str]:
    base = ready["web"]["url"].removesuffix("/login")
    login = ready["web"]["logins"][role]
    return base, call(base, "POST", "/api/v1/auth/login", {"username": login["username"],
                                                         "password": login["password"]})["token"]


def monthly_rows(base: str, token: str) -> list[dict]:
    return [row for month in seeded_months()
            for row in call(base, "GET", f"/api/v1/reports/monthly?format=json&month={month}", token=token)]


def test_seeded_sites_districts_and_month(served):
    base, admin = login_token(served[0], "state_admin")
    sites = call(base, "GET", "/api/v1/sites", token=admin)
    rows = monthly_rows(base, admin)
    district_of = {r["site_id"]: r["district"] for r in rows if r["district"]}
    seeded = {s["site_id"]: s for s in sites if s["site_id"] in district_of and s["kind"] in ("office", "hostel")}
    assert len(seeded) >= 3 and len({district_of[s] for s in seeded}) >= 2
    assert [s["kind"] for s in sites].count("hostel") == 1
    hostel = next(s for s in sites if s["kind"] == "hostel")
    assert hostel["site_id"] == served[0]["web"]["logins"]["warden"]["site_id"]
    totals = {k: sum(r[k] for r in rows) for k in ("late_count", "absent", "leave", "tour", "weekly_offs",
                                                   "holidays", "present")}
    assert all(totals[k] > 0 for k in totals), totals
    assert totals["present"] > totals["absent"]
    # The offices' geofences and the hostel's curfew came in through the API.
    assert all(call(base, "GET", f"/api/v1/sites/{s}/geofences", token=admin) for s in seeded)
    _, warden = login_token(served[0], "warden")
    yesterday = datetime.now(ZoneInfo("Asia/Kolkata")).date() - timedelta(days=1)
    roll = call(base, "GET", f"/api/v1/rollcall?site_id={hostel['site_id']}&date={yesterday}", token=warden)
    assert len(roll["residents"]) >= 5 and any(r["in_by_curfew"] for r in roll["residents"])


def test_history_is_signed_kiosk_chains_and_phone_checkins(served):
    ready = served[0]
    base, it = login_token(ready, "it_staff")
    for device in SEEDED_KIOSKS:
        chain = call(base, "GET", f"/api/v1/devices/{device}/chain", token=it)
        assert chain["records"] > 100 and chain["whole"] and not chain["problems"] and not chain["bad_signatures"]
    _, head = login_token(ready, "office_head")
    days = [datetime.now(ZoneInfo("Asia/Kolkata")).date() - timedelta(days=n) for n in range(1, 31)]
    phoned = [c for d in days for c in call(base, "GET", f"/api/v1/checkins?date={d}", token=head)]
    assert len(phoned) >= 5 and all("queued_offline" in c["flags"] for c in phoned)


def test_scoped_logins_see_only_their_part(served):
    ready = served[0]
    base, officer = login_token(ready, "district_officer")
    assert {r["district"] for r in monthly_rows(base, officer)} == {ready["web"]["logins"]["district_officer"]
                                                                     ["district"]}
    _, employee = login_token(ready, "employee")
    assert {r["employee_id"] for r in monthly_rows(base, employee)} == {ready["web"]["logins"]["employee"]
                                                                         ["employee_id"]}


def test_final_line_keeps_its_keys_and_counts(served):
    _, errors, lines, proc = served
    final = lines.get(timeout=SERVE_SECONDS + 120)
    assert final is not None, errors.read_text()[-3000:]
    assert proc.wait(60) == 0, errors.read_text()[-3000:]
    assert set(final) == FINAL_KEYS
    # Still the walk-past kiosk's records only: the seeded kiosks' month is not counted in them.
    assert 0 < final["records_written"] == final["records_acked"] == final["records_in_central"] < 100
    assert final["mobile_checkins"] == 6 and final["explanations_raised"] >= 1
