"""/api/v1/sites/{site_id}/geofences and /details: polygons checked at upload, a site's reference point and
go-live day."""

from fastapi import APIRouter, Request, status

from central_server.access.tokens import Role
from central_server.api.deps import Conn, OfficeStaff, SiteManager, check_site_scope
from central_server.attendance.rules.recompute import recompute_stored
from central_server.errors import Forbidden
from central_server.org.employees import (
    add_geofence,
    go_live_span,
    list_geofences,
    same_district,
    set_site_details,
    site_district,
    site_go_live,
)
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
def put_details(site_id: str, body: SiteDetails, request: Request, conn: Conn, who: SiteManager) -> dict:
    """Department, district, reference point (used for kiosk events in impossible-travel checks), curfew, and
    the go-live day: days before it are not_live (never absent, no explanation asked). Only a state admin
    changes the district (403 for anyone else). district or go_live_on left out keeps the stored value; a change recomputes the stored days it moves over, and is refused (409) across a closed
    month."""
    check_site_scope(who, site_id)
    # The district decides which district officer sees the office and whose roll-up it counts in: an office
    # head who could move their own office would choose their own supervisor.
    # District left out keeps the stored one, as go_live_on does.
    kept = {k for k in ("go_live_on", "district") if k not in body.model_fields_set}
    details = body.model_dump(exclude=kept)
    stored_district = site_district(conn, site_id)
    details.setdefault("district", stored_district)
    if who.role != Role.STATE_ADMIN and not same_district(stored_district, details["district"]):
        raise Forbidden("district: only a state admin changes a site's district")
    old = site_go_live(conn, site_id)
    row = set_site_details(conn, site_id, details, actor=who.label)
    span = go_live_span(old, row["go_live_on"])
    if span is not None:
        recompute_stored(conn, *span, request.app.state.config.timezone, site_id=site_id, cause="go_live_changed")
    row.pop("site_id")
    return row
