"""API tokens: roles, creation (shown once, stored as sha256), lookup of the caller behind a token."""

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from central_server.audit import write_audit
from central_server.db import api_tokens, sites
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


class TokenError(ValueError):
    """A token that cannot be created as asked (unknown role, missing or unknown site)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the role and label of their token, and the one site they may see (None: all)."""

    role: Role
    label: str
    site_id: str | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(conn: sa.Connection, role: Role | str, label: str, site_id: str | None = None,
                 *, token: str | None = None, actor: str = "cli") -> str:
    """Store a new token's hash and return the token itself; it is never stored or shown again."""
    try:
        role = Role(role)
    except ValueError as e:
        raise TokenError(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}") from e
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
    write_audit(conn, actor, "token.create", label.strip(), f"role={role.value} site={site_id}")
    return token


def find_principal(conn: sa.Connection, token: str) -> Principal | None:
    row = conn.execute(sa.select(api_tokens).where(api_tokens.c.token_sha256 == hash_token(token))).first()
    if row is None or row.revoked:
        return None
    return Principal(Role(row.role), row.label, row.site_id)


def ensure_bootstrap_token(engine: Engine, token: str) -> bool:
    """Make the configured admin token valid (once); True when it was added now."""
    with engine.begin() as conn:
        exists = conn.execute(sa.select(api_tokens.c.role).where(
            api_tokens.c.token_sha256 == hash_token(token))).first()
        if exists is not None:
            return False
        create_token(conn, Role.STATE_ADMIN, "bootstrap admin (config)", token=token, actor="server")
        return True
