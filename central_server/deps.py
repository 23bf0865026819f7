"""FastAPI dependencies: a DB connection per request (one transaction) and role-checked callers."""

from collections.abc import Callable, Iterator
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request, status

from central_server.auth import Principal, Role, find_principal

DASHBOARD_COOKIE = "hajiri_token"


def get_conn(request: Request) -> Iterator[sa.Connection]:
    """A connection inside a transaction: committed when the endpoint returns, rolled back if it raises."""
    with request.app.state.engine.begin() as conn:
        yield conn


Conn = Annotated[sa.Connection, Depends(get_conn)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def authorize(conn: sa.Connection, token: str | None, roles: frozenset[Role]) -> Principal:
    if token is None:
        raise _unauthorized("missing credentials: send Authorization: Bearer <token>")
    principal = find_principal(conn, token)
    if principal is None:
        raise _unauthorized("unknown or revoked token")
    if principal.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail=f"role {principal.role.value} may not do this (needs one of: {allowed})")
    return principal


def require_roles(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting only bearer tokens of the given roles (401 without one, 403 wrong role)."""
    allowed = frozenset(roles)

    def dependency(request: Request, conn: Conn) -> Principal:
        return authorize(conn, bearer_token(request), allowed)

    return dependency


def check_site_scope(principal: Principal, site_id: str | None) -> str | None:
    """The site a caller may look at: their own if their token is site-scoped, else what they asked."""
    if principal.site_id is None:
        return site_id
    if site_id is not None and site_id != principal.site_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"this token is limited to site {principal.site_id}")
    return principal.site_id
