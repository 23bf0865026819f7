"""Domain errors that carry their HTTP status, and the one handler that answers them as {"detail": ...}."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


class DomainError(Exception):
    """A request the domain refuses; the message is the answer's detail, the class says the status.

    Service modules raise these (or their own subclasses) and never import FastAPI: the CLI catches the same
    errors and prints the message."""

    status_code: int = 400
    headers: dict[str, str] | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)

    @property
    def detail(self) -> Any:
        """What the API answers in "detail": the message, unless a subclass has more to say (e.g. rows)."""
        return str(self)


class Unauthorized(DomainError):
    """No valid credentials."""

    status_code = 401
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(DomainError):
    """The caller may not do this, or not for that site or employee."""

    status_code = 403


class NotFound(DomainError):
    """What the request names does not exist."""

    status_code = 404


class Conflict(DomainError):
    """The request clashes with what is stored (taken id, wrong state, a race)."""

    status_code = 409


class TooLarge(DomainError):
    """A request body over its cap."""

    status_code = 413


class Invalid(DomainError):
    """Input that cannot be used; the message names the field where there is one."""

    status_code = 422


class ServerMisconfigured(DomainError):
    """The server's own files (keys) cannot be used: the operator must fix them, not the caller."""

    status_code = 500


class Unavailable(DomainError):
    """A server resource needed for this request cannot be used right now."""

    status_code = 503


async def domain_error_response(request: Request, exc: Exception) -> JSONResponse:
    """The answer FastAPI's HTTPException would give: {"detail": ...}, the status and any headers."""
    assert isinstance(exc, DomainError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def install_error_handler(app: FastAPI, handler: Callable[[Request, Exception], Awaitable[Response]] | None = None
                          ) -> None:
    """Answer DomainErrors with `handler` (the web app's: pages for pages, JSON for the API) or as JSON."""
    app.add_exception_handler(DomainError, handler or domain_error_response)
