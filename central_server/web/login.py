"""/login, /logout, /language and /: signing in with a password into a session cookie, and each role's home."""

import sqlalchemy as sa
from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response

from central_server.access.login import LoginFailed, LoginThrottled, ThrottlePolicy, login
from central_server.access.tokens import revoke_token
from central_server.api.deps import Conn, request_clock
from central_server.db.schema import users
from central_server.errors import Forbidden
from central_server.http.limits import client_address
from central_server.web.deps import AnyoneOnPage, CheckedForm, LoginRequired, request_language, session_user
from central_server.web.i18n import check_language, translations
from central_server.web.menu import home_url
from central_server.web.render import PAGE_HEADERS, render_page
from central_server.web.session import (
    LOGIN_CSRF_COOKIE,
    clear_session,
    csrf_matches,
    new_login_csrf,
    set_language_cookie,
    set_login_csrf,
    set_session,
)

router = APIRouter(tags=["web"], include_in_schema=False)


def safe_next(value: str | None) -> str | None:
    """Only a path on this site: '/x', never '//host' or 'https://host' (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 512:
        return None
    return value


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER, headers=PAGE_HEADERS)


def _login_page(request: Request, *, language: str, next_url: str, username: str = "", error: str = "",
                status_code: int = 200, retry_after: int | None = None) -> Response:
    token = new_login_csrf()  # in the form and in a cookie (double submit)
    response = render_page(request, "login.html", None, language=language, status_code=status_code,
                           next=next_url, username=username, error=error, login_csrf=token)
    set_login_csrf(response, request, token)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/login")
def get_login(request: Request, conn: Conn, next: str | None = None, lang: str | None = None) -> Response:
    """The sign-in form; someone already signed in goes to their home page."""
    try:
        user = session_user(request, conn)
        return see_other(safe_next(next) or home_url(user.principal))
    except LoginRequired:
        pass
    language = check_language(lang) or request_language(request)
    response = _login_page(request, language=language, next_url=safe_next(next) or "")
    if check_language(lang):
        set_language_cookie(response, request, language)
    return response


@router.post("/login")
async def post_login(request: Request, conn: Conn) -> Response:
    """Check the password (the API's scrypt login and throttle) and start a session; the form keeps the name."""
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    language = request_language(request)
    _ = translations(language).gettext
    username = str(form.get("username", ""))[:128]
    next_url = safe_next(str(form.get("next", ""))) or ""
    if not csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE, ""), str(form.get("csrf", ""))) or \
            not request.cookies.get(LOGIN_CSRF_COOKIE):
        return _login_page(request, language=language, next_url=next_url, username=username, status_code=403,
                           error=_("This form expired. Please sign in again."))
    access = request.app.state.config.access
    policy = ThrottlePolicy(access.max_failures_per_user, access.max_failures_per_ip, access.failure_window_s)
    client_ip = client_address(request, request.app.state.trusted_proxies)
    # Answered, never raised: the attempt row the throttle counts must be committed with the request.
    try:
        issued = login(conn, username, str(form.get("password", "")), client_ip, now=request_clock(request),
                       policy=policy, token_ttl_s=access.login_token_ttl_s)
    except LoginThrottled as e:
        return _login_page(request, language=language, next_url=next_url, username=username, status_code=429,
                           retry_after=e.retry_after_s,
                           error=_("Too many failed attempts. Try again in %(s)d seconds.") % {"s": e.retry_after_s})
    except LoginFailed:
        return _login_page(request, language=language, next_url=next_url, username=username, status_code=401,
                           error=_("Wrong username or password."))
    user = session_user(request, conn, issued["token"])
    response = see_other(next_url or home_url(user.principal))
    set_session(response, request, issued["token"], access.login_token_ttl_s)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def post_logout(request: Request, conn: Conn, form: CheckedForm) -> Response:
    """End the session: the login token is revoked on the server, not only forgotten by the browser."""
    try:
        user = session_user(request, conn)
        revoke_token(conn, user.token, actor=user.username or user.principal.label, why="logout (web)")
    except LoginRequired:
        pass
    response = see_other("/login")
    clear_session(response)
    return response


@router.post("/language")
def post_language(request: Request, conn: Conn, user: AnyoneOnPage, form: CheckedForm) -> Response:
    """Remember the chosen language on the user (every device they sign in on) and in a cookie."""
    language = check_language(form.get("language"))
    if language is None:
        raise Forbidden("unknown language")
    conn.execute(sa.update(users).where(users.c.username == user.username).values(language=language))
    response = see_other(safe_next(form.get("next")) or home_url(user.principal))
    set_language_cookie(response, request, language)
    return response


@router.get("/")
def get_home(request: Request, conn: Conn) -> Response:
    """Each role's home page, or the sign-in form."""
    try:
        return see_other(home_url(session_user(request, conn).principal))
    except LoginRequired:
        return see_other("/login")
