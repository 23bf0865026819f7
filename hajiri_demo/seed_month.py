"""Seed the month planned in seed_plan through the server's real paths: the register and calendar over the API,
signed kiosk records in each seeded kiosk's own store sent by its own sync agent, phone check-ins with selfies,
then the days recomputed by the server's day rules."""

import base64
import logging
import math
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from hajiri_demo.mobile import selfie_b64, square
from hajiri_demo.seed_org import SHIFTS, SITES, STAFF, Site
from hajiri_demo.seed_plan import Event, MonthPlan, joined_on

log = logging.getLogger("hajiri.demo")

APP_VERSION = "hajiri-mobile-2.3.1"
SELFIE_STRENGTH = 0.15  # how far each day's selfie differs from the photo it is made from
MAX_ENROL = 3  # templates per field staff member
SELFIE_MARGIN = 0.08  # how clearly a photo must pass the server's checks to become a month's selfie
DRAIN_TIMEOUT_S = 90.0


class SeedingStopped(Exception):
    """SIGINT or SIGTERM came while seeding: the rest is skipped (the demo is ending)."""


def check_stop(stopped: Callable[[], bool]) -> None:
    if stopped():
        raise SeedingStopped("stopped while seeding the month")


def campus(lat: float, lon: float, radius_m: float = 140.0) -> dict:
    """A GeoJSON hexagon-ish campus outline around a point, a little uneven as real compounds are."""
    ring = []
    for i, stretch in enumerate((1.0, 0.8, 1.15, 0.9, 1.05, 0.85)):
        angle = math.radians(60 * i + 15)
        d = radius_m * stretch / 111_195.0
        ring.append([round(lon + d * math.cos(angle) / math.cos(math.radians(lat)), 6),
                     round(lat + d * math.sin(angle), 6)])
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def register_sites(demo) -> dict[str, list[int]]:
    """Shifts, the three sites with details and fences. Returns site_id -> [campus fence, field fence?]."""
    for shift in SHIFTS:
        demo.api("POST", "/api/v1/shifts", shift.body())
    fences: dict[str, list[int]] = {}
    for site in SITES:
        demo.api("POST", "/api/v1/sites", {"site_id": site.site_id, "name": site.name, "kind": site.kind})
        demo.api("PUT", f"/api/v1/sites/{site.site_id}/details",
                 {"district": site.district, "lat": site.lat, "lon": site.lon, "curfew": site.curfew})
        fences[site.site_id] = [demo.api("POST", f"/api/v1/sites/{site.site_id}/geofences",
                                         {"name": "परिसर / campus", "polygon": campus(site.lat, site.lon)})
                                ["geofence_id"]]
        if site.field is not None:
            fences[site.site_id].append(demo.api("POST", f"/api/v1/sites/{site.site_id}/geofences", {
                "name": site.field_name, "polygon": square(site.field[1], site.field[0], 2000.0)})["geofence_id"])
    return fences


def register_staff(demo, plan: MonthPlan, fences: dict[str, list[int]]) -> None:
    """Employees (the server puts each in the kiosks' people register too), allowed their site's fences."""
    for s in STAFF:
        demo.api("POST", "/api/v1/employees", {"employee_id": s.employee_id, "name": s.name, "role": s.role,
                                               "site_id": s.site_id, "shift_id": s.shift_id,
                                               "joined_on": joined_on(s, plan.today).isoformat()})
        allowed = fences[s.site_id] if s.field else fences[s.site_id][:1]
        demo.api("PUT", f"/api/v1/employees/{s.employee_id}/geofences", {"geofence_ids": allowed})


def declare_calendar(demo, plan: MonthPlan) -> None:
    """Holidays, granted leave and tours, as an office records them."""
    for h in plan.holidays:
        for site_id in h.site_ids or (None,):
            demo.api("POST", "/api/v1/holidays", {"day": h.day.isoformat(), "name": h.name, "site_id": site_id})
    for span in plan.leaves:
        demo.api("POST", "/api/v1/leave", {"employee_id": span.employee_id, "from_day": span.first.isoformat(),
                                           "to_day": span.last.isoformat(), "kind": span.what})
    for span in plan.tours:
        demo.api("POST", "/api/v1/tours", {"employee_id": span.employee_id, "from_day": span.first.isoformat(),
                                           "to_day": span.last.isoformat(), "purpose": span.what})


def due(events: list[Event], now: datetime) -> list[Event]:
    """The events that have happened by now (today's later ones have not)."""
    cutoff = now - timedelta(minutes=1)
    return [e for e in events if e.at < cutoff]


