"""Downlink keys: the server's Ed25519 signing key (0600 file, made on first use) and devices' X25519 keys."""

import contextlib
import time
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from central_server.access.audit import write_audit
from central_server.db.schema import device_enc_keys
from central_server.db.upsert import insert_on_conflict
from central_server.errors import Invalid, ServerMisconfigured
from hajiri_common.files import PrivateFileError, read_private
from hajiri_common.timefmt import utc_iso
from hajiri_wire import DeviceKey
from hajiri_wire.downlink import load_x25519_public
from hajiri_wire.errors import MalformedPayload


class DownlinkKeyError(Invalid):
    """A device X25519 key that is not one (422), or (SigningKeyUnusable) the server's signing key file."""


class SigningKeyUnusable(ServerMisconfigured, DownlinkKeyError):
    """The server's signing key file cannot be used (500: the operator fixes it, not the caller)."""


def load_or_create_signing_key(path: Path) -> DeviceKey:
    """The server's signing key; created (mode 0600) when the file is absent, refused when others can read it."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two workers starting together keep the first one's key.
        with contextlib.suppress(FileExistsError):
            DeviceKey.generate().save(path)
    try:
        pem = read_private(path, "downlink signing key")
    except PrivateFileError as e:
        raise SigningKeyUnusable(str(e)) from e
    try:
        return DeviceKey.from_pem(pem, str(path))
    except ValueError as e:
        raise SigningKeyUnusable(f"downlink signing key {path}: unreadable: {e}") from e


def check_enc_key(enc_public_key: str) -> X25519PublicKey:
    try:
        return load_x25519_public(enc_public_key)
    except MalformedPayload as e:
        raise DownlinkKeyError(f"enc_public_key: {e}") from e


def set_enc_key(conn: sa.Connection, device_id: str, enc_public_key: str, *, actor: str) -> None:
    """Record (or replace) the X25519 key this device's galleries are sealed to."""
    check_enc_key(enc_public_key)
    insert_on_conflict(conn, device_enc_keys, [{"device_id": device_id, "enc_public_key": enc_public_key,
                                                "updated_at": utc_iso(time.time())}], ["device_id"], update=True)
    write_audit(conn, actor, "device.enc_key", device_id)


def get_enc_key(conn: sa.Connection, device_id: str) -> X25519PublicKey | None:
    row = conn.execute(sa.select(device_enc_keys.c.enc_public_key)
                       .where(device_enc_keys.c.device_id == device_id)).first()
    return None if row is None else load_x25519_public(row.enc_public_key)

