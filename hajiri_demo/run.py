"""`hajiri demo`: broker, central server, one kiosk replaying a walk-past and its sync agent, all on loopback;
with --serve (always when interactive) also a seeded month at three more sites and one login per role."""

import argparse
import contextlib
import csv
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from hajiri_common.signals import stop_on_signals
from hajiri_demo.configs import write_secret, write_toml
from hajiri_demo.seed_org import seed_device_ids

log = logging.getLogger("hajiri.demo")

DEVICE_ID = "kiosk-demo-01"
SITE_ID = "office-demo"
SITE_NAME = "Demo Office (Collectorate, Block A)"
REPO_SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--headless", action="store_true",
                        help="no interactive wait: run the replay, print the summary JSON line and exit "
                             "(with --serve: once --exit-after-seconds have passed)")
    parser.add_argument("--exit-after-seconds", type=float, default=None,
                        help="stop everything after this many seconds (default: headless 120, else until Ctrl-C)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the demo's broker, databases and logs go (default: a new temp folder)")
    parser.add_argument("--shared-data", type=Path, default=None,
                        help="face data folder (default: ../shared/data when present, else faces from PyPI wheels)")
    parser.add_argument("--people", type=int, default=5, help="how many people to enrol (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed for choosing people, building the replay and (--serve) planning the seeded month")
    parser.add_argument("--http-port", type=int, default=0, help="the server's port: web app and API (default: a free port)")
    parser.add_argument("--replay-fps", type=float, default=None,
                        help="pace the replay (default: as fast as the kiosk runs when headless, else 15)")
    parser.add_argument("--serve", action="store_true",
                        help="also seed a month of attendance at two offices (Sehore, Raisen) and a hostel, create "
                             "one login per role and keep serving until --exit-after-seconds; when headless, print "
                             "a JSON ready line with the web app's URL and the logins first (always on without "
                             "--headless)")


