"""Sites and the people register (who kiosks may record at each site): create, list, and the registry's
named errors (each with its HTTP status)."""

import time

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.db.schema import people, sites
from central_server.errors import Conflict, Invalid, NotFound
from hajiri_common.timefmt import utc_iso

SITE_KINDS = ("office", "hostel", "field")


class RegistryError(Invalid):
    """A create that cannot be done as asked (422)."""


class AlreadyExists(Conflict, RegistryError):
    """The id is taken (409)."""


class NotRegistered(RegistryError):
    """A site (or department, shift, geofence) the request refers to does not exist (422)."""


class Missing(NotFound, RegistryError):
    """The site or device the request is about (its path) does not exist (404)."""


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
