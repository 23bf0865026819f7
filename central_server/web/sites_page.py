"""/sites: the offices and hostels a person may see, by district, each linked to its presence board."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from central_server.api.deps import Conn, sites_visible_to
from central_server.org.directory import site_directory
from central_server.web.deps import OfficeStaffOnPage
from central_server.web.render import render_page

router = APIRouter(tags=["web"], include_in_schema=False)


@router.get("/sites", response_class=HTMLResponse)
def get_sites_page(request: Request, conn: Conn, user: OfficeStaffOnPage) -> HTMLResponse:
    """Every site the user's role may see (a district officer: their district; site roles: their site)."""
    rows = site_directory(conn, sites_visible_to(conn, user.principal))
    return render_page(request, "sites.html", user, sites=rows)
