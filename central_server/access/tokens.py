"""API tokens: roles, creation (shown once, stored as sha256), lookup of the caller behind a token
(with a district officer's district and a login token's expiry)."""

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from central_server.access.audit import write_audit
from central_server.db.schema import (
    api_tokens,
    employees,
    site_details,
    sites,
    token_details,
    token_employees,
)
from central_server.errors import Invalid
from hajiri_common.timefmt import utc_iso


class Role(StrEnum):
    STATE_ADMIN = "state_admin"
    DISTRICT_OFFICER = "district_officer"
    OFFICE_HEAD = "office_head"
    WARDEN = "warden"
    IT_STAFF = "it_staff"
    EMPLOYEE = "employee"


# Roles whose view is limited to one site: their token must name it.
SITE_SCOPED_ROLES = frozenset({Role.OFFICE_HEAD, Role.WARDEN, Role.EMPLOYEE})


class TokenError(Invalid):
    """A token that cannot be created as asked (unknown role, missing or unknown site)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: role and label of their token, the one site they may see (None: all), for an
    employee token the one employee it speaks for, and for a district officer the district and the sites
    in it (resolved when the token is looked up; None: not district-limited)."""

    role: Role
    label: str
    site_id: str | None
    employee_id: str | None = None
    district: str | None = None
    district_sites: frozenset[str] | None = None
    username: str | None = None  # the user a login token was issued to (None: a machine token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(conn: sa.Connection, role: Role | str, label: str, site_id: str | None = None,
                 *, token: str | None = None, actor: str = "cli", employee_id: str | None = None,
                 district: str | None = None, expires_at: str | None = None, username: str | None = None,
                 issued_by: str | None = None) -> str:
    """Store a new token's hash and return the token itself; it is never stored or shown again.

    An employee token given an employee_id speaks for that employee only, at the employee's site. A district
    officer token given a district sees that district's sites only. expires_at (wire UTC) makes it short-lived;
    issued_by names the login that issued it, whose disabling revokes it."""
    try:
        role = Role(role)
    except ValueError as e:
        raise TokenError(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}") from e
    if employee_id is not None:
        if role is not Role.EMPLOYEE:
            raise TokenError("only an employee token is bound to an employee_id")
        home = conn.execute(sa.select(employees.c.site_id).where(employees.c.employee_id == employee_id)).first()
        if home is None:
            raise TokenError(f"employee {employee_id!r} is not registered")
        if site_id is not None and site_id != home.site_id:
            raise TokenError(f"employee {employee_id!r} belongs to site {home.site_id}, not {site_id}")
        site_id = home.site_id
    if district is not None:
        district = district.strip()
        if role is not Role.DISTRICT_OFFICER:
            raise TokenError("only a district officer token is limited to a district")
        if not district:
            raise TokenError("district must not be empty")
        if site_id is not None:
            raise TokenError("a district officer token names a district or a site, not both")
    if role in SITE_SCOPED_ROLES and site_id is None:
        raise TokenError(f"role {role.value} sees one site only: give its site id")
    if site_id is not None and conn.execute(sa.select(sites.c.site_id).where(sites.c.site_id == site_id)).first() is None:
        raise TokenError(f"site {site_id!r} is not registered")
    if not label.strip():
        raise TokenError("a token needs a label saying whose it is")
    token = token or secrets.token_urlsafe(32)
    conn.execute(sa.insert(api_tokens).values(
        token_sha256=hash_token(token), role=role.value, label=label.strip(), site_id=site_id,
        created_at=utc_iso(time.time()), revoked=False))
    if employee_id is not None:
        conn.execute(sa.insert(token_employees).values(token_sha256=hash_token(token), employee_id=employee_id))
    if district is not None or expires_at is not None or username is not None or issued_by is not None:
        conn.execute(sa.insert(token_details).values(token_sha256=hash_token(token), district=district,
                                                     expires_at=expires_at, username=username,
                                                     issued_by=issued_by))
    write_audit(conn, actor, "token.create", label.strip(),
                f"role={role.value} site={site_id}" + (f" employee={employee_id}" if employee_id else "")
                + (f" district={district}" if district else "") + (f" expires={expires_at}" if expires_at else ""))
    return token


def revoke_token(conn: sa.Connection, token: str, *, actor: str, why: str) -> None:
    """Revoke one token (a logout revokes the token it came with)."""
    conn.execute(sa.update(api_tokens).where(api_tokens.c.token_sha256 == hash_token(token)).values(revoked=True))
    write_audit(conn, actor, "token.revoke", actor, why)


def district_site_ids(conn: sa.Connection, district: str) -> frozenset[str]:
    """Sites whose site_details.district is this district (case and surrounding spaces ignored)."""
    rows = conn.execute(sa.select(site_details.c.site_id).where(
        sa.func.lower(sa.func.trim(site_details.c.district)) == district.strip().lower()))
    return frozenset(r.site_id for r in rows)


def lookup_token(conn: sa.Connection, token: str, now: float | None = None) -> tuple[Principal | None, str]:
    """The caller behind a token, or None and why not (unknown, revoked or expired)."""
    row = conn.execute(sa.select(api_tokens).where(api_tokens.c.token_sha256 == hash_token(token))).first()
    if row is None or row.revoked:
        return None, "unknown or revoked token"
    details = conn.execute(sa.select(token_details).where(
        token_details.c.token_sha256 == row.token_sha256)).first()
    expires_at = None if details is None else details.expires_at
    if expires_at is not None and expires_at <= utc_iso(time.time() if now is None else now):
        return None, f"token expired at {expires_at}; log in again"
    employee_id = conn.execute(sa.select(token_employees.c.employee_id).where(
        token_employees.c.token_sha256 == row.token_sha256)).scalar_one_or_none()
    district = None if details is None else details.district
    visible = None if district is None else district_site_ids(conn, district)
    username = None if details is None else details.username
    return Principal(Role(row.role), row.label, row.site_id, employee_id, district, visible, username), ""


def find_principal(conn: sa.Connection, token: str, now: float | None = None) -> Principal | None:
    """The caller behind a valid token (None for unknown, revoked or expired tokens)."""
    return lookup_token(conn, token, now)[0]


def ensure_bootstrap_token(engine: Engine, token: str) -> bool:
    """Make the configured admin token valid (once); True when it was added now."""
    with engine.begin() as conn:
        exists = conn.execute(sa.select(api_tokens.c.role).where(
            api_tokens.c.token_sha256 == hash_token(token))).first()
        if exists is not None:
            return False
        create_token(conn, Role.STATE_ADMIN, "bootstrap admin (config)", token=token, actor="server")
        return True
