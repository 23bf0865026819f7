"""Field inspections on tour: photo check (only its hash kept unless the site keeps photos), GPS, the tour
it belongs to, idempotent storage, and the repeat_village flag for an officer who keeps visiting one village."""

import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.attendance.checkins import settle_time
from central_server.attendance.photos import RejectedField, decode_jpeg_b64
from central_server.attendance.rules.timeline import parse_instant
from central_server.db.schema import inspection_settings, inspections, tours
from central_server.org.geofence import MAX_ACCURACY_BUFFER_M
from hajiri_common.timefmt import wire_time
from hajiri_wire.ids import uuid7

MAX_PHOTO_BYTES = 1024 * 1024  # a phone photo of a work site, resized by the app; more is not evidence, just bytes
MIN_PHOTO_SIDE = 64


class InspectionRejected(RejectedField):
    """An inspection refused outright; `field` names what was wrong."""


def check_photo(b64: str) -> bytes:
    """The decoded JPEG, after checking it is base64, within the cap and really decodes as an image."""
    raw, _ = decode_jpeg_b64(b64, "photo_jpeg_b64", max_bytes=MAX_PHOTO_BYTES, min_side=MIN_PHOTO_SIDE,
                             error=InspectionRejected)
    return raw


def village_key(block: str, village: str) -> str:
    """One spelling per village: case and spacing ignored, qualified by its block (names repeat)."""
    return " ".join(block.casefold().split()) + "/" + " ".join(village.casefold().split())


def keeps_photos(conn: sa.Connection, site_id: str) -> bool:
    row = conn.execute(sa.select(inspection_settings.c.keep_photos).where(
        inspection_settings.c.site_id == site_id)).first()
    return bool(row and row.keep_photos)


def set_keep_photos(conn: sa.Connection, site_id: str, keep: bool, *, actor: str) -> None:
    conn.execute(sa.delete(inspection_settings).where(inspection_settings.c.site_id == site_id))
    conn.execute(sa.insert(inspection_settings).values(site_id=site_id, keep_photos=keep))
    write_audit(conn, actor, "inspection.settings", site_id, f"keep_photos={keep}")


def covering_tour(conn: sa.Connection, employee_id: str, day: str) -> int | None:
    row = conn.execute(sa.select(tours.c.id).where(
        tours.c.employee_id == employee_id, tours.c.approved.is_(True), tours.c.from_day <= day,
        tours.c.to_day >= day).order_by(tours.c.id)).first()
    return None if row is None else row.id


def visits_in_window(conn: sa.Connection, employee_id: str, key: str, at: datetime, days: int) -> int:
    """Earlier visits by this officer to this village in the `days` before `at` (this one not counted)."""
    return conn.execute(sa.select(sa.func.count()).select_from(inspections).where(
        inspections.c.employee_id == employee_id, inspections.c.village_key == key,
        inspections.c.event_time > wire_time(at - timedelta(days=days)), inspections.c.event_time <= wire_time(at))).scalar()


def public(row) -> dict:
    d = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    d["flags"] = [f for f in d["flags"].split(",") if f]
    d["photo_kept"] = d.pop("photo", None) is not None
    for k in ("idempotency_key", "village_key"):
        d.pop(k, None)
    return d


def _find(conn: sa.Connection, employee_id: str, key: str):
    return conn.execute(sa.select(inspections).where(inspections.c.employee_id == employee_id,
                                                     inspections.c.idempotency_key == key)).first()