def write_kiosk_history(device_dir: Path, store_path: Path, site: Site, events: list[Event]) -> int:
    """The kiosk's identity and its store with the month's records, each signed and chained by the store
    exactly as the kiosk writes them (one boot a day: the kiosk restarts every night)."""
    from edge_models.opencv_runtime import MODEL_VERSION
    from kiosk.store import Observation, append_record, open_store
    from provisioning.identity import create_identity

    identity = create_identity(device_dir, site.device_id, site.site_id)
    db = open_store(store_path)
    # A month written in one go at start-up: an fsync per record (the kiosk's power-loss guarantee) would only
    # make seeding several times slower. Signing and chaining stay the store's own.
    db.execute("PRAGMA synchronous=NORMAL")
    rng = np.random.default_rng(zlib.crc32(site.device_id.encode()))
    try:
        for e in events:
            boot = e.at.replace(hour=0, minute=0, second=0, microsecond=0)  # local midnight: mono_ns >= 0
            known = e.employee_id is not None
            append_record(db, identity, Observation(
                person_id=e.employee_id, event=e.kind, wall_time=e.at.timestamp(),
                boot_id=f"{site.device_id}-{boot.date().isoformat()}",
                mono_ns=int((e.at - boot).total_seconds() * 1e9), clock_synced=True,
                match_score=float(rng.uniform(0.52, 0.86)) if known else float(rng.uniform(0.18, 0.34)),
                liveness_score=float(rng.uniform(0.82, 0.99)), model_version=MODEL_VERSION))
    finally:
        db.conn.close()
    return len(events)


def start_kiosk_sync(demo, site: Site) -> Path:
    """Register the seeded kiosk and run its own sync agent; returns its store (watched until drained)."""
    from hajiri_demo.configs import write_secret, write_toml
    from provisioning.identity import load_identity

    folder = demo.workdir / "seeded" / site.device_id
    identity = load_identity(folder / "device")
    demo.api("POST", "/api/v1/devices", {"device_id": site.device_id, "site_id": site.site_id,
                                         "public_key": identity.public_key_b64})
    password_file = write_secret(folder / "broker_password", demo.passwords[site.device_id])
    conf = write_toml(folder / "sync.toml", {
        "": {"device_dir": str(folder / "device"), "store": str(folder / "kiosk.db"), "batch_size": 200,
             "max_inflight_batches": 8, "ack_timeout_s": 15.0, "poll_interval_s": 0.5,
             "heartbeat_interval_s": 30.0},
        "mqtt": {"host": "127.0.0.1", "port": demo.broker.port, "password_file": str(password_file),
                 "reconnect_min_s": 0.5, "reconnect_max_s": 2.0},
        "downlink": {"state_dir": str(folder / "downlink")},
    })
    demo.start(f"sync-{site.device_id}", ["sync", "--config", str(conf)])
    return folder / "kiosk.db"


def field_faces(strangers: list) -> dict[str, tuple[list, list]]:
    """Field staff's faces for their central templates and selfies: the demo's spare faces (never enrolled at
    the walk-past kiosk), one each. employee_id -> (enrol photos, photos the selfies are made from): the
    clearest single-face photos enrol, as an office would pick them; the month's selfies come from those of
    the person's photos a phone camera would have taken well (see good_selfies)."""
    from hajiri_demo.faces import detect_faces, load_image
    from hajiri_demo.mobile import selfie_photos

    out = {}
    for staff, stranger in zip((s for s in STAFF if s.field), strangers, strict=False):
        ranked = [p for p in selfie_photos(stranger) if len(detect_faces(load_image(p))) == 1]
        if len(ranked) < 2:
            continue
        enrol = ranked[:min(MAX_ENROL, len(ranked) - 1)]
        out[staff.employee_id] = (enrol, good_selfies(enrol, ranked) or ranked)
    return out


def good_selfies(enrol: list, photos: list) -> list:
    """The photos the server's own models read as one live face clearly matching the enrolment: CelebA photos
    are stills from anywhere (other faces, prints, years apart), a selfie is one person at arm's length."""
    import cv2

    from central_server.attendance.face_templates import face_models, match_threshold

    models = face_models()

    def read(photo):  # as the server sees it: the same JPEG the phone sends, decoded
        raw = np.frombuffer(base64.b64decode(selfie_b64(photo)), np.uint8)
        return models.read(cv2.imdecode(raw, cv2.IMREAD_COLOR))

    templates = np.stack([r.embedding for r in map(read, enrol) if r.embedding is not None])
    good = []
    for photo in photos:
        r = read(photo)
        if (r.faces == 1 and r.liveness is not None and r.liveness >= models.fusion.threshold + SELFIE_MARGIN
                and float(np.max(templates @ r.embedding)) >= match_threshold() + SELFIE_MARGIN):
            good.append(photo)
    return good


def enrol_field_staff(demo, faces: dict[str, tuple[list, list]]) -> dict[str, str]:
    """Central templates (when there is a face for them) and a phone token for each field staff member."""
    tokens = {}
    for s in (s for s in STAFF if s.field):
        if s.employee_id in faces:
            demo.api("POST", f"/api/v1/employees/{s.employee_id}/templates",
                     {"photos_b64": [selfie_b64(p) for p in faces[s.employee_id][0]]})
        tokens[s.employee_id] = demo.api("POST", f"/api/v1/employees/{s.employee_id}/token")["token"]
    return tokens


