"""/dashboard, the old token-in-URL board, now lives on as a redirect: each role's home (their presence board)
is at /, signed in with the session cookie."""

from fastapi import APIRouter
from fastapi.responses import Response

from central_server.web.login import see_other

router = APIRouter(tags=["web"], include_in_schema=False)


@router.get("/dashboard")
def get_dashboard() -> Response:
    """A 303 to / (any ?token= is ignored: tokens never travel in URLs, and no cookie is set from one)."""
    return see_other("/")
