"""/api/v1/devices: kiosk registration (public keys), listing, revocation and chain verification."""

import json
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, status

from central_server.auth import Principal, Role
from central_server.db import devices, records
from central_server.deps import Conn, require_roles
from central_server.registry import (
    AlreadyExists,
    BadPublicKey,
    NotRegistered,
    list_rows,
    register_device,
    revoke_device,
)
from central_server.schemas import ChainIssue, ChainReport, DeviceCreate, DevicePublic
from hajiri_wire import AttendanceRecord, WireError, load_public_key, verify_chain, verify_record

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])

Staff = Annotated[Principal, Depends(require_roles(Role.STATE_ADMIN, Role.IT_STAFF))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DevicePublic)
def post_device(body: DeviceCreate, conn: Conn, who: Staff) -> dict:
    try:
        return register_device(conn, body.device_id, body.site_id, body.public_key, actor=who.label)
    except AlreadyExists as e:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(e)) from e
    except (BadPublicKey, NotRegistered) as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(e)) from e


@router.get("", response_model=list[DevicePublic])
def get_devices(conn: Conn, who: Staff) -> list[dict]:
    return list_rows(conn, devices, devices.c.device_id)


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
