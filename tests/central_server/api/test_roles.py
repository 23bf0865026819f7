"""Role isolation on the domain API (SQLite and PostgreSQL): a warden sees their own hostel only, an
employee their own records only, and roles that do not judge attendance cannot."""

import pytest
from fastapi.testclient import TestClient

from central_server.access.tokens import Role, TokenError, create_token
from central_server.app import create_app
from central_server.config import ServerConfig
from central_server.org.employees import create_employee
from central_server.org.sites import create_site

D = "2026-11-25"


@pytest.fixture
def tokens(engine) -> dict:
    with engine.begin() as conn:
        for site in ("hostel-1", "hostel-2"):
            create_site(conn, site, site.title(), "hostel", actor="test")
        for emp, site in (("res-1", "hostel-1"), ("res-1b", "hostel-1"), ("res-2", "hostel-2")):
            create_employee(conn, {"employee_id": emp, "name": emp, "site_id": site, "role": "resident"},
                            actor="test")
        return {
            "warden-1": create_token(conn, Role.WARDEN, "warden 1", "hostel-1"),
            "warden-2": create_token(conn, Role.WARDEN, "warden 2", "hostel-2"),
            "res-1": create_token(conn, Role.EMPLOYEE, "res 1", employee_id="res-1"),
            "unbound": create_token(conn, Role.EMPLOYEE, "old style", "hostel-1"),
            "admin": create_token(conn, Role.STATE_ADMIN, "admin"),
            "district": create_token(conn, Role.DISTRICT_OFFICER, "district"),
            "it": create_token(conn, Role.IT_STAFF, "it"),
        }


@pytest.fixture
def client(engine, tokens):
    app = create_app(ServerConfig(database_url="sqlite:///unused.db"), engine=engine, start_ingest=False)
    with TestClient(app) as c:
        yield c


def get(client, tokens, who, path, **params):
    return client.get(path, params=params, headers={"Authorization": f"Bearer {tokens[who]}"})


def post(client, tokens, who, path, json=None, content=None):
    return client.post(path, json=json, content=content, headers={"Authorization": f"Bearer {tokens[who]}"})


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(row["employee_id"] for row in response.json())


def test_a_warden_cannot_read_another_hostel(client, tokens):
    assert ids(get(client, tokens, "warden-1", "/api/v1/days", date=D)) == ["res-1", "res-1b"]
    assert ids(get(client, tokens, "warden-2", "/api/v1/days", date=D)) == ["res-2"]
    for path, params in (("/api/v1/days", {"date": D}), ("/api/v1/checkins", {"date": D}),
                         ("/api/v1/explanations", {}), ("/api/v1/employees", {}), ("/api/v1/leave", {})):
        r = get(client, tokens, "warden-1", path, site_id="hostel-2", **params)
        assert r.status_code == 403 and "hostel-1" in r.json()["detail"], path
    assert get(client, tokens, "warden-1", "/api/v1/employees/res-2").status_code == 403
    assert get(client, tokens, "warden-1", "/api/v1/sites/hostel-2/geofences").status_code == 403
    assert ids(get(client, tokens, "warden-1", "/api/v1/employees")) == ["res-1", "res-1b"]
    leave = {"employee_id": "res-2", "from_day": D, "to_day": D, "kind": "casual"}
    assert post(client, tokens, "warden-1", "/api/v1/leave", leave).status_code == 403
    assert post(client, tokens, "warden-1", "/api/v1/leave", {**leave, "employee_id": "res-1"}).status_code == 201
    new = {"employee_id": "res-9", "name": "x", "site_id": "hostel-2"}
    assert post(client, tokens, "warden-1", "/api/v1/employees", new).status_code == 403
    assert post(client, tokens, "warden-1", "/api/v1/employees/res-2/token").status_code == 403


