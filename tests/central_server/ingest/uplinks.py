"""Well-formed uplinks of every kind, for the guard's and the routes' tests."""

import time

from hajiri_common.timefmt import utc_iso
from hajiri_wire import DeviceKey, Heartbeat, RecordBatch, encode_batch, encode_heartbeat
from hajiri_wire.downlink import DownlinkStatus, encode_status
from hajiri_wire.evidence import EvidenceKey, encode_evidence, seal_evidence
from hajiri_wire.ids import uuid7
from hajiri_wire.key_rotation import encode_rotation, sign_rotation

AT = "2026-11-25T09:00:00.000Z"
JPEG = b"\xff\xd8\xff" + b"\x00" * 64


def payload_of(kind: str, kiosk, device_id: str = "kiosk-01") -> bytes:
    """A well-formed uplink of `kind` claiming `device_id`, signed by `kiosk` where the kind is signed."""
    if kind == "records":
        rec = kiosk.record()
        if device_id != kiosk.device_id:
            rec = rec.model_copy(update={"device_id": device_id})
        return encode_batch(RecordBatch(device_id=device_id, records=[rec]))
    if kind == "heartbeat":
        return encode_heartbeat(Heartbeat(
            device_id=device_id, sent_at=utc_iso(time.time()), boot_id="boot-a", mono_ns=10**12, uptime_s=1.0,
            clock_synced=True, queue_depth=0, oldest_unsent_age_s=None, cpu_temp_c=None, disk_free_bytes=10**9,
            model_versions={}, last_error=None))
    if kind == "evidence":
        return encode_evidence(seal_evidence(JPEG, device_id=device_id, record_id=uuid7(), taken_at=AT,
                                             device_key=kiosk.key, server_public=EvidenceKey.generate().public))
    if kind == "downlink_status":
        return encode_status(DownlinkStatus(device_id=device_id, kind="gallery", version=1, outcome="applied",
                                            at=AT))
    return encode_rotation(sign_rotation(device_id, kiosk.key, DeviceKey.generate(), 3, AT))
