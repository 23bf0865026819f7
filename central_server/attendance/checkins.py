"""Mobile check-ins: selfie 1:1 match and liveness, time checks, geofence test, flags, idempotent storage,
then the day recomputed."""

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.attendance.day import day_bounds
from central_server.attendance.explanations import raise_request
from central_server.attendance.face_templates import SelfieCheck, TemplateKeyError, verify_selfie
from central_server.attendance.photos import RejectedField, decode_jpeg_b64
from central_server.attendance.rules.recompute import recompute_days
from central_server.attendance.rules.shift import ShiftRule, day_of
from central_server.attendance.rules.timeline import kiosk_events, parse_instant
from central_server.db.schema import checkin_selfies, checkins, employees, geofences, shifts, site_details
from central_server.org.employees import allowed_fences
from central_server.org.geofence import MAX_ACCURACY_BUFFER_M, check_point, distance_m
from edge_models.opencv_runtime import MODEL_VERSION
from hajiri_common.timefmt import wire_time
from hajiri_wire.ids import uuid7

log = logging.getLogger(__name__)

MAX_SELFIE_BYTES = 256 * 1024
MIN_SELFIE_SIDE = 64
CLOCK_SKEW_LIMIT = timedelta(minutes=5)
QUEUED_AFTER = timedelta(minutes=5)
MAX_SPEED_KMH = 150.0
# GPS jitter and a kiosk's site point are not exact: below this no journey is "impossible".
MIN_TRAVEL_M = 2_000.0
TRAVEL_LOOKBACK = timedelta(hours=48)


class CheckinRejected(RejectedField):
    """A check-in refused outright (bad selfie); `field` names what was wrong."""


@dataclass(frozen=True)
class Place:
    at: datetime
    lat: float
    lon: float
    accuracy_m: float
    what: str


def decode_selfie(b64: str) -> tuple[str, np.ndarray]:
    """(sha256, pixels) of a decodable JPEG within the size cap, or CheckinRejected naming the field."""
    raw, image = decode_jpeg_b64(b64, "selfie_jpeg_b64", max_bytes=MAX_SELFIE_BYTES, min_side=MIN_SELFIE_SIDE,
                                 error=CheckinRejected)
    return hashlib.sha256(raw).hexdigest(), image


def check_selfie(conn: sa.Connection, employee_id: str, image: np.ndarray, key_path: Path) -> SelfieCheck:
    """The 1:1 match and passive liveness verdict; a template key that cannot be read leaves the selfie
    unverified (the check-in is still recorded, and the log says why)."""
    try:
        return verify_selfie(conn, employee_id, image, key_path)
    except TemplateKeyError as e:
        log.error("check-in selfie of %s not verified: %s", employee_id, e)
        return SelfieCheck(0, 0, None, None, ["selfie_unverified"], "unverified")


def selfie_seen_before(conn: sa.Connection, employee_id: str, sha256: str) -> bool:
    """The very same JPEG bytes sent with an earlier check-in: a camera never takes the same photo twice."""
    return conn.execute(sa.select(checkins.c.checkin_id).where(
        checkins.c.employee_id == employee_id, checkins.c.selfie_sha256 == sha256).limit(1)).first() is not None


def settle_time(device_time: datetime, sent_time: datetime | None, received: datetime) -> tuple[datetime, list[str]]:
    """The check-in's time and the clock flags. With the phone's send time the clock offset is known and
    corrected; without it a time in the future is a skewed clock, one far in the past a queued check-in."""
    flags = []
    if sent_time is not None:
        offset = received - sent_time
        if abs(offset) > CLOCK_SKEW_LIMIT:
            flags.append("device_clock_skew")
        at = device_time + offset if abs(offset) > CLOCK_SKEW_LIMIT else device_time
        if sent_time - device_time > QUEUED_AFTER:
            flags.append("queued_offline")
    elif device_time - received > CLOCK_SKEW_LIMIT:
        flags.append("device_clock_skew")
        at = received  # a time from the future cannot be right; the arrival is the best we know
    else:
        at = device_time
        if received - device_time > QUEUED_AFTER:
            flags.append("queued_offline")  # kept at its original time, marked
    return min(at, received), flags