def send_field_checkins(demo, events: list[Event], tokens: dict[str, str], faces: dict[str, tuple[list, list]],
                        seed: int, stopped: Callable[[], bool] = lambda: False) -> tuple[int, int]:
    """Each planned check-in as the phone sends it (taken in the past: the server keeps its time and marks it
    queued_offline). Returns (accepted, counted: no flag that keeps it out of the day)."""
    from central_server.attendance.rules.counting import checkin_counts
    from hajiri_demo.faces import load_image, perturb

    rng = np.random.default_rng(seed)
    accepted = counted = 0
    for n, e in enumerate(events):
        check_stop(stopped)
        bases = faces.get(e.employee_id, ([], []))[1]
        if bases:
            image = perturb(load_image(bases[n % len(bases)]), rng, SELFIE_STRENGTH)
        else:  # no spare face for them: a plain picture, so the check-in says no_face / no_templates
            image = np.full((240, 180, 3), 90 + n % 100, np.uint8)
        body = {"employee_id": e.employee_id, "idempotency_key": f"seed-{e.employee_id}-{n:05d}", "event": e.kind,
                "lat": e.lat, "lon": e.lon, "accuracy_m": e.accuracy_m,
                "device_time": e.at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "selfie_jpeg_b64": selfie_b64(image), "app_version": APP_VERSION}
        answer = demo.api("POST", "/api/v1/checkins", body, token=tokens[e.employee_id])
        accepted += 1
        counted += checkin_counts(answer["flags"])
    return accepted, counted


def wait_drained(stores: list[Path], timeout: float = DRAIN_TIMEOUT_S) -> dict[str, int]:
    """Until every seeded kiosk's records are acked (stored centrally); returns the summed store counts."""
    from kiosk.store import open_store, status_counts

    deadline = time.monotonic() + timeout
    while True:
        totals = {"pending": 0, "acked": 0, "rejected": 0}
        for store in stores:
            db = open_store(store)
            try:
                for k, v in status_counts(db).items():
                    totals[k] += v
            finally:
                db.conn.close()
        if totals["pending"] == 0 or time.monotonic() > deadline:
            return totals
        time.sleep(0.3)


def recompute(demo, days: list[date]) -> int:
    """The server's day rules over the window, site by site: days without a single event (leave, tours,
    absences, offs) are stored too, and the explanation requests they call for are raised."""
    dates = [d.isoformat() for d in days]
    return sum(len(demo.api("POST", "/api/v1/days/recompute", {"dates": dates, "site_id": site.site_id}))
               for site in SITES)


def seed_month(demo, plan: MonthPlan, strangers: list, seed: int,
               stopped: Callable[[], bool] = lambda: False) -> dict:
    """Everything of the seeded month; returns what was seeded and how long it took. SeedingStopped when
    `stopped()` turns true on the way."""
    t0 = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        # Choosing the selfie photos is model work: it overlaps the register calls and the kiosks' stores.
        chosen = pool.submit(field_faces, strangers)
        fences = register_sites(demo)
        register_staff(demo, plan, fences)
        declare_calendar(demo, plan)
        events = due(plan.events, datetime.now(UTC))
        stores, records = [], 0
        for site in SITES:
            check_stop(stopped)
            folder = demo.workdir / "seeded" / site.device_id
            folder.mkdir(parents=True)
            mine = [e for e in events if e.via == "kiosk" and e.site_id == site.site_id]
            records += write_kiosk_history(folder / "device", folder / "kiosk.db", site, mine)
            stores.append(start_kiosk_sync(demo, site))
        t_kiosk = time.monotonic()
        faces = chosen.result()
    tokens = enrol_field_staff(demo, faces)
    phone = [e for e in events if e.via == "mobile"]
    accepted, counted = send_field_checkins(demo, phone, tokens, faces, seed, stopped)
    t_phone = time.monotonic()
    counts = wait_drained(stores)
    if counts["pending"] or counts["rejected"]:
        log.warning("seeded kiosks: %d records still pending, %d rejected (see %s/sync-kiosk-*.log, server.log)",
                    counts["pending"], counts["rejected"], demo.workdir)
    t_drained = time.monotonic()
    check_stop(stopped)
    days = recompute(demo, plan.days)
    log.info("seeded: %d kiosk records (%d acked, %d pending), %d check-ins (%d counted), %d days; "
             "register+stores %.1fs, phones %.1fs, drain %.1fs, recompute %.1fs", records, counts["acked"],
             counts["pending"], accepted, counted, days, t_kiosk - t0, t_phone - t_kiosk, t_drained - t_phone,
             time.monotonic() - t_drained)
    return {"sites": [s.site_id for s in SITES], "employees": len(STAFF), "kiosk_records": records,
            "kiosk_acked": counts["acked"], "checkins": accepted, "checkins_counted": counted, "days": days,
            "seconds": round(time.monotonic() - t0, 1)}
