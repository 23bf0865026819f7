"""Geofences: validate an uploaded GeoJSON polygon, and test a GPS fix against it in metres."""

import json
import math
from dataclasses import dataclass

import shapely
from shapely.geometry import Point, Polygon
from shapely.validation import explain_validity

from central_server.errors import Invalid

EARTH_RADIUS_M = 6_371_008.8
# The reported GPS accuracy widens the fence by at most this much: a phone claiming 5 km accuracy
# must not be "inside" every office in town.
MAX_ACCURACY_BUFFER_M = 100.0
MIN_AREA_M2 = 25.0
# The local projection is good to well under a metre at city scale; larger fences are refused.
MAX_AREA_M2 = 100e6
# Where Hajiri runs (India, with a margin): points elsewhere are almost always a lat/long mix-up.
INDIA_BBOX = (66.0, 5.0, 99.0, 38.0)  # lon_min, lat_min, lon_max, lat_max
# Border tolerance after projection (floating point noise), in metres.
_ON_BORDER_M = 1e-6


class GeofenceError(Invalid):
    """An uploaded polygon that cannot be used as a fence; the message says what is wrong."""


@dataclass(frozen=True)
class Fence:
    """A validated polygon, projected to metres around its own centroid."""

    lon0: float
    lat0: float
    local: Polygon
    geojson: dict

    @property
    def area_m2(self) -> float:
        return self.local.area


@dataclass(frozen=True)
class FenceCheck:
    inside: bool
    distance_m: float  # 0 inside or on the border
    buffer_m: float


def _to_local(lon: float, lat: float, lon0: float, lat0: float) -> tuple[float, float]:
    # Equirectangular around (lon0, lat0): metres east and north of the centroid.
    x = math.radians(lon - lon0) * math.cos(math.radians(lat0)) * EARTH_RADIUS_M
    y = math.radians(lat - lat0) * EARTH_RADIUS_M
    return x, y


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _in_box(lon: float, lat: float, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def check_position(pos: object, where: str, region: tuple[float, float, float, float] | None) -> tuple[float, float]:
    if (not isinstance(pos, list | tuple) or len(pos) not in (2, 3)
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos)):
        raise GeofenceError(f"{where}: a position is [longitude, latitude] (two numbers), got {pos!r}")
    lon, lat = float(pos[0]), float(pos[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeofenceError(f"{where}: coordinates must be finite numbers, got {pos!r}")
    swapped_hint = " It looks like [latitude, longitude]: GeoJSON order is [longitude, latitude]; swap them."
    if not -90 <= lat <= 90 or not -180 <= lon <= 180:
        hint = swapped_hint if -90 <= lon <= 90 and -180 <= lat <= 180 else ""
        raise GeofenceError(f"{where}: [{lon}, {lat}] is out of range (longitude -180..180, latitude -90..90)."
                            + hint)
    if region is not None and not _in_box(lon, lat, region):
        hint = swapped_hint if _in_box(lat, lon, region) else ""
        raise GeofenceError(f"{where}: [{lon}, {lat}] (longitude, latitude) is outside the service area "
                            f"(longitude {region[0]}..{region[2]}, latitude {region[1]}..{region[3]})." + hint)
    return lon, lat


def _ring(raw: object, where: str, region: tuple[float, float, float, float] | None) -> list[tuple[float, float]]:
    if not isinstance(raw, list):
        raise GeofenceError(f"{where}: a ring is a list of [longitude, latitude] positions")
    points = [check_position(p, f"{where} position {i}", region) for i, p in enumerate(raw)]
    if points and points[0] != points[-1]:
        points.append(points[0])  # GeoJSON rings repeat the first point; close an open ring for the user
    if len(set(points)) < 3 or len(points) < 4:
        raise GeofenceError(f"{where}: a ring needs at least 3 distinct points")
    return points


def parse_fence(geojson: object, *, region: tuple[float, float, float, float] | None = INDIA_BBOX) -> Fence:
    """A GeoJSON Polygon (or a Feature holding one) -> a Fence, or GeofenceError naming the problem."""
    if isinstance(geojson, str):
        try:
            geojson = json.loads(geojson)
        except json.JSONDecodeError as e:
            raise GeofenceError(f"polygon is not JSON: {e}") from e
    if isinstance(geojson, dict) and geojson.get("type") == "Feature":
        geojson = geojson.get("geometry")
    if not isinstance(geojson, dict) or geojson.get("type") != "Polygon":
        kind = geojson.get("type") if isinstance(geojson, dict) else type(geojson).__name__
        raise GeofenceError(f"polygon must be a GeoJSON Polygon, got {kind!r}")
    rings_raw = geojson.get("coordinates")
    if not isinstance(rings_raw, list) or not rings_raw:
        raise GeofenceError("polygon.coordinates must be a list of rings, the outer ring first")
    rings = [_ring(r, "outer ring" if i == 0 else f"hole {i}", region) for i, r in enumerate(rings_raw)]
    lonlat = Polygon(rings[0], rings[1:])
    if not lonlat.is_valid:
        raise GeofenceError(f"polygon is not a valid simple shape: {explain_validity(lonlat)} "
                            "(edges must not cross; holes must lie inside the outer ring)")
    c = lonlat.centroid
    lon0, lat0 = c.x, c.y
    local = shapely.transform(lonlat, lambda xy: _project_array(xy, lon0, lat0))
    if local.area < MIN_AREA_M2:
        raise GeofenceError(f"polygon covers {local.area:.1f} m², less than {MIN_AREA_M2:.0f} m²: "
                            "too small to be a place (check the coordinates)")
    if local.area > MAX_AREA_M2:
        raise GeofenceError(f"polygon covers {local.area / 1e6:.1f} km², more than {MAX_AREA_M2 / 1e6:.0f} km²; "
                            "draw the office or field area itself")
    normal = {"type": "Polygon", "coordinates": [[[lon, lat] for lon, lat in ring] for ring in rings]}
    return Fence(lon0, lat0, local, normal)


def _project_array(xy, lon0: float, lat0: float):
    out = xy.copy()
    out[:, 0] = (xy[:, 0] - lon0) * math.radians(1) * math.cos(math.radians(lat0)) * EARTH_RADIUS_M
    out[:, 1] = (xy[:, 1] - lat0) * math.radians(1) * EARTH_RADIUS_M
    return out


def check_point(fence: Fence, lat: float, lon: float, accuracy_m: float,
                *, max_buffer_m: float = MAX_ACCURACY_BUFFER_M) -> FenceCheck:
    """Inside when the fix is within the fence widened by its accuracy (capped); the border counts as inside."""
    buffer_m = max(0.0, min(float(accuracy_m), max_buffer_m))
    x, y = _to_local(lon, lat, fence.lon0, fence.lat0)
    d = fence.local.distance(Point(x, y))
    return FenceCheck(inside=d <= buffer_m + _ON_BORDER_M, distance_m=d, buffer_m=buffer_m)
