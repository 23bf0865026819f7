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
from central_server.ingest.guard import Refused, Uplink, active_device
from central_server.ingest.handling import Context, Handled, Publish, Route, run_one
from central_server.ingest.rejections import DEFAULT_REJECTIONS_KEEP, IngestStats, Rejection
from hajiri_common.timefmt import utc_iso
from hajiri_wire import DeviceKey, WireError, load_public_key, topics
from hajiri_wire.downlink import key_id
from hajiri_wire.key_rotation import (
    KeyRotation,
    KeyRotationAnswer,
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


def _decide(conn: sa.Connection, uplink: Uplink) -> str:
    """Apply the request or raise Refused (its device) / RotationRefused / BadSignature; returns what was done."""
    msg: KeyRotation = uplink.message
    device = active_device(conn, uplink)
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
                        stats: IngestStats | None = None,
                        keep: int = DEFAULT_REJECTIONS_KEEP) -> tuple[str, bytes] | None:
    """Handle one request; returns the signed answer's (topic, payload), or None when nobody can be answered.

    Never raises for bad input. A DB failure raises: no answer, the kiosk resends.
    """
    ctx = Context(engine, stats, keep, signing_key=lambda: server_key)
    return run_one(ctx, ROUTE, topic, payload).report


def rotate_key(ctx: Context, uplink: Uplink) -> Handled:
    """The key rotation route: apply the request in one transaction; the signed answer is what to publish."""
    msg: KeyRotation = uplink.message
    try:
        with ctx.engine.begin() as conn:
            done = _decide(conn, uplink)
    except WireError as e:
        raise Refused(Rejection(e.reason, f"key rotation: {e}", uplink.device_id), uplink=uplink) from None
    log.info("key rotation for %s (rotate_key v%d): %s", uplink.device_id, msg.requested_version, done)
    return _answered(ctx, msg, "accepted", None, done)


def refused_rotation(ctx: Context, _topic: str, refused: Refused) -> Handled:
    """A request that is the device's own (decoded, on its topic) hears a signed refusal; any other, nothing."""
    if refused.uplink is None:
        return Handled()
    rejection = refused.rejection
    return _answered(ctx, refused.uplink.message, "refused", rejection.reason, rejection.detail)


def _answered(ctx: Context, msg: KeyRotation, outcome: str, reason: str | None, detail: str) -> Handled:
    server_key = ctx.signing_key() if ctx.signing_key is not None else None
    answer = _answer(server_key, msg, outcome, reason, detail)
    return Handled(report=answer, publish=[] if answer is None else [Publish(*answer)])


def _answer(server_key: DeviceKey | None, msg: KeyRotation, outcome: str, reason: str | None,
            detail: str) -> tuple[str, bytes] | None:
    if server_key is None:
        log.error("no downlink signing key: cannot answer %s's key rotation (it will resend)", msg.device_id)
        return None
    answer = KeyRotationAnswer(device_id=msg.device_id, new_public_key=msg.new_public_key,
                               requested_version=msg.requested_version, outcome=outcome, reason=reason,
                               detail=detail[:500], server_time=utc_iso(time.time()))
    return topics.key_rotation_answer(msg.device_id), encode_rotation(sign_answer(answer, server_key))


ROUTE = Route("key_rotation", rotate_key, refused_rotation, on_error="raise")
