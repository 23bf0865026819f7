"""/api/v1/sites/{site_id}/geofences and /details: polygons checked at upload, a site's reference point."""

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, status

from central_server.api.deps import Conn, check_site_scope
from central_server.api.domain_schemas import GeofenceCreate, GeofencePublic, SiteDetails
from central_server.api.scope import Manager, Reader
from central_server.db.schema import geofences
from central_server.org.employees import add_geofence, geofence_row, set_site_details
from central_server.org.geofence import GeofenceError
from central_server.org.registry import NotRegistered

router = APIRouter(prefix="/api/v1/sites", tags=["geofences"])


@router.post("/{site_id}/geofences", status_code=status.HTTP_201_CREATED, response_model=GeofencePublic)
def post_geofence(site_id: str, body: GeofenceCreate, conn: Conn, who: Manager) -> dict:
    """A GeoJSON Polygon, positions [longitude, latitude]. Refused with a reason: out of range, likely
    lat/long swapped, self-intersecting, too small or too large."""
    check_site_scope(who, site_id)
    try:
        return add_geofence(conn, site_id, body.name, body.polygon, actor=who.label)
    except NotRegistered as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(e)) from e
    except GeofenceError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"polygon: {e}") from e


@router.get("/{site_id}/geofences", response_model=list[GeofencePublic])
def get_geofences(site_id: str, conn: Conn, who: Reader) -> list[dict]:
    check_site_scope(who, site_id)
    q = sa.select(geofences).where(geofences.c.site_id == site_id).order_by(geofences.c.geofence_id)
    return [geofence_row(r) for r in conn.execute(q)]


@router.put("/{site_id}/details", response_model=SiteDetails)
def put_details(site_id: str, body: SiteDetails, conn: Conn, who: Manager) -> dict:
    """Department, district, reference point (used for kiosk events in impossible-travel checks), curfew."""
    check_site_scope(who, site_id)
    try:
        row = set_site_details(conn, site_id, body.model_dump(), actor=who.label)
    except NotRegistered as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(e)) from e
    row.pop("site_id")
    return row
