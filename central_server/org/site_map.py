"""A site's map, read only: its fences and one day's mobile check-ins, projected to metres east and north of the
site's reference point (equirectangular, x scaled by cos(latitude)), the way org.geofence measures them."""

import math
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from central_server.attendance.checkins import list_checkins
from central_server.db.schema import employees, site_details, sites
from central_server.errors import NotFound
from central_server.org.employees import list_geofences
from central_server.org.geofence import EARTH_RADIUS_M


@dataclass(frozen=True)
class FenceShape:
    geofence_id: int
    name: str
    rings: list[list[tuple[float, float]]]  # metres (east, north), outer ring first
    area_m2: float


@dataclass(frozen=True)
class CheckinSpot:
    """A check-in where it was taken: `inside` is None when the site had no fence to test it against."""

    checkin_id: str
    employee_id: str
    name: str
    event: str
    event_time: str
    lat: float
    lon: float
    x: float
    y: float
    accuracy_m: float
    inside: bool | None
    distance_m: float | None
    flags: list[str]
    selfie_status: str


@dataclass(frozen=True)
class SiteMap:
    """The site, the point the map is centred on (its reference point, else its first fence's centroid, else
    the first check-in; None when there is nothing to place), its fences and the day's check-ins in time order."""

    site_id: str
    name: str
    district: str | None
    origin: tuple[float, float] | None  # (lat, lon)
    origin_is_site: bool
    fences: list[FenceShape] = field(default_factory=list)
    checkins: list[CheckinSpot] = field(default_factory=list)


def project(lat: float, lon: float, origin: tuple[float, float]) -> tuple[float, float]:
    """Metres east and north of origin (lat0, lon0); good to well under a metre across a town."""
    lat0, lon0 = origin
    return (math.radians(lon - lon0) * math.cos(math.radians(lat0)) * EARTH_RADIUS_M,
            math.radians(lat - lat0) * EARTH_RADIUS_M)


def read_site_map(conn: sa.Connection, site_id: str, day: date, tz: str) -> SiteMap:
    """The site's fences and the day's check-ins of its employees (NotFound for an unknown site)."""
    site = conn.execute(sa.select(sites.c.name, site_details.c.district, site_details.c.lat, site_details.c.lon)
                        .select_from(sites.outerjoin(site_details, site_details.c.site_id == sites.c.site_id))
                        .where(sites.c.site_id == site_id)).first()
    if site is None:
        raise NotFound(f"site {site_id!r} is not registered")
    fences = list_geofences(conn, site_id)
    found = list_checkins(conn, day, tz, site_id, None)
    origin, is_site = _origin(site, fences, found)
    if origin is None:
        return SiteMap(site_id, site.name, site.district, None, False)
    names = _names(conn, sorted({c["employee_id"] for c in found}))
    return SiteMap(site_id, site.name, site.district, origin, is_site,
                   [_shape(f, origin) for f in fences], [_spot(c, names, origin) for c in found])


def _origin(site, fences: list[dict], found: list[dict]) -> tuple[tuple[float, float] | None, bool]:
    if site.lat is not None and site.lon is not None:
        return (site.lat, site.lon), True
    if fences:
        return (fences[0]["centroid_lat"], fences[0]["centroid_lon"]), False
    if found:
        return (found[0]["lat"], found[0]["lon"]), False
    return None, False


def _shape(fence: dict, origin: tuple[float, float]) -> FenceShape:
    # GeoJSON positions are [longitude, latitude].
    rings = [[project(lat, lon, origin) for lon, lat, *_ in ring] for ring in fence["polygon"]["coordinates"]]
    return FenceShape(fence["geofence_id"], fence["name"], rings, fence["area_m2"])


def _spot(c: dict, names: dict[str, str], origin: tuple[float, float]) -> CheckinSpot:
    flags = c["flags"]
    inside = None if "no_geofence" in flags else "outside_fence" not in flags
    x, y = project(c["lat"], c["lon"], origin)
    return CheckinSpot(c["checkin_id"], c["employee_id"], names.get(c["employee_id"], c["employee_id"]), c["event"],
                       c["event_time"], c["lat"], c["lon"], x, y, c["accuracy_m"], inside, c["distance_m"], flags,
                       c["selfie_status"])


def _names(conn: sa.Connection, employee_ids: list[str]) -> dict[str, str]:
    if not employee_ids:
        return {}
    return dict(conn.execute(sa.select(employees.c.employee_id, employees.c.name)
                             .where(employees.c.employee_id.in_(employee_ids))).all())