@dataclass
class Demo:
    """The demo's processes and where everything lives; `close()` stops them all."""

    workdir: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    specs: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)
    broker: object | None = None
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    http_port: int = 0
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        """Run `hajiri <argv>` as a child with its output in <workdir>/<name>.log."""
        self.specs[name] = (argv, env or {})
        logf = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        cmd = [sys.executable, "-m", "hajiri_cli", *argv]
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                                start_new_session=True)
        logf.close()
        self.procs[name] = proc
        return proc

    def kill(self, name: str) -> None:
        """SIGKILL, as a power cut or the OOM killer would."""
        proc = self.procs[name]
        proc.kill()
        proc.wait()

    def restart(self, name: str) -> subprocess.Popen:
        argv, env = self.specs[name]
        return self.start(name, argv, env)

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.broker is not None:
            self.broker.stop()

    def api(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> object:
        """One JSON call to the server as the admin (or as `token`, e.g. an employee's phone)."""
        req = urllib.request.Request(self.base_url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token or self.admin_token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"null")


def wait_until(check, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def prepare_faces(work: Path, shared_data: Path | None, people: int, seed: int):
    """Enrol photos in work/photos (deleted once enrolled), the replay's frames and truth in work/frames."""
    import cv2

    from hajiri_demo.faces import load_face_set, load_image
    from hajiri_demo.walkpast import build_demo_walkpast, write_walkpast

    face_set = load_face_set(shared_data, seed=seed, people=people, cache_dir=None)
    photos = work / "photos"
    photos.mkdir()
    with open(photos / "names.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["person_id", "name"])
        for person in face_set.people:
            w.writerow([person.person_id, person.name])
            (photos / person.person_id).mkdir()
            for i, image in enumerate(person.enrol):
                cv2.imwrite(str(photos / person.person_id / f"{i}.jpg"), load_image(image))
    walkpast = build_demo_walkpast(face_set, seed=seed)
    write_walkpast(walkpast, work / "frames")
    return face_set, walkpast


def score_decisions(walkpast, decisions: list[dict]) -> dict:
    """Compare the kiosk's decisions with the replay's ground truth."""
    from hajiri_demo.walkpast import segment_for

    recognised, misidentified, unknown = set(), 0, 0
    for d in decisions:
        seg = segment_for(walkpast, d["first_frame"], d["last_frame"])
        truth = seg.person_id if seg is not None else None
        if d["person_id"] is None:
            unknown += 1
        elif d["person_id"] == truth:
            recognised.add(truth)
        else:
            misidentified += 1  # a stranger named as someone, or one person named as another
    return {"people_recognised": len(recognised), "misidentified": misidentified, "unknown": unknown}


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def start_broker(demo: Demo, extra_devices: tuple[str, ...] = ()) -> None:
    """Mosquitto with accounts for the server, the demo kiosk and any extra (seeded) kiosks."""
    from hajiri_wire.topics import SERVER_USER
    from provisioning.broker import LocalBroker

    demo.passwords = {SERVER_USER: secrets.token_urlsafe(24), DEVICE_ID: secrets.token_urlsafe(24),
                      **{device: secrets.token_urlsafe(24) for device in extra_devices}}
    demo.broker = LocalBroker(demo.workdir / "broker", demo.passwords).start()


def start_server(demo: Demo) -> None:
    """The central server with its ingest worker; waits until it answers."""
    from hajiri_wire.topics import SERVER_USER
    from provisioning.broker import free_port

    work = demo.workdir
    demo.http_port = demo.http_port or free_port()
    server_conf = write_toml(work / "server.toml", {
        "": {"database_url": f"sqlite:///{work / 'central.db'}"},
        "http": {"host": "127.0.0.1", "port": demo.http_port},
        "mqtt": {"host": "127.0.0.1", "port": demo.broker.port, "client_id": "hajiri-demo-ingest"},
    })
    demo.start("server", ["server", "--config", str(server_conf)],
               env={"HAJIRI_ADMIN_TOKEN": demo.admin_token, "HAJIRI_MQTT_PASSWORD": demo.passwords[SERVER_USER]})
    wait_server(demo)


def wait_server(demo: Demo, timeout: float = 60) -> None:
    wait_until(lambda: urllib.request.urlopen(demo.base_url + "/healthz", timeout=2).status == 200, timeout,
               f"the central server to answer /healthz (see {demo.workdir}/server.log)")


def provision_kiosk(demo: Demo) -> Path:
    """The kiosk's identity, registered with the server. Returns the device dir."""
    from provisioning.identity import create_identity

    identity = create_identity(demo.workdir / "device", DEVICE_ID, SITE_ID)
    demo.api("POST", "/api/v1/sites", {"site_id": SITE_ID, "name": SITE_NAME, "kind": "office"})
    demo.api("POST", "/api/v1/devices", {"device_id": DEVICE_ID, "site_id": SITE_ID,
                                         "public_key": identity.public_key_b64})
    return demo.workdir / "device"


def start_sync(demo: Demo, ack_timeout_s: float = 5.0) -> None:
    work = demo.workdir
    password_file = write_secret(work / "device" / "broker_password", demo.passwords[DEVICE_ID])
    # The kiosk's config tells the agent the liveness setting (heartbeat) and where spoof evidence waits.
    kiosk_conf = write_kiosk_config(demo, work / "device", replay_fps=None)
    sync_conf = write_toml(work / "sync.toml", {
        "": {"device_dir": str(work / "device"), "store": str(work / "kiosk.db"), "ack_timeout_s": ack_timeout_s,
             "poll_interval_s": 0.2, "kiosk_config": str(kiosk_conf)},
        "mqtt": {"host": "127.0.0.1", "port": demo.broker.port, "password_file": str(password_file),
                 "reconnect_min_s": 0.5, "reconnect_max_s": 2.0},
    })
    demo.start("sync", ["sync", "--config", str(sync_conf)])


def start_services(demo: Demo, extra_devices: tuple[str, ...] = ()) -> Path:
    """Broker, server (with the kiosk registered), sync agent. Returns the kiosk's device dir."""
    start_broker(demo, extra_devices)
    start_server(demo)
    device_dir = provision_kiosk(demo)
    start_sync(demo)
    return device_dir


def enrol_people(demo: Demo, face_set) -> tuple[dict, dict[str, str]]:
    """The kiosk gallery, the people, and (central side) employees with templates and phone tokens.
    Returns (the enrol report, employee_id -> phone token)."""
    from hajiri_demo.mobile import seed_domain

    work = demo.workdir
    try:
        out = subprocess.run([sys.executable, "-m", "hajiri_cli", "enrol", "--photos", str(work / "photos"),
                              "--out", str(work / "gallery.hjg")], capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"hajiri enrol failed: {out.stderr.strip()}")
        report = json.loads(out.stdout.strip().splitlines()[-1])
        for person in face_set.people:
            demo.api("POST", "/api/v1/people", {"person_id": person.person_id, "name": person.name,
                                                "site_id": SITE_ID})
        # The server gets the photos the kiosk enrolled from (a skipped one has no face or several).
        skipped = {Path(s["photo"]) for s in report["skipped"]}
        tokens = seed_domain(demo, SITE_ID, face_set.people, work / "photos", skip=skipped)
    finally:
        # The enrol photos are raw faces: they go as soon as the templates exist (kiosk and central).
        shutil.rmtree(work / "photos", ignore_errors=True)
    return report, tokens


def run_mobile(demo: Demo, face_set, tokens: dict[str, str]) -> dict:
    """Field staff's check-ins through the API, the explanation requests they and the rules raised, and the
    month's report files: the summary keys mobile_checkins, mobile_flagged, explanations_raised, reports."""
    from hajiri_demo.mobile import send_checkins, write_reports

    results = send_checkins(demo, face_set.people, tokens)
    # Only the walk-past office's: a seeded month (--serve) raises its own late and absent requests elsewhere.
    raised = demo.api("GET", f"/api/v1/explanations?site_id={SITE_ID}")
    return {"mobile_checkins": sum(r["accepted"] for r in results),
            "mobile_flagged": sum(bool(r["flags"]) for r in results),
            "explanations_raised": len(raised),
            "reports": write_reports(f"sqlite:///{demo.workdir / 'central.db'}", demo.workdir / "reports")}


def write_kiosk_config(demo: Demo, device_dir: Path, replay_fps: float | None) -> Path:
    """kiosk.toml, with the server's evidence key so a SPOOF crop can go up sealed to it."""
    work = demo.workdir
    evidence_key = demo.api("GET", "/api/v1/evidence/server-key")["public_key"]
    return write_toml(work / "kiosk.toml", {
        "": {"device_dir": str(device_dir), "store_path": str(work / "kiosk.db"),
             "gallery_path": str(work / "gallery.hjg"), "source": f"folder:{work / 'frames'}",
             "decisions_log": str(work / "decisions.jsonl"), "stats_path": str(work / "kiosk-stats.json"),
             "replay_fps": replay_fps},
        "evidence": {"server_public_key": evidence_key},
    })


def start_kiosk(demo: Demo, device_dir: Path, replay_fps: float | None) -> None:
    kiosk_conf = write_kiosk_config(demo, device_dir, replay_fps)
    demo.start("kiosk", ["kiosk", "--config", str(kiosk_conf)])


def central_record_ids(demo: Demo) -> list[str]:
    """The demo kiosk's record ids the central server holds, for today and (near midnight) yesterday."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo("Asia/Kolkata"))
    ids: list[str] = []
    for day in sorted({(now - timedelta(minutes=30)).date(), now.date()}):
        rows = demo.api("GET", f"/api/v1/attendance?date={day.isoformat()}&site_id={SITE_ID}")["records"]
        ids += [r["record_id"] for r in rows if r["device_id"] == DEVICE_ID]
    return ids


def central_count(demo: Demo) -> int:
    return len(set(central_record_ids(demo)))


def store_counts(work: Path) -> dict[str, int]:
    from kiosk.store import open_store, status_counts

    db = open_store(work / "kiosk.db")
    try:
        return status_counts(db)
    finally:
        db.conn.close()


def summarise(demo: Demo, walkpast) -> dict:
    work = demo.workdir
    stats = json.loads((work / "kiosk-stats.json").read_text()) if (work / "kiosk-stats.json").exists() else {}
    counts = store_counts(work) if (work / "kiosk.db").exists() else {"pending": 0, "acked": 0, "rejected": 0}
    decisions = read_jsonl(work / "decisions.jsonl")
    return {
        "frames": stats.get("frames", 0),
        "faces_detected": stats.get("faces_detected", 0),
        **score_decisions(walkpast, decisions),
        "records_written": sum(counts.values()),
        "records_acked": counts["acked"],
        "records_in_central": central_count(demo),
    }


def seed_and_log_in(demo: Demo, face_set, seed: int, stop: threading.Event) -> list | None:
    """The seeded month (seed_month) and one login per role; returns the logins (None when stopped)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from hajiri_demo.logins import create_logins
    from hajiri_demo.seed_month import SeedingStopped, seed_month
    from hajiri_demo.seed_org import TZ
    from hajiri_demo.seed_plan import plan_month

    try:
        plan = plan_month(seed, datetime.now(ZoneInfo(TZ)).date())
        seeded = seed_month(demo, plan, face_set.strangers, seed, stop.is_set)
        logins = create_logins(demo)
    except SeedingStopped:
        log.info("stopped while seeding the month: no logins, no ready line")
        return None
    except urllib.error.HTTPError as e:  # say what the server refused, not only the status
        raise RuntimeError(f"seeding the month failed: {e.code} {e.url}: {e.read()[:500]!r}") from e
    log.info("seeded month %s to %s in %.1fs: %s", plan.days[0], plan.days[-1], seeded["seconds"], seeded)
    return logins


def announce(demo: Demo, logins: list, headless: bool) -> None:
    """The ready line (headless: one JSON line on stdout, flushed) and the URL with the logins table (stderr;
    also stdout for a person at the terminal)."""
    from hajiri_demo.logins import logins_table, ready_line

    table = logins_table(demo.base_url, logins)
    print(table, file=sys.stderr, flush=True)  # first: whoever reads the ready line may find the table already
    if headless:
        print(json.dumps(ready_line(demo.base_url, logins)), flush=True)
    else:
        print(table, flush=True)


def run(args: argparse.Namespace) -> int:
    headless = args.headless
    budget = args.exit_after_seconds if args.exit_after_seconds is not None else (120.0 if headless else None)
    deadline = None if budget is None else time.monotonic() + budget
    shared = args.shared_data or (REPO_SHARED_DATA if (REPO_SHARED_DATA / "README.md").exists() else None)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hajiri-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if any(workdir.iterdir()):
        print(f"hajiri demo: {workdir} is not empty; give an empty --workdir", file=sys.stderr)
        return 2
    demo = Demo(workdir, http_port=args.http_port)
    with stop_on_signals() as stop:
        try:
            summary, kiosk_rc = run_demo(demo, args, shared, stop, deadline)
        finally:
            demo.close()
    print(json.dumps(summary), flush=True)
    return 0 if kiosk_rc == 0 else 1


def run_demo(demo: Demo, args: argparse.Namespace, shared: Path | None, stop: threading.Event,
             deadline: float | None) -> tuple[dict, int | None]:
    """Everything between setting up the folder and closing the processes; returns (summary, kiosk exit)."""
    headless, workdir = args.headless, demo.workdir
    log.info("demo folder: %s", workdir)
    face_set, walkpast = prepare_faces(workdir, shared, args.people, args.seed)
    log.info("faces: %s, %d people, %d strangers, %d frames", face_set.source_name, len(face_set.people),
             len(face_set.strangers), len(walkpast.frames))
    serve = args.serve or not headless
    device_dir = start_services(demo, tuple(seed_device_ids()) if serve else ())
    _, tokens = enrol_people(demo, face_set)
    replay_fps = args.replay_fps if args.replay_fps is not None else (None if headless else 15.0)
    start_kiosk(demo, device_dir, replay_fps)
    # No token in a URL (it would land in shell history and proxy logs): people sign in at /login.
    print(f"Server: {demo.base_url} (sign in at {demo.base_url}/login)", flush=True)
    print(f"Logs and data: {workdir}", flush=True)
    if serve:  # seeded while the kiosk replays: the ready line comes as soon as the month is in
        logins = seed_and_log_in(demo, face_set, args.seed, stop)
        if logins is not None:
            announce(demo, logins, headless)

    def remaining() -> float:
        return 1e9 if deadline is None else deadline - time.monotonic()

    kiosk = demo.procs["kiosk"]
    while kiosk.poll() is None and remaining() > 0 and not stop.is_set():
        time.sleep(0.2)
    if kiosk.returncode not in (None, 0):
        print(f"hajiri demo: the kiosk failed (exit {kiosk.returncode}); see {workdir}/kiosk.log",
              file=sys.stderr)
    def drained() -> bool:
        counts = store_counts(workdir)
        return counts["pending"] == 0 and central_count(demo) == sum(counts.values())

    # Let the sync agent drain: everything written should be acked and in the central DB.
    with contextlib.suppress(TimeoutError):
        wait_until(drained, max(0.0, min(remaining() - 3, 60.0)), "the sync agent to drain")
    mobile = run_mobile(demo, face_set, tokens)
    if not headless:
        print("Demo running; press Ctrl-C to stop.", flush=True)
    if serve:  # a person (or a test) is using the web app: keep everything up until the time is over
        while not stop.is_set() and remaining() > 0:
            time.sleep(0.5)
    return {**summarise(demo, walkpast), **mobile}, kiosk.returncode
