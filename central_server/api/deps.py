"""FastAPI dependencies: a DB connection per request (one transaction), role-checked callers, site scope."""

import time
from collections.abc import Callable, Iterator
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request, status

from central_server.access.tokens import Principal, Role, district_site_ids, lookup_token

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


def request_clock(request: Request) -> float:
    """Now, in epoch seconds; tests put a settable clock on app.state.clock instead of sleeping."""
    clock = getattr(request.app.state, "clock", None)
    return time.time() if clock is None else clock()


def authorize(conn: sa.Connection, token: str | None, roles: frozenset[Role], *, now: float | None = None) -> Principal:
    if token is None:
        raise _unauthorized("missing credentials: send Authorization: Bearer <token>")
    principal, why = lookup_token(conn, token, now)
    if principal is None:
        raise _unauthorized(why)
    if principal.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail=f"role {principal.role.value} may not do this (needs one of: {allowed})")
    return principal


def require_roles(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting only bearer tokens of the given roles (401 without one, 403 wrong role)."""
    allowed = frozenset(roles)

    def dependency(request: Request, conn: Conn) -> Principal:
        return authorize(conn, bearer_token(request), allowed, now=request_clock(request))

    return dependency


def check_site_scope(principal: Principal, site_id: str | None) -> str | None:
    """The site a caller may look at: their own if their token is site-scoped, else what they asked.

    A district officer may name any site of their district; without a site_id they get their district's only
    site, and a 422 asking for one when it has several (a None here would mean every site in the state).
    List endpoints that can cover several sites use sites_visible_to instead."""
    if principal.district_sites is not None:
        return _district_site(principal, site_id)
    if principal.site_id is None:
        return site_id
    if site_id is not None and site_id != principal.site_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"this token is limited to site {principal.site_id}")
    return principal.site_id


def _district_site(principal: Principal, site_id: str | None) -> str:
    visible = principal.district_sites or frozenset()
    if site_id is not None:
        if site_id not in visible:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail=f"this token is limited to district {principal.district}")
        return site_id
    if len(visible) == 1:
        return next(iter(visible))
    if not visible:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"district {principal.district} has no sites yet")
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                        detail=f"site_id: district {principal.district} has {len(visible)} sites; name one of "
                               f"{', '.join(sorted(visible))}")


def sites_visible_to(conn: sa.Connection, principal: Principal) -> set[str] | None:
    """The sites a caller may see, for list endpoints: None means every site (state-wide roles)."""
    if principal.district is not None:
        return set(district_site_ids(conn, principal.district))
    if principal.site_id is not None:
        return {principal.site_id}
    return None