def _site_point(conn: sa.Connection, site_id: str) -> tuple[float, float] | None:
    row = conn.execute(sa.select(site_details.c.lat, site_details.c.lon).where(
        site_details.c.site_id == site_id)).first()
    if row is not None and row.lat is not None and row.lon is not None:
        return row.lat, row.lon
    row = conn.execute(sa.select(geofences.c.centroid_lat, geofences.c.centroid_lon).where(
        geofences.c.site_id == site_id).order_by(geofences.c.geofence_id)).first()
    return None if row is None else (row.centroid_lat, row.centroid_lon)


def previous_place(conn: sa.Connection, employee_id: str, before: datetime) -> Place | None:
    """The latest earlier event with a known place: a check-in's fix, or a kiosk record's site."""
    lo, hi = wire_time(before - TRAVEL_LOOKBACK), wire_time(before)
    c = conn.execute(sa.select(checkins).where(
        checkins.c.employee_id == employee_id, checkins.c.event_time >= lo, checkins.c.event_time < hi)
        .order_by(checkins.c.event_time.desc()).limit(1)).first()
    found = [] if c is None else [Place(parse_instant(c.event_time), c.lat, c.lon, c.accuracy_m,
                                        f"check-in {c.checkin_id}")]
    seen = kiosk_events(conn, [employee_id], lo, hi)
    last = max(seen, key=lambda k: k.at) if seen else None
    if last is not None and (point := _site_point(conn, last.site_id)) is not None:
        found.append(Place(parse_instant(last.at), point[0], point[1], 0.0, f"kiosk record at {last.site_id}"))
    return max(found, key=lambda p: p.at) if found else None


def impossible_travel(prev: Place | None, here: Place) -> bool:
    if prev is None:
        return False
    gap_m = distance_m(prev.lat, prev.lon, here.lat, here.lon) - prev.accuracy_m - min(here.accuracy_m, 1000.0)
    if gap_m < MIN_TRAVEL_M:
        return False
    hours = max((here.at - prev.at).total_seconds(), 1.0) / 3600
    return gap_m / 1000 / hours > MAX_SPEED_KMH


def _fence_flags(conn: sa.Connection, employee: dict, lat: float, lon: float, accuracy_m: float):
    fences = allowed_fences(conn, employee)
    if not fences:
        return None, None, ["no_geofence"]
    checks = sorted(((check_point(f, lat, lon, accuracy_m), gid) for gid, f in fences),
                    key=lambda c: c[0].distance_m)
    best, gid = checks[0]
    return gid, round(best.distance_m, 1), ([] if best.inside else ["outside_fence"])


def public(row) -> dict:
    d = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    d["flags"] = [f for f in d["flags"].split(",") if f]
    for k in ("idempotency_key", "selfie_sha256", "mock_location", "app_version"):
        d.pop(k, None)
    return d


def _find(conn: sa.Connection, employee_id: str, key: str):
    return conn.execute(sa.select(checkins).where(checkins.c.employee_id == employee_id,
                                                  checkins.c.idempotency_key == key)).first()


def assess(conn: sa.Connection, employee: dict, body: dict, received: datetime,
           key_path: Path) -> tuple[dict, SelfieCheck]:
    """Every check on a new check-in: the row to store and the selfie verdict (CheckinRejected for a selfie
    that is no JPEG, before anything is stored)."""
    selfie_sha, image = decode_selfie(body["selfie_jpeg_b64"])
    selfie = check_selfie(conn, employee["employee_id"], image, key_path)
    del image  # the selfie's pixels go no further than this function (privacy): only the scores are kept
    flags = list(selfie.flags)
    if selfie_seen_before(conn, employee["employee_id"], selfie_sha):
        flags.append("selfie_reused")
    sent = parse_instant(body["device_sent_time"]) if body.get("device_sent_time") else None
    at, time_flags = settle_time(parse_instant(body["device_time"]), sent, received)
    gid, dist, fence_flags = _fence_flags(conn, employee, body["lat"], body["lon"], body["accuracy_m"])
    flags += time_flags + fence_flags
    if body["accuracy_m"] > MAX_ACCURACY_BUFFER_M:
        flags.append("accuracy_too_poor")
    if body.get("mock_location"):
        flags.append("mock_location")
    here = Place(at, body["lat"], body["lon"], body["accuracy_m"], "this check-in")
    if impossible_travel(previous_place(conn, employee["employee_id"], at), here):
        flags.append("impossible_travel")
    return {"checkin_id": uuid7(), "employee_id": employee["employee_id"],
            "idempotency_key": body["idempotency_key"], "event": body["event"], "lat": body["lat"],
            "lon": body["lon"], "accuracy_m": body["accuracy_m"], "device_time": body["device_time"],
            "event_time": wire_time(at), "received_at": wire_time(received), "geofence_id": gid, "distance_m": dist,
            "flags": ",".join(sorted(set(flags))), "selfie_sha256": selfie_sha, "selfie_status": selfie.status,
            "mock_location": body.get("mock_location"), "app_version": body.get("app_version")}, selfie