def record_inspection(conn: sa.Connection, employee: dict, body: dict, received: datetime, *, tz: str, actor: str,
                      repeat_visits: int, repeat_days: int) -> dict:
    """Store one inspection (or return the stored one for a resent idempotency key).

    Flags: repeat_village (more than repeat_visits visits to the village within repeat_days, this one
    included), no_tour (no approved tour covers the day), accuracy_too_poor, device_clock_skew, queued_offline."""
    emp_id = employee["employee_id"]
    existing = _find(conn, emp_id, body["idempotency_key"])
    if existing is not None:
        return {**public(existing), "replayed": True}
    photo = check_photo(body["photo_jpeg_b64"])
    sent = parse_instant(body["device_sent_time"]) if body.get("device_sent_time") else None
    at, flags = settle_time(parse_instant(body["device_time"]), sent, received)
    day = at.astimezone(ZoneInfo(tz)).date().isoformat()
    tour_id = covering_tour(conn, emp_id, day)
    if tour_id is None:
        flags.append("no_tour")
    if body["accuracy_m"] > MAX_ACCURACY_BUFFER_M:
        flags.append("accuracy_too_poor")
    key = village_key(body["block"], body["village"])
    if visits_in_window(conn, emp_id, key, at, repeat_days) + 1 > repeat_visits:
        flags.append("repeat_village")
    row = {"inspection_id": uuid7(), "employee_id": emp_id, "site_id": employee["site_id"],
           "idempotency_key": body["idempotency_key"], "tour_id": tour_id, "lat": body["lat"], "lon": body["lon"],
           "accuracy_m": body["accuracy_m"], "block": body["block"], "village": body["village"], "village_key": key,
           "work_item": body["work_item"], "notes": body.get("notes") or "", "device_time": body["device_time"],
           "event_time": wire_time(at), "received_at": wire_time(received), "photo_sha256": hashlib.sha256(photo).hexdigest(),
           "photo_bytes": len(photo), "photo": photo if keeps_photos(conn, employee["site_id"]) else None,
           "flags": ",".join(sorted(set(flags)))}
    try:
        with conn.begin_nested():
            conn.execute(sa.insert(inspections).values(**row))
    except sa.exc.IntegrityError:
        won = _find(conn, emp_id, body["idempotency_key"])  # the same key raced in on another request
        if won is None:
            raise
        return {**public(won), "replayed": True}
    write_audit(conn, actor, "inspection.create", emp_id,
                f"id={row['inspection_id']} village={key} flags={row['flags']}")
    return {**public(row), "replayed": False}


def list_inspections(conn: sa.Connection, *, sites: set[str] | None, employee_id: str | None, lo: str | None,
                     hi: str | None, flag: str | None = None, limit: int = 1000) -> list[dict]:
    """Newest first, within the visible sites (None: all), [lo, hi) wire times and carrying `flag`."""
    q = sa.select(inspections).order_by(inspections.c.event_time.desc()).limit(limit)
    if flag is not None:  # flags are fixed names joined by commas: a name matches only itself
        q = q.where(("," + inspections.c.flags + ",").like(f"%,{flag},%"))
    if sites is not None:
        q = q.where(inspections.c.site_id.in_(sorted(sites)))
    if employee_id is not None:
        q = q.where(inspections.c.employee_id == employee_id)
    if lo is not None:
        q = q.where(inspections.c.event_time >= lo)
    if hi is not None:
        q = q.where(inspections.c.event_time < hi)
    return [public(r) for r in conn.execute(q)]


def officer_summary(rows: list[dict]) -> list[dict]:
    """Per officer: inspections, how many were flagged repeat_village, and the villages visited most."""
    out: dict[str, dict] = {}
    for r in rows:
        s = out.setdefault(r["employee_id"], {"employee_id": r["employee_id"], "inspections": 0,
                                              "repeat_village": 0, "villages": {}})
        s["inspections"] += 1
        s["repeat_village"] += "repeat_village" in r["flags"]
        # Grouped like the flag (case and spacing ignored), shown as last spelled (rows come newest first).
        name, n = s["villages"].get(village_key(r["block"], r["village"]), (f"{r['block']} / {r['village']}", 0))
        s["villages"][village_key(r["block"], r["village"])] = (name, n + 1)
    for s in out.values():
        s["villages"] = [{"village": v, "visits": n} for v, n in sorted(s["villages"].values(), key=lambda x: -x[1])]
    return sorted(out.values(), key=lambda s: (-s["repeat_village"], s["employee_id"]))
