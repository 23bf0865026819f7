"""Registered devices as staff see them: the list with heartbeat health, one device's clock report, and its
stored chain and signatures verified again."""

import json
import time

import sqlalchemy as sa

from central_server.db.schema import clock_anchors, record_times, records
from central_server.devices.heartbeat import device_health, latest_heartbeats
from central_server.devices.registry import get_device, list_devices
from hajiri_common.timefmt import utc_iso
from hajiri_wire import AttendanceRecord, WireError, load_public_key, verify_chain, verify_record


def devices_with_health(conn: sa.Connection, silent_after_s: float) -> list[dict]:
    """Every device with its latest heartbeat's figures; `silent` when none came within silent_after_s."""
    beats = latest_heartbeats(conn)
    now_ms = int(time.time() * 1000)
    out = []
    for row in list_devices(conn):
        health = device_health(beats.get(row["device_id"]), now_ms, silent_after_s)
        hb = health.pop("heartbeat") or {}
        out.append({**row, **health, "queue_depth": hb.get("queue_depth"),
                    "oldest_unsent_age_s": hb.get("oldest_unsent_age_s"),
                    "clock_offset_s": hb.get("clock_offset_s"), "last_error": hb.get("last_error"),
                    "liveness_enabled": hb.get("liveness_enabled"), "evidence_pending": hb.get("evidence_pending"),
                    "evidence_uplink": hb.get("evidence_uplink")})
    return out


def clock_report(conn: sa.Connection, device_id: str, silent_after_s: float) -> dict:
    """The latest heartbeat in full, the clock anchors per boot, and how many unsynced records were re-based
    (Missing, 404, for an unknown device)."""
    device = get_device(conn, device_id)
    health = device_health(latest_heartbeats(conn, device_id).get(device_id), int(time.time() * 1000),
                           silent_after_s)
    anchors = [{"boot_id": a.boot_id, "mono_ns": a.mono_ns, "wall_time": utc_iso(a.wall_unix_ms / 1000),
                "uncertainty_ms": a.uncertainty_ms, "updated_at": a.updated_at}
               for a in conn.execute(sa.select(clock_anchors).where(clock_anchors.c.device_id == device_id)
                                     .order_by(clock_anchors.c.updated_at))]
    corrected = dict(conn.execute(sa.select(record_times.c.time_corrected, sa.func.count())
                                  .where(record_times.c.device_id == device_id)
                                  .group_by(record_times.c.time_corrected)).all())
    return {"device_id": device_id, "status": device.status, "silent_after_s": silent_after_s, **health,
            "clock_anchors": anchors, "records_time_corrected": corrected.get(True, 0),
            "records_time_uncorrected": corrected.get(False, 0)}


def verify_device_chain(conn: sa.Connection, device_id: str) -> dict:
    """Re-verify the stored chain and signatures: gaps, reordering, hash mismatches, altered rows."""
    device = get_device(conn, device_id)
    rows = conn.execute(sa.select(records.c.body, records.c.chain_ok).where(records.c.device_id == device_id)
                        .order_by(records.c.seq)).all()
    public = load_public_key(device.public_key)
    stored: list[AttendanceRecord] = []
    bad: list[str] = []
    for row in rows:
        rec = AttendanceRecord.model_validate(json.loads(row.body))
        try:
            verify_record(rec, public)
        except WireError:
            bad.append(rec.record_id)
        stored.append(rec)
    problems = [{"seq": p.seq, "record_id": p.record_id, "kind": p.kind, "detail": p.detail}
                for p in verify_chain(stored)]
    return {"device_id": device_id, "records": len(stored), "first_seq": stored[0].seq if stored else None,
            "last_seq": stored[-1].seq if stored else None, "whole": not problems and not bad,
            "problems": problems, "bad_signatures": bad,
            "flagged_at_ingest": sum(1 for r in rows if r.chain_ok is False)}
