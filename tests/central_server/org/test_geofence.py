"""Geofences: upload validation (ranges, swapped lat/long, self-intersection) and the metre-accurate point test."""

import math

import pytest

from central_server.org.geofence import (
    MAX_ACCURACY_BUFFER_M,
    GeofenceError,
    check_point,
    distance_m,
    parse_fence,
)

LON0, LAT0 = 85.8245, 20.2961  # a block office in Bhubaneswar
M_PER_DEG_LAT = 111_195.0


def dlat(m: float) -> float:
    return m / M_PER_DEG_LAT


def dlon(m: float) -> float:
    return m / (M_PER_DEG_LAT * math.cos(math.radians(LAT0)))


def square(half_m: float = 100.0, lon0: float = LON0, lat0: float = LAT0) -> dict:
    w, h = dlon(half_m), dlat(half_m)
    ring = [[lon0 - w, lat0 - h], [lon0 + w, lat0 - h], [lon0 + w, lat0 + h], [lon0 - w, lat0 + h], [lon0 - w, lat0 - h]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_inside_outside_and_distance_in_metres():
    fence = parse_fence(square(100))
    assert fence.area_m2 == pytest.approx(200 * 200, rel=0.005)
    inside = check_point(fence, LAT0, LON0, 5)
    assert inside.inside and inside.distance_m == 0
    out = check_point(fence, LAT0 + dlat(150), LON0, 10)  # 50 m north of the northern edge
    assert not out.inside and out.distance_m == pytest.approx(50, abs=0.5)
    assert check_point(fence, LAT0 + dlat(150), LON0, 60).inside  # the reported accuracy covers the gap


def test_point_on_the_border_counts_as_inside():
    fence = parse_fence(square(100))
    on_edge = check_point(fence, LAT0 + dlat(100), LON0, 0)
    corner = check_point(fence, LAT0 - dlat(100), LON0 + dlon(100), 0)
    assert on_edge.inside and corner.inside
    assert not check_point(fence, LAT0 + dlat(101), LON0, 0).inside  # one metre beyond is out


def test_huge_accuracy_is_capped():
    fence = parse_fence(square(100))
    far = check_point(fence, LAT0 + dlat(600), LON0, 5000)  # 500 m out, "accurate to 5 km"
    assert not far.inside and far.buffer_m == MAX_ACCURACY_BUFFER_M
    assert check_point(fence, LAT0 + dlat(195), LON0, 5000).inside  # 95 m out: within the 100 m cap


def test_self_intersecting_polygon_is_refused_with_the_reason():
    w, h = dlon(100), dlat(100)
    bowtie = {"type": "Polygon", "coordinates": [[[LON0 - w, LAT0 - h], [LON0 + w, LAT0 + h], [LON0 + w, LAT0 - h],
                                                  [LON0 - w, LAT0 + h], [LON0 - w, LAT0 - h]]]}
    with pytest.raises(GeofenceError, match="Self-intersection"):
        parse_fence(bowtie)


def test_lat_long_swapped_is_named():
    # Delhi is lat 28.6, lon 77.2; given as [lat, lon] it lands in the Arctic off Russia.
    delhi = square(100, lon0=77.2, lat0=28.6)
    swapped = {"type": "Polygon", "coordinates": [[[lat, lon] for lon, lat in delhi["coordinates"][0]]]}
    with pytest.raises(GeofenceError, match=r"outside the service area.*swap them"):
        parse_fence(swapped)
    parse_fence(delhi)  # the right order is accepted


def test_out_of_range_coordinates_are_refused():
    with pytest.raises(GeofenceError, match=r"out of range.*swap them"):
        parse_fence({"type": "Polygon", "coordinates": [[[20.3, 95.0], [20.4, 95.0], [20.4, 95.1], [20.3, 95.0]]]})
    with pytest.raises(GeofenceError, match="out of range") as e:
        parse_fence({"type": "Polygon", "coordinates": [[[200, 20], [201, 20], [201, 21], [200, 20]]]})
    assert "swap" not in str(e.value)  # 200 is no latitude either: no false hint


@pytest.mark.parametrize("bad, message", [
    ({"type": "Point", "coordinates": [LON0, LAT0]}, "must be a GeoJSON Polygon"),
    ({"type": "Polygon", "coordinates": [[[LON0, LAT0], [LON0 + 0.001, LAT0], [LON0, LAT0]]]}, "at least 3 distinct"),
    ({"type": "Polygon", "coordinates": [[[LON0, "x"], [LON0 + 0.001, LAT0], [LON0, LAT0 + 0.001]]]},
     "two numbers"),
    ({"type": "Polygon", "coordinates": []}, "list of rings"),
    (square(1), "too small"),
    (square(20_000), "more than 100 km"),
    ("{not json", "not JSON"),
])
def test_malformed_polygons_are_refused(bad, message):
    with pytest.raises(GeofenceError, match=message):
        parse_fence(bad)


def test_open_ring_is_closed_and_feature_is_accepted():
    ring = square(100)["coordinates"][0][:-1]
    fence = parse_fence({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}})
    assert fence.geojson["coordinates"][0][0] == fence.geojson["coordinates"][0][-1]


