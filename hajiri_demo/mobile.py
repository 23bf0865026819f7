"""The demo's attendance domain through the real HTTP API: fenced sites, a shift, employees with central
templates, and field staff's mobile check-ins (inside, outside, mocked, impossible travel, wrong face)."""

import base64
import logging
import math
import urllib.error
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2

log = logging.getLogger("hajiri.demo")

TZ = "Asia/Kolkata"
OFFICE = (85.8245, 20.2961)  # (lon, lat): the demo office, Bhubaneswar
FIELD_SITE_ID = "field-demo"
FIELD = (84.7941, 19.3150)  # a field area in Berhampur, about 150 km away
SHIFT_ID = "demo-day"
MAX_SELFIE_SIDE = 640


def square(lon: float, lat: float, half_m: float) -> dict:
    """A GeoJSON square of 2 x half_m around a point."""
    h = half_m / 111_195.0
    w = h / math.cos(math.radians(lat))
    return {"type": "Polygon", "coordinates": [[[lon - w, lat - h], [lon + w, lat - h], [lon + w, lat + h],
                                                [lon - w, lat + h], [lon - w, lat - h]]]}


def shift_start(now: datetime) -> str:
    """Two hours before now (not before midnight): today's first IN is late, so the rules raise a 'late'
    explanation request as they would for a real late arrival."""
    start = max(now - timedelta(hours=2), now.replace(hour=0, minute=0, second=0, microsecond=0))
    return start.strftime("%H:%M")


def seed_domain(demo, site_id: str, people: list, photos: Path, skip: set[Path] = frozenset()) -> dict[str, str]:
    """Fences, the field site, a shift, and one employee per enrolled person, with central templates from
    the enrolment photos (before they are deleted) and a phone token. Returns employee_id -> token."""
    demo.api("PUT", f"/api/v1/sites/{site_id}/details", {"district": "Khordha", "lat": OFFICE[1], "lon": OFFICE[0]})
    office_fence = demo.api("POST", f"/api/v1/sites/{site_id}/geofences",
                            {"name": "campus", "polygon": square(*OFFICE, 150.0)})["geofence_id"]
    demo.api("POST", "/api/v1/sites", {"site_id": FIELD_SITE_ID, "name": "Field area, Berhampur", "kind": "field"})
    demo.api("PUT", f"/api/v1/sites/{FIELD_SITE_ID}/details", {"district": "Ganjam", "lat": FIELD[1], "lon": FIELD[0]})
    field_fence = demo.api("POST", f"/api/v1/sites/{FIELD_SITE_ID}/geofences",
                           {"name": "block area", "polygon": square(*FIELD, 2000.0)})["geofence_id"]
    demo.api("POST", "/api/v1/shifts", {"shift_id": SHIFT_ID, "name": "Demo day shift",
                                        "start_time": shift_start(datetime.now(ZoneInfo(TZ))), "end_time": "23:59",
                                        "grace_late_min": 0, "weekly_off": []})
    tokens = {}
    joined_on = datetime.now(ZoneInfo(TZ)).date().isoformat()
    for person in people:
        pid = person.person_id
        # They join today: the month's report then shows the days before as not employed, not absent.
        demo.api("POST", "/api/v1/employees", {"employee_id": pid, "name": person.name, "role": "field_staff",
                                               "site_id": site_id, "shift_id": SHIFT_ID, "joined_on": joined_on})
        files = [f for f in sorted((photos / pid).glob("*.jpg")) if f not in skip]
        if files:  # someone with no usable photo stays without templates: their check-ins say no_templates
            demo.api("POST", f"/api/v1/employees/{pid}/templates",
                     {"photos_b64": [base64.b64encode(f.read_bytes()).decode() for f in files]})
        demo.api("PUT", f"/api/v1/employees/{pid}/geofences", {"geofence_ids": [office_fence, field_fence]})
        tokens[pid] = demo.api("POST", f"/api/v1/employees/{pid}/token")["token"]
    return tokens


