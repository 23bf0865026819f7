"""/api/v1/sites: offices, hostels and field sites."""

from fastapi import APIRouter, status

from central_server.api.deps import Conn, ItStaffOrHead, StateAdmin
from central_server.org.schemas import SiteCreate, SitePublic
from central_server.org.sites import create_site, list_sites

router = APIRouter(prefix="/api/v1/sites", tags=["sites"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SitePublic)
def post_site(body: SiteCreate, conn: Conn, who: StateAdmin) -> dict:
    return create_site(conn, body.site_id, body.name, body.kind, actor=who.label)


@router.get("", response_model=list[SitePublic])
def get_sites(conn: Conn, who: ItStaffOrHead) -> list[dict]:
    return list_sites(conn, who.site_id)