def test_haversine_distance():
    assert distance_m(LAT0, LON0, LAT0 + dlat(1000), LON0) == pytest.approx(1000, rel=0.001)
    assert distance_m(28.6139, 77.2090, 19.0760, 72.8777) == pytest.approx(1_148_000, rel=0.01)  # Delhi-Mumbai


def test_upload_through_the_api_refuses_with_the_reason_and_fences_stay_in_scope(sqlite_engine):
    from fastapi.testclient import TestClient

    from central_server.access.tokens import Role, create_token
    from central_server.app import create_app
    from central_server.config import ServerConfig
    from central_server.org.employees import create_employee
    from central_server.org.sites import create_site

    with sqlite_engine.begin() as conn:
        for site in ("office-1", "office-2"):
            create_site(conn, site, site, "office", actor="test")
        create_employee(conn, {"employee_id": "e-1", "name": "E", "site_id": "office-1"}, actor="test")
        head = {"Authorization": "Bearer " + create_token(conn, Role.OFFICE_HEAD, "head", "office-1")}
        admin = {"Authorization": "Bearer " + create_token(conn, Role.STATE_ADMIN, "admin")}
    app = create_app(ServerConfig(database_url="sqlite:///unused.db"), engine=sqlite_engine, start_ingest=False)
    with TestClient(app) as client:
        w, h = dlon(100), dlat(100)
        bowtie = [[LON0 - w, LAT0 - h], [LON0 + w, LAT0 + h], [LON0 + w, LAT0 - h], [LON0 - w, LAT0 + h]]
        r = client.post("/api/v1/sites/office-1/geofences", headers=head,
                        json={"name": "bad", "polygon": {"type": "Polygon", "coordinates": [bowtie]}})
        assert r.status_code == 422 and r.json()["detail"].startswith("polygon: polygon is not a valid simple shape")
        ok = client.post("/api/v1/sites/office-1/geofences", headers=head, json={"name": "campus", "polygon": square()})
        assert ok.status_code == 201 and ok.json()["area_m2"] == pytest.approx(40_000, rel=0.005)
        assert client.post("/api/v1/sites/office-2/geofences", headers=head,
                           json={"name": "x", "polygon": square()}).status_code == 403
        other = client.post("/api/v1/sites/office-2/geofences", headers=admin, json={"name": "x", "polygon": square()})
        put = client.put("/api/v1/employees/e-1/geofences", headers=head,
                         json={"geofence_ids": [ok.json()["geofence_id"], other.json()["geofence_id"]]})
        assert put.status_code == 403  # office-2's fence is not the head's to hand out
        put = client.put("/api/v1/employees/e-1/geofences", headers=head, json={"geofence_ids": [ok.json()["geofence_id"]]})
        assert put.status_code == 200 and put.json()["geofence_ids"] == [ok.json()["geofence_id"]]
