"""Password users: scrypt hashes that name their parameters, user records, and every change audited."""

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.access.phone_tokens import revoke_issued_by
from central_server.access.tokens import SITE_SCOPED_ROLES, Role
from central_server.db.schema import api_tokens, employees, sites, token_details, users
from central_server.errors import Invalid, NotFound
from hajiri_common.timefmt import utc_iso


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost; stored in every hash so it can be raised later without breaking old hashes."""

    n: int = 2**14
    r: int = 8
    p: int = 1
    dklen: int = 32


CURRENT = ScryptParams()
SALT_BYTES = 16
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024  # scrypt takes any length; a cap keeps a megabyte "password" from being work


class UserError(Invalid):
    """A user that cannot be created or changed as asked; the message says why."""


class NoSuchUser(NotFound, UserError):
    """The user to change does not exist."""


class BadHash(ValueError):
    """A stored password hash that cannot be read (corrupt or an unknown scheme)."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, params: ScryptParams) -> bytes:
    # maxmem: 128 * n * r bytes plus slack; the default 32 MiB cap would refuse a raised n.
    return hashlib.scrypt(password.encode(), salt=salt, n=params.n, r=params.r, p=params.p, dklen=params.dklen,
                          maxmem=256 * params.n * params.r + 1024 * 1024)


def hash_password(password: str, params: ScryptParams = CURRENT) -> str:
    """'scrypt$n=16384,r=8,p=1$<salt>$<key>' with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, params)
    return f"scrypt$n={params.n},r={params.r},p={params.p}${_b64(salt)}${_b64(key)}"


def parse_hash(stored: str) -> tuple[ScryptParams, bytes, bytes]:
    try:
        scheme, cost, salt, key = stored.split("$")
        values = dict(part.split("=", 1) for part in cost.split(","))
        raw_key = _unb64(key)
        params = ScryptParams(int(values["n"]), int(values["r"]), int(values["p"]), len(raw_key))
        salt_bytes = _unb64(salt)
    except (ValueError, KeyError) as e:
        raise BadHash(f"unreadable password hash: {e}") from e
    if scheme != "scrypt":
        raise BadHash(f"unknown password scheme {scheme!r}")
    return params, salt_bytes, raw_key


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of a password against its stored hash."""
    params, salt, key = parse_hash(stored)
    return hmac.compare_digest(_scrypt(password, salt, params), key)


def needs_rehash(stored: str, params: ScryptParams = CURRENT) -> bool:
    old, _, key = parse_hash(stored)
    return (old.n, old.r, old.p, len(key)) < (params.n, params.r, params.p, params.dklen)


# Checked against when the username is unknown, so a miss costs the same scrypt as a wrong password.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"password too short: at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise UserError(f"password too long: at most {MAX_PASSWORD_CHARS} characters")


def _check_scope(conn: sa.Connection, role: Role, site_id: str | None, district: str | None,
                 employee_id: str | None) -> str | None:
    """The user's site after checking role, site, district and employee fit together."""
    if employee_id is not None:
        if role is not Role.EMPLOYEE:
            raise UserError("only an employee user is bound to an employee_id")
        home = conn.execute(sa.select(employees.c.site_id).where(employees.c.employee_id == employee_id)).first()
        if home is None:
            raise UserError(f"employee {employee_id!r} is not registered")
        site_id = home.site_id
    if role is Role.EMPLOYEE and employee_id is None:
        raise UserError("an employee user needs the employee_id it logs in as")
    if role in SITE_SCOPED_ROLES and site_id is None:
        raise UserError(f"role {role.value} sees one site only: give its site id")
    if site_id is not None and conn.execute(sa.select(sites.c.site_id).where(sites.c.site_id == site_id)).first() is None:
        raise UserError(f"site {site_id!r} is not registered")
    if district is not None and role is not Role.DISTRICT_OFFICER:
        raise UserError("only a district officer user names a district")
    if role is Role.DISTRICT_OFFICER and not (district or "").strip():
        raise UserError("a district officer user needs a district")
    if role is Role.DISTRICT_OFFICER and site_id is not None:
        raise UserError("a district officer user names a district, not a site")
    return site_id


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError as e:
        raise UserError(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}") from e


def get_user(conn: sa.Connection, username: str) -> dict | None:
    row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    return None if row is None else dict(row._mapping)


def public_user(user: dict) -> dict:
    return {k: v for k, v in user.items() if k != "password_hash"}


def create_user(conn: sa.Connection, username: str, password: str, role: Role | str, *, actor: str,
                site_id: str | None = None, district: str | None = None, employee_id: str | None = None) -> dict:
    """A new login; the password is stored only as a scrypt hash."""
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise UserError("username: 1 to 64 characters, no spaces")
    role = _role(role)
    site_id = _check_scope(conn, role, site_id, district, employee_id)
    check_password_rules(password)
    if get_user(conn, username) is not None:
        raise UserError(f"user {username!r} already exists")
    now = utc_iso(time.time())
    row = {"username": username, "password_hash": hash_password(password), "role": role.value, "site_id": site_id,
           "district": district.strip() if district else None, "employee_id": employee_id, "disabled": False,
           "created_at": now, "updated_at": now}
    conn.execute(sa.insert(users).values(**row))
    write_audit(conn, actor, "user.create", username,
                f"role={role.value} site={site_id} district={row['district']} employee={employee_id}")
    return public_user(row)


def set_password(conn: sa.Connection, username: str, password: str, *, actor: str) -> None:
    check_password_rules(password)
    if get_user(conn, username) is None:
        raise NoSuchUser(f"user {username!r} does not exist")
    conn.execute(sa.update(users).where(users.c.username == username).values(
        password_hash=hash_password(password), updated_at=utc_iso(time.time())))
    write_audit(conn, actor, "user.password", username, "password changed")


def set_disabled(conn: sa.Connection, username: str, disabled: bool, *, actor: str) -> None:
    if get_user(conn, username) is None:
        raise NoSuchUser(f"user {username!r} does not exist")
    conn.execute(sa.update(users).where(users.c.username == username).values(
        disabled=disabled, updated_at=utc_iso(time.time())))
    revoked = 0
    if disabled:  # a disabled user's live login tokens stop working now, not at their expiry
        issued = sa.select(token_details.c.token_sha256).where(token_details.c.username == username)
        revoked = conn.execute(sa.update(api_tokens).where(api_tokens.c.token_sha256.in_(issued),
                                                           api_tokens.c.revoked.is_(False))
                               .values(revoked=True)).rowcount
        revoked += revoke_issued_by(conn, username)  # and the phone tokens it issued die with it
    write_audit(conn, actor, "user.disable" if disabled else "user.enable", username,
                f"tokens revoked={revoked}" if disabled else "")


def rehash(conn: sa.Connection, username: str, password: str) -> None:
    """Store the password under the current (raised) parameters after a successful login."""
    conn.execute(sa.update(users).where(users.c.username == username).values(password_hash=hash_password(password)))
    write_audit(conn, "server", "user.rehash", username, f"scrypt n={CURRENT.n} r={CURRENT.r} p={CURRENT.p}")
