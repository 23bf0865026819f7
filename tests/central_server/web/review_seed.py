"""What the review page's tests put in the world: mobile check-ins with chosen flags (stored as record_checkin
stores them, then the day recomputed by its owner), explanation requests the employee has replied to, and a
kiosk's spoof record with its sealed face crop and a heartbeat saying liveness is off."""

import time
from datetime import date

import cv2
import numpy as np
import sqlalchemy as sa

from central_server.attendance.explanations import raise_request, reply
from central_server.attendance.rules.recompute import recompute_days
from central_server.config import ServerConfig
from central_server.db.schema import checkins, explanations
from central_server.devices.heartbeat import ingest_heartbeat
from central_server.evidence.ingest import ingest_evidence, server_evidence_key
from hajiri_common.timefmt import utc_iso
from hajiri_wire import Heartbeat, encode_heartbeat, topics
from hajiri_wire.evidence import encode_evidence, seal_evidence
from hajiri_wire.ids import uuid7
from tests.builders import IST, local_wire
from tests.central_server.web.world import feed, register_kiosk

DAY = "2026-11-25"  # a Wednesday, a working day of the world's office shift
JPEG = cv2.imencode(".jpg", np.full((150, 120, 3), 128, np.uint8))[1].tobytes()


def add_checkin(conn: sa.Connection, employee_id: str, event: str, hhmm: str, flags: str = "", *,
                day: str = DAY, distance_m: float | None = 0.0) -> str:
    """A stored check-in (the selfie checks already done: their verdict is in `flags`); its day recomputed."""
    checkin_id = uuid7()
    at = local_wire(day, hhmm)
    conn.execute(sa.insert(checkins).values(
        checkin_id=checkin_id, employee_id=employee_id, idempotency_key=f"key-{checkin_id}", event=event,
        lat=23.205, lon=77.085, accuracy_m=12.0, device_time=at, event_time=at, received_at=at, geofence_id=None,
        distance_m=distance_m, flags=flags, selfie_sha256=checkin_id, selfie_status="verified"))
    recompute_days(conn, employee_id, [date.fromisoformat(day)], IST)
    return checkin_id


def add_explanation(conn: sa.Connection, employee_id: str, reason: str, ref: str | None = None, *,
                    day: str = DAY, answer: str | None = "I was at the block office for a meeting") -> int:
    """A request as the rules or a check-in raise it, replied to by the employee (unless answer is None)."""
    raise_request(conn, employee_id, day, reason, ref or day)
    request_id = conn.execute(sa.select(explanations.c.id).where(
        explanations.c.employee_id == employee_id, explanations.c.day == day,
        explanations.c.reason == reason)).scalar_one()
    if answer is not None:
        reply(conn, request_id, answer, actor=f"employee {employee_id}")
    return request_id


def add_spoof(engine: sa.Engine, config: ServerConfig, site_id: str = "office-1",
              device_id: str = "kiosk-01") -> str:
    """A SPOOF record from a kiosk at the site with its sealed crop, and liveness reported off there."""
    with engine.begin() as conn:
        kiosk = register_kiosk(conn, device_id, site_id)
    spoof = kiosk.record("emp-2", "SPOOF", local_wire(DAY, "09:41"))
    feed(engine, kiosk, spoof)
    key = server_evidence_key(config)
    sealed = seal_evidence(JPEG, device_id=device_id, record_id=spoof.record_id, taken_at=utc_iso(time.time()),
                           device_key=kiosk.key, server_public=key.public)
    assert ingest_evidence(engine, topics.evidence(device_id), encode_evidence(sealed), key).status == "stored"
    beat = Heartbeat(device_id=device_id, sent_at=utc_iso(time.time()), boot_id="boot-a", mono_ns=10**12,
                     uptime_s=10.0, clock_synced=True, queue_depth=0, liveness_enabled=False)
    ingest_heartbeat(engine, topics.heartbeat(device_id), encode_heartbeat(beat))
    return spoof.record_id
