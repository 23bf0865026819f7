"""Device key rotation: check a kiosk's request, retire its old key, register the new one, answer signed.

Also the retired keys' one use: a record that does not verify with the device's current key is tried against
the keys it held before (its outbox backlog was signed before the swap). Looked up only on that failure, so the
normal path costs nothing extra.
"""

import logging
import time

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import Engine

from central_server.access.audit import write_audit
from central_server.db.schema import device_keys, devices, downlink_versions
from central_server.ingest.rejections import IngestStats, Rejection, write_rejections
from hajiri_common.timefmt import utc_iso
from hajiri_wire import DeviceKey, WireError, load_public_key, topics
from hajiri_wire.downlink import key_id
from hajiri_wire.key_rotation import (
    KeyRotation,
    KeyRotationAnswer,
    decode_rotation,
    encode_rotation,
    sign_answer,
    verify_rotation,
)
from hajiri_wire.signing import verify_signature

log = logging.getLogger(__name__)


class RotationRefused(WireError):
    """A rotation request that verified as far as it goes but may not be applied."""


class RetiredKeys:
    """A device's retired keys, read from the DB at the first record that needs them (once per batch)."""

    def __init__(self, conn: sa.Connection, device_id: str) -> None:
        self._conn, self._device_id = conn, device_id
        self._keys: list[Ed25519PublicKey] | None = None

    def verifies(self, body: bytes, sig: str) -> bool:
        if self._keys is None:
            rows = self._conn.execute(sa.select(device_keys.c.public_key).where(
                device_keys.c.device_id == self._device_id).order_by(device_keys.c.id.desc())).scalars()
            self._keys = [load_public_key(k) for k in rows]
        for key in self._keys:
            try:
                verify_signature(key, body, sig)
            except WireError:
                continue
            return True
        return False


def _verifies(msg: KeyRotation, public_b64: str) -> bool:
    try:
        verify_rotation(msg, load_public_key(public_b64))
    except WireError:
        return False
    return True


def _decide(conn: sa.Connection, msg: KeyRotation) -> str:
    """Apply `msg` or raise RotationRefused / BadSignature; returns what was done."""
    device = conn.execute(sa.select(devices.c.status, devices.c.public_key)
                          .where(devices.c.device_id == msg.device_id)).first()
    if device is None or device.status != "active":
        raise RotationRefused(f"device {msg.device_id} is {'not registered' if device is None else 'revoked'}",
                              reason="unknown_device" if device is None else "revoked_device")
    if msg.new_public_key == device.public_key:
        # A resend of a request already accepted (its answer was lost): the key it retired must have signed it.
        retired = conn.execute(sa.select(device_keys.c.public_key).where(
            device_keys.c.device_id == msg.device_id, device_keys.c.replaced_by == msg.new_public_key)).scalars()
        if any(_verifies(msg, k) for k in retired):
            return "already rotated to this key"
        raise RotationRefused("the new key is already the registered key, and no key it replaced signed this",
                              reason="replayed")
    verify_rotation(msg, load_public_key(device.public_key))  # BadSignature: not signed by the registered key
    used = conn.execute(sa.select(device_keys.c.id).where(
        device_keys.c.device_id == msg.device_id,
        sa.or_(device_keys.c.public_key == msg.new_public_key,
               device_keys.c.requested_version == msg.requested_version))).first()
    if used is not None:
        raise RotationRefused(f"key or rotate_key v{msg.requested_version} already used by an earlier rotation",
                              reason="replayed")
    asked = conn.execute(sa.select(downlink_versions.c.id).where(
        downlink_versions.c.device_id == msg.device_id, downlink_versions.c.kind == "command",
        downlink_versions.c.version == msg.requested_version, downlink_versions.c.summary == "rotate_key")).first()
    if asked is None:
        raise RotationRefused(f"no rotate_key command v{msg.requested_version} was issued to {msg.device_id}",
                              reason="not_requested")
    now = utc_iso(time.time())
    conn.execute(sa.insert(device_keys).values(
        device_id=msg.device_id, public_key=device.public_key, replaced_by=msg.new_public_key,
        requested_version=msg.requested_version, retired_at=now))
    conn.execute(sa.update(devices).where(devices.c.device_id == msg.device_id)
                 .values(public_key=msg.new_public_key))
    old_id, new_id = key_id(load_public_key(device.public_key)), key_id(load_public_key(msg.new_public_key))
    write_audit(conn, msg.device_id, "device.key_rotate", msg.device_id,
                f"rotate_key v{msg.requested_version}: {old_id} retired, {new_id} registered")
    return "rotated"


def handle_key_rotation(engine: Engine, topic: str, payload: bytes, server_key: DeviceKey | None, *,
                        stats: IngestStats | None = None, keep: int = 100_000) -> tuple[str, bytes] | None:
    """Handle one request; returns the signed answer's (topic, payload), or None when nobody can be answered.

    Never raises for bad input. A DB failure raises: no answer, the kiosk resends.
    """
    device_id = topics.device_of(topic)
    msg: KeyRotation | None = None
    try:
        if device_id is None or topic != topics.key_rotation(device_id):
            raise WireError(f"not a key rotation topic: {topic!r}", reason="bad_topic")
        msg = decode_rotation(payload)
        if msg.device_id != device_id:
            # The broker ACL proves who published on the topic; a request claiming another device is forged.
            raise WireError(f"published on {device_id}'s topic but claims device {msg.device_id}",
                            reason="topic_mismatch")
        with engine.begin() as conn:
            done = _decide(conn, msg)
    except WireError as e:
        with engine.begin() as conn:
            write_rejections(conn, topic, payload, [Rejection(e.reason, f"key rotation: {e}", device_id)],
                             keep=keep)
        if stats is not None:
            stats.count(rejected=[e.reason])
        if msg is None or msg.device_id != device_id:
            return None
        return _answer(server_key, msg, "refused", e.reason, str(e))
    log.info("key rotation for %s (rotate_key v%d): %s", device_id, msg.requested_version, done)
    return _answer(server_key, msg, "accepted", None, done)


def _answer(server_key: DeviceKey | None, msg: KeyRotation, outcome: str, reason: str | None,
            detail: str) -> tuple[str, bytes] | None:
    if server_key is None:
        log.error("no downlink signing key: cannot answer %s's key rotation (it will resend)", msg.device_id)
        return None
    answer = KeyRotationAnswer(device_id=msg.device_id, new_public_key=msg.new_public_key,
                               requested_version=msg.requested_version, outcome=outcome, reason=reason,
                               detail=detail[:500], server_time=utc_iso(time.time()))
    return topics.key_rotation_answer(msg.device_id), encode_rotation(sign_answer(answer, server_key))