def test_an_employee_sees_only_their_own(client, tokens):
    assert ids(get(client, tokens, "res-1", "/api/v1/days", date=D)) == ["res-1"]
    assert get(client, tokens, "res-1", "/api/v1/days", date=D, employee_id="res-1b").status_code == 403
    assert ids(get(client, tokens, "res-1", "/api/v1/employees")) == ["res-1"]
    assert get(client, tokens, "res-1", "/api/v1/employees/res-1b").status_code == 403
    assert get(client, tokens, "res-1", "/api/v1/employees/res-1").status_code == 200
    assert get(client, tokens, "res-1", "/api/v1/checkins", date=D, employee_id="res-1b").status_code == 403
    leave = {"employee_id": "res-1", "from_day": D, "to_day": D}
    assert post(client, tokens, "res-1", "/api/v1/leave", leave).status_code == 403  # cannot grant own leave
    assert post(client, tokens, "res-1", "/api/v1/days/recompute", {"dates": [D]}).status_code == 403
    assert post(client, tokens, "res-1", "/api/v1/import/employees", content=b"employee_id\n").status_code == 403
    r = get(client, tokens, "unbound", "/api/v1/days", date=D)
    assert r.status_code == 403 and "not bound" in r.json()["detail"]


def test_issued_employee_token_is_bound_to_that_employee(client, tokens, engine):
    r = post(client, tokens, "warden-1", "/api/v1/employees/res-1b/token")
    assert r.status_code == 201
    tokens["res-1b"] = r.json()["token"]
    assert ids(get(client, tokens, "res-1b", "/api/v1/days", date=D)) == ["res-1b"]
    with engine.begin() as conn, pytest.raises(TokenError, match="belongs to site hostel-1"):
        create_token(conn, Role.EMPLOYEE, "x", "hostel-2", employee_id="res-1")
    with engine.begin() as conn, pytest.raises(TokenError, match="only an employee token"):
        create_token(conn, Role.WARDEN, "x", "hostel-1", employee_id="res-1")


def test_wider_roles(client, tokens):
    assert ids(get(client, tokens, "admin", "/api/v1/days", date=D)) == ["res-1", "res-1b", "res-2"]
    assert ids(get(client, tokens, "district", "/api/v1/days", date=D, site_id="hostel-2")) == ["res-2"]
    leave = {"employee_id": "res-2", "from_day": D, "to_day": D}
    assert post(client, tokens, "district", "/api/v1/leave", leave).status_code == 403
    assert post(client, tokens, "it", "/api/v1/leave", leave).status_code == 403
    r = post(client, tokens, "it", "/api/v1/days/recompute", {"dates": [D], "site_id": "hostel-2"})
    assert r.status_code == 200 and [d["employee_id"] for d in r.json()] == ["res-2"]
    assert post(client, tokens, "warden-1", "/api/v1/import/sites", content=b"site_id,name\n").status_code == 403
    r = post(client, tokens, "admin", "/api/v1/days/recompute", {"dates": ["2026-02-30"]})
    assert r.status_code == 422 and "dates" in str(r.json()["detail"])


def test_roles_on_inspections_tasks_and_notices(client, tokens):
    for path in ("/api/v1/inspections", "/api/v1/tasks", "/api/v1/notices"):
        r = get(client, tokens, "warden-1", path, site_id="hostel-2")
        assert r.status_code == 403 and "hostel-1" in r.json()["detail"], path
    assert get(client, tokens, "res-1", "/api/v1/tasks", employee_id="res-1b").status_code == 403
    assert get(client, tokens, "res-1", "/api/v1/inspections", employee_id="res-1b").status_code == 403
    task = {"employee_id": "res-1", "title": "clean the room"}
    # Tasks and notices come from office heads, district officers and state admins only.
    for who in ("warden-1", "it", "res-1"):
        assert post(client, tokens, who, "/api/v1/tasks", task).status_code == 403, who
        notice = {"audience": "site", "site_id": "hostel-1", "title": "t", "body": "b"}
        assert post(client, tokens, who, "/api/v1/notices", notice).status_code == 403, who
    assert post(client, tokens, "admin", "/api/v1/tasks", task).status_code == 201
    assert [t["employee_id"] for t in get(client, tokens, "res-1", "/api/v1/me/tasks").json()] == ["res-1"]
    assert get(client, tokens, "warden-1", "/api/v1/me/tasks").status_code == 403
