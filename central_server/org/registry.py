"""Sites, people and devices: create and list, with named errors the API and CLI turn into messages."""

import time

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.db.schema import devices, people, sites
from central_server.downlink.keys import DownlinkKeyError, check_enc_key, set_enc_key
from central_server.errors import Conflict, Invalid, NotFound
from hajiri_common.timefmt import utc_iso
from hajiri_wire import load_public_key
from hajiri_wire.errors import MalformedPayload

SITE_KINDS = ("office", "hostel", "field")


class RegistryError(Invalid):
    """A create that cannot be done as asked (422)."""


class AlreadyExists(Conflict, RegistryError):
    """The id is taken (409)."""


class NotRegistered(RegistryError):
    """A site (or department, shift, geofence) the request refers to does not exist (422)."""


class Missing(NotFound, RegistryError):
    """The site or device the request is about (its path) does not exist (404)."""


class BadPublicKey(RegistryError):
    """Not a base64 raw 32-byte Ed25519 public key (422)."""


def _site_exists(conn: sa.Connection, site_id: str) -> bool:
    return conn.execute(sa.select(sites.c.site_id).where(sites.c.site_id == site_id)).first() is not None


def create_site(conn: sa.Connection, site_id: str, name: str, kind: str, *, actor: str) -> dict:
    if kind not in SITE_KINDS:
        raise RegistryError(f"site kind {kind!r} is not one of {', '.join(SITE_KINDS)}")
    if _site_exists(conn, site_id):
        raise AlreadyExists(f"site {site_id!r} already exists")
    row = {"site_id": site_id, "name": name, "kind": kind, "created_at": utc_iso(time.time())}
    conn.execute(sa.insert(sites).values(**row))
    write_audit(conn, actor, "site.create", site_id, f"name={name!r} kind={kind}")
    return row


def create_person(conn: sa.Connection, person_id: str, name: str, site_id: str, *, actor: str) -> dict:
    if not _site_exists(conn, site_id):
        raise NotRegistered(f"site {site_id!r} is not registered; create it first (POST /api/v1/sites)")
    if conn.execute(sa.select(people.c.person_id).where(people.c.person_id == person_id)).first():
        raise AlreadyExists(f"person {person_id!r} already exists")
    row = {"person_id": person_id, "name": name, "site_id": site_id, "created_at": utc_iso(time.time())}
    conn.execute(sa.insert(people).values(**row))
    write_audit(conn, actor, "person.create", person_id, f"site={site_id}")
    return row


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
    if not _site_exists(conn, site_id):
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


def _rows(conn: sa.Connection, query: sa.Select) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(query)]


def site_exists(conn: sa.Connection, site_id: str) -> bool:
    return _site_exists(conn, site_id)


def list_sites(conn: sa.Connection, site_id: str | None = None) -> list[dict]:
    """Every site, or the one given."""
    query = sa.select(sites).order_by(sites.c.site_id)
    return _rows(conn, query if site_id is None else query.where(sites.c.site_id == site_id))


def list_people(conn: sa.Connection, site_id: str | None = None) -> list[dict]:
    """The people register (everyone kiosks may record), of one site or all."""
    query = sa.select(people).order_by(people.c.person_id)
    return _rows(conn, query if site_id is None else query.where(people.c.site_id == site_id))


def list_devices(conn: sa.Connection, device_id: str | None = None) -> list[dict]:
    """Every registered device, or the one given."""
    query = sa.select(devices).order_by(devices.c.device_id)
    return _rows(conn, query if device_id is None else query.where(devices.c.device_id == device_id))


def get_device(conn: sa.Connection, device_id: str) -> sa.Row:
    """The device's row, or Missing (404)."""
    row = conn.execute(sa.select(devices).where(devices.c.device_id == device_id)).first()
    if row is None:
        raise Missing(f"device {device_id!r} is not registered")
    return row
