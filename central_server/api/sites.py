"""/api/v1/sites: offices, hostels and field sites."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from central_server.access.tokens import Principal, Role
from central_server.api.deps import Conn, require_roles
from central_server.api.schemas import SiteCreate, SitePublic
from central_server.db.schema import sites
from central_server.org.registry import AlreadyExists, create_site, list_rows

router = APIRouter(prefix="/api/v1/sites", tags=["sites"])

Admin = Annotated[Principal, Depends(require_roles(Role.STATE_ADMIN))]
Reader = Annotated[Principal, Depends(require_roles(Role.STATE_ADMIN, Role.IT_STAFF, Role.OFFICE_HEAD))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SitePublic)
def post_site(body: SiteCreate, conn: Conn, who: Admin) -> dict:
    try:
        return create_site(conn, body.site_id, body.name, body.kind, actor=who.label)
    except AlreadyExists as e:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(e)) from e


@router.get("", response_model=list[SitePublic])
def get_sites(conn: Conn, who: Reader) -> list[dict]:
    where = None if who.site_id is None else sites.c.site_id == who.site_id
    return list_rows(conn, sites, sites.c.site_id, where)
