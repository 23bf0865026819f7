"""Who is looking at a page: the session cookie's user (or a redirect to /login), their language and CSRF
token, and the page role sets (the API's, named once in api/deps.py)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request

from central_server.access.tokens import Principal, Role, hash_token, lookup_token
from central_server.api import deps as api
from central_server.db.schema import token_details, users
from central_server.errors import Forbidden, Unauthorized
from central_server.web.i18n import check_language
from central_server.web.session import CSRF_FIELD, LANGUAGE_COOKIE, SESSION_COOKIE, csrf_for, csrf_matches


class LoginRequired(Unauthorized):
    """No session, or an expired or revoked one: pages answer with a redirect to /login."""


@dataclass(frozen=True)
class PageUser:
    """The signed-in person: their principal (role, site, district, employee), username, language, CSRF token."""

    principal: Principal
    username: str | None
    language: str
    csrf: str
    token: str

    @property
    def role(self) -> Role:
        return self.principal.role


def request_language(request: Request, username: str | None = None, conn: sa.Connection | None = None) -> str:
    """The user's stored choice, else the language cookie, else the server's default."""
    if username is not None and conn is not None:
        stored = conn.execute(sa.select(users.c.language).where(users.c.username == username)).scalar()
        if check_language(stored):
            return stored
    return check_language(request.cookies.get(LANGUAGE_COOKIE)) or request.app.state.config.http.language


def session_user(request: Request, conn: sa.Connection, token: str | None = None) -> PageUser:
    """The session's user (or the given login token's), or LoginRequired. Only tokens made by signing in are
    accepted, never API tokens pasted into a cookie."""
    token = token or request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired("sign in first")
    principal, why = lookup_token(conn, token, api.request_clock(request))
    if principal is None:
        raise LoginRequired(why)
    username = conn.execute(sa.select(token_details.c.username)
                            .where(token_details.c.token_sha256 == hash_token(token))).scalar()
    if username is None:
        raise LoginRequired("this session was not made by signing in")
    return PageUser(principal, username, request_language(request, username, conn), csrf_for(token), token)


def page_user(roles: frozenset[Role]) -> Callable[..., PageUser]:
    """A dependency admitting the session's user if their role is one of `roles` (403 page otherwise)."""

    def dependency(request: Request, conn: api.Conn) -> PageUser:
        user = session_user(request, conn)
        request.state.page_user = user  # the error page speaks the user's language and shows their menu
        if user.role not in roles:
            raise Forbidden("this page is not for your role")
        return user

    return dependency


async def checked_form(request: Request) -> dict[str, str]:
    """A posted form (bounded by Starlette's limits) whose CSRF field matches the session's; else 403."""
    form = await request.form(max_files=0, max_fields=50, max_part_size=64 * 1024)
    token = request.cookies.get(SESSION_COOKIE)
    given = form.get(CSRF_FIELD)
    if not token or not csrf_matches(csrf_for(token), given if isinstance(given, str) else None):
        raise Forbidden("this form has expired or did not come from this site; reload the page and try again")
    return {k: v for k, v in form.items() if isinstance(v, str)}


CheckedForm = Annotated[dict[str, str], Depends(checked_form)]

# Page role sets: the API's, so a page never shows more than its API would.
AnyoneOnPage = Annotated[PageUser, Depends(page_user(api.ANY_ROLES))]
OfficeStaffOnPage = Annotated[PageUser, Depends(page_user(api.OFFICE_STAFF_ROLES))]
SupervisorOnPage = Annotated[PageUser, Depends(page_user(api.SUPERVISOR_ROLES))]
OfficeHeadOnPage = Annotated[PageUser, Depends(page_user(api.OFFICE_HEAD_ROLES))]
ReportReaderOnPage = Annotated[PageUser, Depends(page_user(api.REPORT_READER_ROLES))]
OfficerOnPage = Annotated[PageUser, Depends(page_user(api.OFFICER_ROLES))]
ItStaffOnPage = Annotated[PageUser, Depends(page_user(api.IT_STAFF_ROLES))]
StateAdminOnPage = Annotated[PageUser, Depends(page_user(api.STATE_ADMIN_ROLES))]
# The month close: office heads and the state admin close; district officers read.
PayrollOnPage = Annotated[PageUser, Depends(page_user(api.PAYROLL_READER_ROLES))]
# Who watches a site's presence: every staff role but IT staff (they run devices, not attendance).
PRESENCE_ROLES = api.SUPERVISOR_ROLES | {Role.DISTRICT_OFFICER}
PresenceOnPage = Annotated[PageUser, Depends(page_user(PRESENCE_ROLES))]
