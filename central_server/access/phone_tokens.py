"""Phone tokens, which act for one employee: issued with an expiry and their issuer, listed, revoked."""

import time

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.access.tokens import Principal, Role, create_token, hash_token
from central_server.db.schema import api_tokens, token_details, token_employees
from central_server.errors import NotFound
from hajiri_common.timefmt import utc_iso

# A phone is re-bound at least every quarter: a lost or passed-on phone stops marking attendance by itself.
PHONE_TOKEN_DAYS = 90
TOKEN_ID_CHARS = 16  # the listed id: a prefix of the token's sha256, never the token


def issue_phone_token(conn: sa.Connection, employee: dict, who: Principal, *, now: float | None = None) -> dict:
    """A new token for the employee's phone, expiring in PHONE_TOKEN_DAYS, recorded with who issued it."""
    expires_at = utc_iso((time.time() if now is None else now) + PHONE_TOKEN_DAYS * 86400)
    token = create_token(conn, Role.EMPLOYEE, f"phone of {employee['employee_id']}", employee["site_id"],
                         employee_id=employee["employee_id"], actor=who.label, expires_at=expires_at,
                         issued_by=who.username)
    return {"employee_id": employee["employee_id"], "token": token, "token_id": _token_id_of(token),
            "expires_at": expires_at}


def _token_id_of(token: str) -> str:
    return hash_token(token)[:TOKEN_ID_CHARS]


def list_phone_tokens(conn: sa.Connection, employee_id: str, *, now: float | None = None) -> list[dict]:
    """Every token issued for this employee's phone, newest first, with its state: active, expired, revoked."""
    at = utc_iso(time.time() if now is None else now)
    q = (sa.select(api_tokens.c.token_sha256, api_tokens.c.label, api_tokens.c.created_at, api_tokens.c.revoked,
                   token_details.c.expires_at, token_details.c.issued_by)
         .select_from(token_employees.join(api_tokens, api_tokens.c.token_sha256 == token_employees.c.token_sha256)
                      .outerjoin(token_details, token_details.c.token_sha256 == api_tokens.c.token_sha256))
         .where(token_employees.c.employee_id == employee_id)
         .order_by(api_tokens.c.created_at.desc(), api_tokens.c.token_sha256))
    return [{"token_id": r.token_sha256[:TOKEN_ID_CHARS], "label": r.label, "created_at": r.created_at,
             "expires_at": r.expires_at, "issued_by": r.issued_by,
             "state": "revoked" if r.revoked else "expired" if r.expires_at is not None and r.expires_at <= at
             else "active"} for r in conn.execute(q)]


def revoke_phone_token(conn: sa.Connection, employee_id: str, token_id: str, *, actor: str) -> None:
    """Revoke one of the employee's phone tokens by its listed id (404 when it is not theirs)."""
    found = conn.execute(sa.select(token_employees.c.token_sha256).where(
        token_employees.c.employee_id == employee_id,
        token_employees.c.token_sha256.like(f"{token_id}%"))).scalars().all()
    if len(token_id) != TOKEN_ID_CHARS or len(found) != 1:
        raise NotFound(f"employee {employee_id!r} has no phone token {token_id!r}")
    conn.execute(sa.update(api_tokens).where(api_tokens.c.token_sha256 == found[0]).values(revoked=True))
    write_audit(conn, actor, "token.revoke", f"phone of {employee_id}", f"token_id={token_id}")


def revoke_issued_by(conn: sa.Connection, username: str) -> int:
    """Revoke every live token this login issued (its account is being disabled); how many."""
    issued = sa.select(token_details.c.token_sha256).where(token_details.c.issued_by == username)
    return conn.execute(sa.update(api_tokens).where(api_tokens.c.token_sha256.in_(issued),
                                                    api_tokens.c.revoked.is_(False)).values(revoked=True)).rowcount
