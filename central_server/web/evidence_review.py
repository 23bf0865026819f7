"""/dashboard/evidence, the old spoof evidence page, now lives on as a redirect: crops are reviewed on /review
(the session's user; its images and forms are /review's own)."""

from fastapi import APIRouter
from fastapi.responses import Response

from central_server.web.login import see_other

router = APIRouter(tags=["web"], include_in_schema=False)


@router.get("/dashboard/evidence")
def get_evidence_page() -> Response:
    """A 303 to /review's spoof evidence section."""
    return see_other("/review#evidence")