def record_checkin(conn: sa.Connection, employee: dict, body: dict, received: datetime, *, tz: str,
                   actor: str, key_path: Path) -> dict:
    """Store one check-in with its selfie scores (or return the stored one for a resent idempotency key)
    and recompute its day. key_path: the template key (ServerConfig.templates_key_path)."""
    existing = _find(conn, employee["employee_id"], body["idempotency_key"])
    if existing is not None:
        return {**public(existing), **selfie_scores(conn, existing.checkin_id), "replayed": True}
    row, selfie = assess(conn, employee, body, received, key_path)
    scores = {"checkin_id": row["checkin_id"], "faces": selfie.faces, "templates": selfie.templates,
              "match_score": selfie.match_score, "liveness_score": selfie.liveness_score,
              "model_version": MODEL_VERSION}
    try:
        with conn.begin_nested():
            conn.execute(sa.insert(checkins).values(**row))
            conn.execute(sa.insert(checkin_selfies).values(**scores))
    except sa.exc.IntegrityError:
        # The same key raced in on another request: answer with the one that won.
        won = _find(conn, employee["employee_id"], body["idempotency_key"])
        if won is None:
            raise
        return {**public(won), **selfie_scores(conn, won.checkin_id), "replayed": True}
    day = day_of(_rule_of(conn, employee), parse_instant(row["event_time"]), tz)
    if {"outside_fence", "no_geofence"} & set(row["flags"].split(",")):
        raise_request(conn, employee["employee_id"], day.isoformat(), "outside_fence", row["checkin_id"])
    write_audit(conn, actor, "checkin.create", employee["employee_id"],
                f"id={row['checkin_id']} {row['event']} flags={row['flags']}")
    recompute_days(conn, employee["employee_id"], [day], tz)
    return {**public(row), "selfie_match_score": selfie.match_score, "selfie_liveness_score": selfie.liveness_score,
            "replayed": False}


def list_checkins(conn: sa.Connection, day: date, tz: str, site_id: str | None, employee_id: str | None) -> list[dict]:
    """The check-ins of one local day (of one site's employees, or one employee) with their selfie numbers."""
    lo, hi = day_bounds(day, tz)
    q = (sa.select(checkins, checkin_selfies.c.match_score.label("selfie_match_score"),
                   checkin_selfies.c.liveness_score.label("selfie_liveness_score"))
         .join(employees, employees.c.employee_id == checkins.c.employee_id)
         .outerjoin(checkin_selfies, checkin_selfies.c.checkin_id == checkins.c.checkin_id)
         .where(checkins.c.event_time >= lo, checkins.c.event_time < hi).order_by(checkins.c.event_time))
    if site_id is not None:
        q = q.where(employees.c.site_id == site_id)
    if employee_id is not None:
        q = q.where(checkins.c.employee_id == employee_id)
    return [public(r) for r in conn.execute(q)]


def selfie_scores(conn: sa.Connection, checkin_id: str) -> dict:
    """The stored selfie numbers of a check-in (None for check-ins stored before migration 6)."""
    row = conn.execute(sa.select(checkin_selfies.c.match_score, checkin_selfies.c.liveness_score).where(
        checkin_selfies.c.checkin_id == checkin_id)).first()
    return {"selfie_match_score": None if row is None else row.match_score,
            "selfie_liveness_score": None if row is None else row.liveness_score}


def _rule_of(conn: sa.Connection, employee: dict) -> ShiftRule:
    row = None
    if employee.get("shift_id"):
        row = conn.execute(sa.select(shifts).where(shifts.c.shift_id == employee["shift_id"])).first()
    return ShiftRule.from_row(None if row is None else dict(row._mapping))
