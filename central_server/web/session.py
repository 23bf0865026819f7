"""The browser session: a cookie holding the login token (HttpOnly, SameSite=Strict, Secure over HTTPS) and
the CSRF token every form carries, derived from it."""

import hashlib
import hmac
import secrets

from fastapi import Request, Response

SESSION_COOKIE = "hajiri_session"
LOGIN_CSRF_COOKIE = "hajiri_login_csrf"
LANGUAGE_COOKIE = "hajiri_lang"
CSRF_FIELD = "csrf"


def is_https(request: Request) -> bool:
    """Secure cookies when the app is reached over HTTPS (directly or through a proxy the config trusts)."""
    return request.url.scheme == "https" or bool(getattr(request.app.state.config.http, "secure_cookies", False))


def csrf_for(session_token: str) -> str:
    """The form token of a session: a hash of the session token, which a cross-site page cannot read (the
    cookie is HttpOnly), so it cannot compute this either. No server secret to keep or rotate."""
    return hashlib.sha256(b"hajiri-csrf\0" + session_token.encode()).hexdigest()[:40]


def csrf_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def set_session(response: Response, request: Request, token: str, max_age_s: int) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age_s, httponly=True, samesite="strict",
                        secure=is_https(request), path="/")


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def new_login_csrf() -> str:
    """Before sign-in there is no session: a random value in a cookie and in the form (double submit)."""
    return secrets.token_urlsafe(24)


def set_login_csrf(response: Response, request: Request, value: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, value, max_age=3600, httponly=True, samesite="strict",
                        secure=is_https(request), path="/login")


def set_language_cookie(response: Response, request: Request, language: str) -> None:
    # Remembered before sign-in too (the login page); a signed-in user's choice is also stored on the user.
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86_400, httponly=True, samesite="strict",
                        secure=is_https(request), path="/")
