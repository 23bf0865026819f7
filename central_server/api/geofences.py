"""/api/v1/sites/{site_id}/geofences and /details: polygons checked at upload, a site's reference point."""

from fastapi import APIRouter, status

from central_server.api.deps import Conn, OfficeStaff, SiteManager, check_site_scope
from central_server.org.employees import add_geofence, list_geofences, set_site_details
from central_server.org.schemas import GeofenceCreate, GeofencePublic, SiteDetails

router = APIRouter(prefix="/api/v1/sites", tags=["geofences"])


@router.post("/{site_id}/geofences", status_code=status.HTTP_201_CREATED, response_model=GeofencePublic)
def post_geofence(site_id: str, body: GeofenceCreate, conn: Conn, who: SiteManager) -> dict:
    """A GeoJSON Polygon, positions [longitude, latitude]. Refused with a reason: out of range, likely
    lat/long swapped, self-intersecting, too small or too large."""
    check_site_scope(who, site_id)
    return add_geofence(conn, site_id, body.name, body.polygon, actor=who.label)


@router.get("/{site_id}/geofences", response_model=list[GeofencePublic])
def get_geofences(site_id: str, conn: Conn, who: OfficeStaff) -> list[dict]:
    check_site_scope(who, site_id)
    return list_geofences(conn, site_id)


@router.put("/{site_id}/details", response_model=SiteDetails)
def put_details(site_id: str, body: SiteDetails, conn: Conn, who: SiteManager) -> dict:
    """Department, district, reference point (used for kiosk events in impossible-travel checks), curfew."""
    check_site_scope(who, site_id)
    row = set_site_details(conn, site_id, body.model_dump(), actor=who.label)
    row.pop("site_id")
    return row
