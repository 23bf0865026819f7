"""District scoping (SQLite and PostgreSQL): a district officer reads only the sites whose site_details.district
is theirs, in every list and detail endpoint that goes through check_site_scope / scoped_query / scoped_sites."""

import base64
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from central_server.access.tokens import Role, TokenError, create_token, find_principal
from central_server.access.users import create_user
from central_server.api.deps import sites_visible_to
from central_server.app import create_app
from central_server.attendance.explanations import raise_request
from central_server.config import ServerConfig
from central_server.db.schema import leaves, tours
from central_server.field.inspections import record_inspection
from central_server.field.tasks import assign_task, send_notice
from central_server.org.employees import add_absence, create_employee, set_site_details
from central_server.org.sites import create_site

D = "2026-11-25"
# Khurda has two hostels, Cuttack one; Puri's only office has no curfew.
SITES = (("hostel-k1", "Khurda"), ("hostel-k2", "khurda "), ("hostel-c1", "Cuttack"), ("office-p1", "Puri"))
PASSWORD = "district officer password"
PHOTO = base64.b64encode(cv2.imencode(".jpg", np.full((80, 80, 3), 128, np.uint8))[1].tobytes()).decode()


def visit(key: str) -> dict:
    return {"idempotency_key": key, "lat": 20.3, "lon": 85.8, "accuracy_m": 10.0, "block": "Jatni",
            "village": "Barang", "work_item": "pond", "device_time": f"{D}T10:00:00Z", "photo_jpeg_b64": PHOTO}


@pytest.fixture
def world(engine) -> dict:
    with engine.begin() as conn:
        for site, district in SITES:
            create_site(conn, site, site, "hostel", actor="t")
            set_site_details(conn, site, {"district": district, "curfew": "21:00"}, actor="t")
        for site, district in SITES:
            emp = f"res-{site}"
            create_employee(conn, {"employee_id": emp, "name": emp, "site_id": site, "role": "resident"}, actor="t")
            add_absence(conn, leaves, {"employee_id": emp, "from_day": D, "to_day": D, "kind": "casual",
                                       "approved": True}, actor="t")
            add_absence(conn, tours, {"employee_id": emp, "from_day": D, "to_day": D, "purpose": "camp",
                                      "approved": True}, actor="t")
            raise_request(conn, emp, D, "late", "test")
            employee = {"employee_id": emp, "site_id": site}
            assign_task(conn, employee, "survey", "", None, actor="t")
            record_inspection(conn, employee, visit(f"visit-{site}"), datetime.now(UTC), tz="UTC", actor="t",
                              repeat_visits=3, repeat_days=30)
            send_notice(conn, "district", f"to {district.strip()}", "hello", actor="t", district=district)
        create_user(conn, "do-khurda", PASSWORD, Role.DISTRICT_OFFICER, actor="t", district="KHURDA")
        return {"khurda": create_token(conn, Role.DISTRICT_OFFICER, "do khurda", district="Khurda"),
                "cuttack": create_token(conn, Role.DISTRICT_OFFICER, "do cuttack", district="Cuttack"),
                "state-wide": create_token(conn, Role.DISTRICT_OFFICER, "no district: state-wide reader")}


@pytest.fixture
def client(engine, world):
    app = create_app(ServerConfig(database_url="sqlite:///unused.db"), engine=engine, start_ingest=False)
    with TestClient(app) as c:
        c.tokens = world
        yield c


def get(client, who, path, **params):
    return client.get(path, params=params, headers={"Authorization": f"Bearer {client.tokens[who]}"})


def emps(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted({row["employee_id"] for row in response.json()})


LISTS = (("/api/v1/days", {"date": D}), ("/api/v1/checkins", {"date": D}), ("/api/v1/explanations", {}),
         ("/api/v1/employees", {}), ("/api/v1/leave", {}), ("/api/v1/tours", {}), ("/api/v1/inspections", {}),
         ("/api/v1/tasks", {}))


def test_the_principal_carries_the_district_sites(engine, world):
    with engine.connect() as conn:
        p = find_principal(conn, world["khurda"])
        assert p.district == "Khurda" and p.district_sites == {"hostel-k1", "hostel-k2"}  # case, spaces ignored
        assert sites_visible_to(conn, p) == {"hostel-k1", "hostel-k2"}
        assert sites_visible_to(conn, find_principal(conn, world["state-wide"])) is None
    with engine.begin() as conn, pytest.raises(TokenError, match="only a district officer"):
        create_token(conn, Role.OFFICE_HEAD, "x", "hostel-k1", district="Khurda")


def test_another_districts_site_is_refused_everywhere(client):
    for path, params in LISTS:
        r = get(client, "khurda", path, site_id="hostel-c1", **params)
        assert r.status_code == 403 and "district Khurda" in r.json()["detail"], path
        want = [] if path == "/api/v1/checkins" else ["res-hostel-k2"]  # no check-ins seeded (no selfies)
        assert emps(get(client, "khurda", path, site_id="hostel-k2", **params)) == want, path
    for path in ("/api/v1/employees/res-hostel-c1", "/api/v1/sites/hostel-c1/geofences"):
        assert get(client, "khurda", path).status_code == 403, path
    assert get(client, "khurda", "/api/v1/employees/res-hostel-k1").status_code == 200
    assert get(client, "khurda", "/api/v1/rollcall", site_id="hostel-c1", date=D).status_code == 403
    assert get(client, "khurda", "/api/v1/rollcall", site_id="hostel-k1", date=D).status_code == 200
    assert get(client, "cuttack", "/api/v1/rollcall", site_id="hostel-k1", date=D).status_code == 403


def test_lists_without_a_site(client):
    # Endpoints that take one site at a time ask which of the district's sites; never all of the state.
    r = get(client, "khurda", "/api/v1/days", date=D)
    assert r.status_code == 422 and "hostel-k1, hostel-k2" in r.json()["detail"]
    # A district with one site needs no site_id.
    assert emps(get(client, "cuttack", "/api/v1/days", date=D)) == ["res-hostel-c1"]
    assert emps(get(client, "cuttack", "/api/v1/leave")) == ["res-hostel-c1"]
    # Lists built on scoped_sites cover the whole district.
    for path in ("/api/v1/inspections", "/api/v1/tasks"):
        assert emps(get(client, "khurda", path)) == ["res-hostel-k1", "res-hostel-k2"], path
    r = get(client, "khurda", "/api/v1/notices")
    assert r.status_code == 200 and sorted(n["title"] for n in r.json()) == ["to Khurda", "to khurda"]
    # A district officer token without a district stays a state-wide reader (as before districts).
    assert emps(get(client, "state-wide", "/api/v1/days", date=D)) == [f"res-{s}" for s, _ in sorted(SITES)]


def test_password_login_brings_the_district(client):
    r = client.post("/api/v1/auth/login", json={"username": "do-khurda", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["district"] == "KHURDA"
    client.tokens["login"] = r.json()["token"]
    assert emps(get(client, "login", "/api/v1/leave", site_id="hostel-k2")) == ["res-hostel-k2"]
    assert get(client, "login", "/api/v1/leave", site_id="hostel-c1").status_code == 403
