"""/api/v1/devices: kiosk registration (public keys), listing, revocation and chain verification."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from central_server.api.deps import Conn, ItStaff, check_device_scope, check_site_scope, sites_visible_to
from central_server.devices.heartbeat import DEFAULT_SILENT_AFTER_S
from central_server.devices.inventory import clock_report, devices_with_health, verify_device_chain
from central_server.devices.registry import list_devices, register_device, revoke_device
from central_server.devices.schemas import ChainReport, DeviceCreate, DevicePublic, HeartbeatReport
from central_server.evidence.schemas import DeviceLivenessPublic

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])

# A device with no heartbeat for this long is listed as silent.
SilentAfter = Annotated[float, Query(ge=10, le=30 * 24 * 3600,
                                     description="seconds without a heartbeat before a device counts as silent")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DevicePublic)
def post_device(body: DeviceCreate, conn: Conn, who: ItStaff) -> dict:
    """Register a kiosk's public key at a site (a site-scoped IT login: its own site only, else 403)."""
    check_site_scope(who, body.site_id)
    return register_device(conn, body.device_id, body.site_id, body.public_key, actor=who.label)


@router.get("", response_model=list[DeviceLivenessPublic])
def get_devices(conn: Conn, who: ItStaff, silent_after_s: SilentAfter = DEFAULT_SILENT_AFTER_S) -> list[dict]:
    """Every device with its latest heartbeat's figures; `silent` when none came within silent_after_s."""
    visible = sites_visible_to(conn, who)
    found = devices_with_health(conn, silent_after_s)
    return found if visible is None else [d for d in found if d["site_id"] in visible]


@router.get("/{device_id}/heartbeat", response_model=HeartbeatReport)
def get_heartbeat(device_id: str, conn: Conn, who: ItStaff,
                  silent_after_s: SilentAfter = DEFAULT_SILENT_AFTER_S) -> dict:
    """The latest heartbeat in full, the clock anchors per boot, and how many unsynced records were re-based."""
    check_device_scope(conn, who, [device_id])
    return clock_report(conn, device_id, silent_after_s)


@router.post("/{device_id}/revoke", response_model=DevicePublic)
def post_revoke(device_id: str, conn: Conn, who: ItStaff) -> dict:
    check_device_scope(conn, who, [device_id])
    revoke_device(conn, device_id, actor=who.label)
    return list_devices(conn, device_id)[0]


@router.get("/{device_id}/chain", response_model=ChainReport)
def get_chain(device_id: str, conn: Conn, who: ItStaff) -> dict:
    """Re-verify the stored chain and signatures: gaps, reordering, hash mismatches, altered rows."""
    check_device_scope(conn, who, [device_id])
    return verify_device_chain(conn, device_id)
