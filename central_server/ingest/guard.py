"""The uplink guard: topic, size, schema and claimed device checked once per message, then the device's standing."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from central_server.db.schema import devices
from central_server.ingest.rejections import Rejection
from hajiri_wire import WireError, decode_batch, decode_heartbeat, topics
from hajiri_wire.downlink import decode_status
from hajiri_wire.evidence import decode_evidence
from hajiri_wire.key_rotation import decode_rotation


@dataclass(frozen=True)
class Uplink:
    """A message that passed the guard: its kind, the device its topic names (and it claims), decoded once."""

    kind: str
    device_id: str
    topic: str
    payload: bytes
    message: Any  # the decoded wire message of `kind` (RecordBatch, Heartbeat, EvidenceMessage, ...)
    received_unix_ms: int


@dataclass(frozen=True)
class Device:
    """The registered, active device an uplink came from."""

    device_id: str
    site_id: str
    public_key: str


class Refused(Exception):
    """A message refused with a reason code. `uplink` is set once the message is known to be its device's own
    (decoded, claiming the device of its topic): only then may the device be answered."""

    def __init__(self, rejection: Rejection, *, kind: str | None = None, uplink: Uplink | None = None) -> None:
        super().__init__(f"{rejection.reason}: {rejection.detail}")
        self.rejection = rejection
        self.kind = uplink.kind if uplink is not None else kind
        self.uplink = uplink


def _batch_claims(batch) -> set[str]:
    return {batch.device_id, *(r.device_id for r in batch.records)}


def _claims(message) -> set[str]:
    return {message.device_id}


# Kind -> (decoder, the device ids the decoded message speaks for). The decoders enforce size and schema.
DECODERS: dict[str, tuple[Callable[[bytes], Any], Callable[[Any], set[str]]]] = {
    "records": (decode_batch, _batch_claims),
    "heartbeat": (decode_heartbeat, _claims),
    "evidence": (decode_evidence, _claims),
    "downlink_status": (decode_status, _claims),
    "key_rotation": (decode_rotation, _claims),
}
assert set(DECODERS) == set(topics.UPLINK_KINDS), "every uplink kind needs a decoder"


def screen(topic: str, payload: bytes, *, expect: str | None = None,
           received_unix_ms: int | None = None) -> Uplink:
    """The topic parsed once, the payload decoded by its kind, the claimed device checked; raises Refused.

    `expect`: the only kind the caller handles (a per-kind entry point); None routes any uplink kind.
    """
    received = int(time.time() * 1000) if received_unix_ms is None else received_unix_ms
    parsed = topics.uplink_of(topic)
    if parsed is None or (expect is not None and parsed[0] != expect):
        raise Refused(Rejection("bad_topic", f"not a {expect or 'uplink'} topic: {topic!r}"), kind=expect)
    kind, device_id = parsed
    decode, claims = DECODERS[kind]
    try:
        message = decode(payload)
    except WireError as e:
        raise Refused(Rejection(e.reason, str(e), device_id), kind=kind) from None
    # The broker ACL proves who published on the topic; a message claiming another device is a forgery.
    others = claims(message) - {device_id}
    if others:
        detail = f"{kind} published on {device_id}'s topic but claims device(s) {sorted(others)}"
        raise Refused(Rejection("topic_mismatch", detail, device_id), kind=kind)
    return Uplink(kind, device_id, topic, payload, message, received)


def active_device(conn: sa.Connection, uplink: Uplink) -> Device:
    """The uplink's device, read in the caller's transaction (so a revocation takes effect at the next message,
    never mid-write); raises Refused (unknown_device, revoked_device) unless it is registered and active."""
    row = conn.execute(sa.select(devices.c.status, devices.c.site_id, devices.c.public_key)
                       .where(devices.c.device_id == uplink.device_id)).first()
    if row is None or row.status != "active":
        reason = "unknown_device" if row is None else "revoked_device"
        state = "not registered" if row is None else row.status
        detail = f"{uplink.kind} from {uplink.device_id}, which is {state}; not stored"
        raise Refused(Rejection(reason, detail, uplink.device_id), uplink=uplink)
    return Device(uplink.device_id, row.site_id, row.public_key)
