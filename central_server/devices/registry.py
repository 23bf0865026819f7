"""Kiosk devices: registration of their public keys (and X25519 keys), revocation, listing."""

import time

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.db.schema import devices
from central_server.downlink.keys import DownlinkKeyError, check_enc_key, set_enc_key
from central_server.org.sites import (
    AlreadyExists,
    Missing,
    NotRegistered,
    RegistryError,
    create_site,
    site_exists,
)
from hajiri_common.timefmt import utc_iso
from hajiri_wire import load_public_key
from hajiri_wire.errors import MalformedPayload


class BadPublicKey(RegistryError):
    """Not a base64 raw 32-byte Ed25519 public key (422)."""


def register_device(conn: sa.Connection, device_id: str, site_id: str, public_key: str, *, actor: str,
                    create_missing_site: bool = False, enc_public_key: str | None = None) -> dict:
    """Register a kiosk's public key (and the X25519 key its galleries are sealed to, when given). With
    create_missing_site an unknown site is added as an office."""
    try:
        load_public_key(public_key)
        if enc_public_key is not None:
            check_enc_key(enc_public_key)
    except (MalformedPayload, DownlinkKeyError) as e:
        raise BadPublicKey(f"public_key: {e}") from e
    if conn.execute(sa.select(devices.c.device_id).where(devices.c.device_id == device_id)).first():
        raise AlreadyExists(f"device {device_id!r} is already registered")
    if not site_exists(conn, site_id):
        if not create_missing_site:
            raise NotRegistered(f"site {site_id!r} is not registered; create it first (POST /api/v1/sites)")
        create_site(conn, site_id, site_id, "office", actor=actor)
    row = {"device_id": device_id, "site_id": site_id, "public_key": public_key, "status": "active",
           "registered_at": utc_iso(time.time())}
    conn.execute(sa.insert(devices).values(**row))
    write_audit(conn, actor, "device.register", device_id, f"site={site_id}")
    if enc_public_key is not None:
        set_enc_key(conn, device_id, enc_public_key, actor=actor)
    return row


def revoke_device(conn: sa.Connection, device_id: str, *, actor: str) -> None:
    done = conn.execute(sa.update(devices).where(devices.c.device_id == device_id).values(status="revoked"))
    if done.rowcount == 0:
        raise Missing(f"device {device_id!r} is not registered")
    write_audit(conn, actor, "device.revoke", device_id)


def list_devices(conn: sa.Connection, device_id: str | None = None) -> list[dict]:
    """Every registered device, or the one given."""
    query = sa.select(devices).order_by(devices.c.device_id)
    query = query if device_id is None else query.where(devices.c.device_id == device_id)
    return [dict(r._mapping) for r in conn.execute(query)]


def get_device(conn: sa.Connection, device_id: str) -> sa.Row:
    """The device's row, or Missing (404)."""
    row = conn.execute(sa.select(devices).where(devices.c.device_id == device_id)).first()
    if row is None:
        raise Missing(f"device {device_id!r} is not registered")
    return row
