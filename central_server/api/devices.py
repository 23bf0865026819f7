"""/api/v1/devices: kiosk registration (public keys), listing, revocation and chain verification."""

import json
import time
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, status

from central_server.access.tokens import Principal, Role
from central_server.api.deps import Conn, require_roles
from central_server.api.schemas import (
    ChainIssue,
    ChainReport,
    ClockAnchorPublic,
    DeviceCreate,
    DevicePublic,
    HeartbeatReport,
)
from central_server.db.schema import clock_anchors, devices, record_times, records
from central_server.devices.heartbeat import DEFAULT_SILENT_AFTER_S, device_health, latest_heartbeats
from central_server.evidence.schemas import DeviceLivenessPublic
from central_server.org.registry import (
    AlreadyExists,
    BadPublicKey,
    NotRegistered,
    list_rows,
    register_device,
    revoke_device,
)
from hajiri_common.timefmt import utc_iso
from hajiri_wire import AttendanceRecord, WireError, load_public_key, verify_chain, verify_record

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])

Staff = Annotated[Principal, Depends(require_roles(Role.STATE_ADMIN, Role.IT_STAFF))]
# A device with no heartbeat for this long is listed as silent.
SilentAfter = Annotated[float, Query(ge=10, le=30 * 24 * 3600,
                                     description="seconds without a heartbeat before a device counts as silent")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DevicePublic)
def post_device(body: DeviceCreate, conn: Conn, who: Staff) -> dict:
    try:
        return register_device(conn, body.device_id, body.site_id, body.public_key, actor=who.label)
    except AlreadyExists as e:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(e)) from e
    except (BadPublicKey, NotRegistered) as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(e)) from e


@router.get("", response_model=list[DeviceLivenessPublic])
def get_devices(conn: Conn, who: Staff, silent_after_s: SilentAfter = DEFAULT_SILENT_AFTER_S) -> list[dict]:
    """Every device with its latest heartbeat's figures; `silent` when none came within silent_after_s."""
    beats = latest_heartbeats(conn)
    now_ms = int(time.time() * 1000)
    out = []
    for row in list_rows(conn, devices, devices.c.device_id):
        health = device_health(beats.get(row["device_id"]), now_ms, silent_after_s)
        hb = health.pop("heartbeat") or {}
        out.append({**row, **health, "queue_depth": hb.get("queue_depth"),
                    "oldest_unsent_age_s": hb.get("oldest_unsent_age_s"),
                    "clock_offset_s": hb.get("clock_offset_s"), "last_error": hb.get("last_error"),
                    "liveness_enabled": hb.get("liveness_enabled"), "evidence_pending": hb.get("evidence_pending"),
                    "evidence_uplink": hb.get("evidence_uplink")})
    return out


@router.get("/{device_id}/heartbeat", response_model=HeartbeatReport)
def get_heartbeat(device_id: str, conn: Conn, who: Staff,
                  silent_after_s: SilentAfter = DEFAULT_SILENT_AFTER_S) -> HeartbeatReport:
    """The latest heartbeat in full, the clock anchors per boot, and how many unsynced records were re-based."""
    device = conn.execute(sa.select(devices.c.status).where(devices.c.device_id == device_id)).first()
    if device is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"device {device_id!r} is not registered")
    health = device_health(latest_heartbeats(conn, device_id).get(device_id), int(time.time() * 1000),
                           silent_after_s)
    anchors = [ClockAnchorPublic(boot_id=a.boot_id, mono_ns=a.mono_ns, wall_time=utc_iso(a.wall_unix_ms / 1000),
                                 uncertainty_ms=a.uncertainty_ms, updated_at=a.updated_at)
               for a in conn.execute(sa.select(clock_anchors).where(clock_anchors.c.device_id == device_id)
                                     .order_by(clock_anchors.c.updated_at))]
    corrected = dict(conn.execute(sa.select(record_times.c.time_corrected, sa.func.count())
                                  .where(record_times.c.device_id == device_id)
                                  .group_by(record_times.c.time_corrected)).all())
    return HeartbeatReport(device_id=device_id, status=device.status, silent_after_s=silent_after_s, **health,
                           clock_anchors=anchors, records_time_corrected=corrected.get(True, 0),
                           records_time_uncorrected=corrected.get(False, 0))


@router.post("/{device_id}/revoke", response_model=DevicePublic)
def post_revoke(device_id: str, conn: Conn, who: Staff) -> dict:
    try:
        revoke_device(conn, device_id, actor=who.label)
    except NotRegistered as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(e)) from e
    return list_rows(conn, devices, devices.c.device_id, devices.c.device_id == device_id)[0]


@router.get("/{device_id}/chain", response_model=ChainReport)
def get_chain(device_id: str, conn: Conn, who: Staff) -> ChainReport:
    """Re-verify the stored chain and signatures: gaps, reordering, hash mismatches, altered rows."""
    device = conn.execute(sa.select(devices).where(devices.c.device_id == device_id)).first()
    if device is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"device {device_id!r} is not registered")
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
    problems = [ChainIssue(seq=p.seq, record_id=p.record_id, kind=p.kind, detail=p.detail)
                for p in verify_chain(stored)]
    return ChainReport(
        device_id=device_id, records=len(stored), first_seq=stored[0].seq if stored else None,
        last_seq=stored[-1].seq if stored else None, whole=not problems and not bad, problems=problems,
        bad_signatures=bad, flagged_at_ingest=sum(1 for r in rows if r.chain_ok is False))