def selfie_b64(image) -> str:
    """A phone-sized JPEG of the photo, base64 (what the app sends)."""
    from hajiri_demo.faces import load_image

    pixels = load_image(image)
    scale = MAX_SELFIE_SIDE / max(pixels.shape[:2])
    if scale < 1:
        pixels = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("could not encode a demo selfie")
    return base64.b64encode(buf.tobytes()).decode()


def selfie_photos(person) -> list:
    """The person's other photos that look most like a phone selfie, best first: exactly one face, and the
    face filling the most of the picture (a selfie is taken at arm's length)."""
    from hajiri_demo.faces import detect_faces, load_image

    def face_share(photo) -> float:
        pixels = load_image(photo)
        faces = detect_faces(pixels)
        return -1.0 if len(faces) != 1 else float(faces[0][2] * faces[0][3]) / (pixels.shape[0] * pixels.shape[1])

    return sorted(person.probes, key=face_share, reverse=True)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def planned_checkins(people: list) -> list[dict]:
    """The demo's check-ins: (who, what, where, when, selfie). Fewer people than five are reused in turn."""
    now = datetime.now(UTC)
    p = [people[i % len(people)] for i in range(5)]
    selfies = [selfie_photos(person) for person in p]
    lon, lat = OFFICE
    return [
        {"who": p[0], "case": "inside", "lat": lat, "lon": lon, "at": now, "selfie": selfies[0][0]},
        {"who": p[1], "case": "outside", "lat": lat + 0.015, "lon": lon, "at": now, "selfie": selfies[1][0]},
        {"who": p[2], "case": "mock_location", "lat": lat, "lon": lon, "at": now, "selfie": selfies[2][0],
         "mock_location": True},
        {"who": p[3], "case": "travel_from", "lat": lat, "lon": lon, "at": now - timedelta(minutes=4),
         "selfie": selfies[3][0]},
        {"who": p[3], "case": "travel_to", "lat": FIELD[1], "lon": FIELD[0], "at": now, "event": "OUT",
         "selfie": selfies[3][1]},
        # Someone else's face on p[4]'s phone (a colleague checking in for them).
        {"who": p[4], "case": "wrong_face", "lat": lat, "lon": lon, "at": now, "selfie": selfies[0][1]},
    ]


def send_checkins(demo, people: list, tokens: dict[str, str]) -> list[dict]:
    """POST each planned check-in with the employee's own phone token; returns one result per check-in:
    its case, HTTP status and flags (empty flags when it was refused)."""
    results = []
    for n, plan in enumerate(planned_checkins(people)):
        pid = plan["who"].person_id
        body = {"employee_id": pid, "idempotency_key": f"demo-phone-{pid}-{n:04d}", "event": plan.get("event", "IN"),
                "lat": plan["lat"], "lon": plan["lon"], "accuracy_m": 15.0, "device_time": _iso(plan["at"]),
                "selfie_jpeg_b64": selfie_b64(plan["selfie"]), "app_version": "demo-1.0"}
        if plan.get("mock_location"):
            body["mock_location"] = True
        try:
            answer = demo.api("POST", "/api/v1/checkins", body, token=tokens[pid])
            results.append({"case": plan["case"], "accepted": True, "flags": answer["flags"],
                            "selfie_status": answer["selfie_status"]})
        except urllib.error.HTTPError as e:
            log.warning("check-in %s refused: HTTP %s %s", plan["case"], e.code, e.read()[:300])
            results.append({"case": plan["case"], "accepted": False, "flags": []})
    for r in results:
        log.info("mobile check-in %-13s accepted=%s flags=%s", r["case"], r["accepted"], ",".join(r["flags"]))
    return results


def write_reports(database_url: str, out_dir: Path) -> list[str]:
    """This month's report files from central_server.reports when that module exists (else none)."""
    try:
        from central_server.reports import write_month_reports
    except ImportError:
        log.info("central_server.reports is not there yet: no report files")
        return []
    from central_server.db.engine import make_engine

    engine = make_engine(database_url)
    try:
        month = datetime.now(ZoneInfo(TZ)).strftime("%Y-%m")
        return [str(p) for p in write_month_reports(engine, month, out_dir)]
    finally:
        engine.dispose()
