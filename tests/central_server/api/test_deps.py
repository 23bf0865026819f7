"""Who may call what: every route's roles, as a table (the same before and after the roles were named once in
api/deps.py), checked by calling each route with a token of each role; and the site and employee scope helpers."""

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from central_server.access.tokens import Principal, Role, create_token
from central_server.api.deps import check_site_scope, only_own_employee, scoped_query
from central_server.app import create_app
from central_server.errors import Forbidden, Invalid
from central_server.org.employees import create_employee
from central_server.org.sites import create_site

ROLE = {"SA": Role.STATE_ADMIN, "IT": Role.IT_STAFF, "OH": Role.OFFICE_HEAD, "WA": Role.WARDEN,
        "DO": Role.DISTRICT_OFFICER, "EM": Role.EMPLOYEE}
# Routes that need no token at all: liveness and the password login.
OPEN = {"GET /healthz", "POST /api/v1/auth/login"}
ROLES = {
    "DELETE /api/v1/employees/{employee_id}/templates": "SA IT OH",
    "GET /api/v1/adjustments": "SA OH DO",
    "GET /api/v1/attendance": "SA OH",
    "GET /api/v1/checkins": "SA OH WA DO EM",  # GPS: not IT staff
    "GET /api/v1/days": "SA IT OH WA DO EM",
    "GET /api/v1/departments": "SA IT OH WA DO",
    "GET /api/v1/devices": "SA IT",
    "GET /api/v1/devices/{device_id}/chain": "SA IT",
    "GET /api/v1/devices/{device_id}/heartbeat": "SA IT",
    "GET /api/v1/downlink/devices/{device_id}": "SA IT",
    "GET /api/v1/downlink/server-key": "SA IT",
    "GET /api/v1/employees": "SA IT OH WA DO EM",
    "GET /api/v1/employees/{employee_id}": "SA IT OH WA DO EM",
    "GET /api/v1/employees/{employee_id}/templates": "SA IT OH",
    "GET /api/v1/evidence": "SA IT OH",
    "GET /api/v1/evidence/liveness-events": "SA IT OH",
    "GET /api/v1/evidence/server-key": "SA IT",
    "GET /api/v1/evidence/{record_id}/image": "SA IT OH",
    "GET /api/v1/explanations": "SA IT OH WA DO EM",
    "GET /api/v1/holidays": "SA IT OH WA DO EM",
    "GET /api/v1/ingest/stats": "SA IT",
    "GET /api/v1/inspections": "SA OH WA DO EM",  # GPS: not IT staff
    "GET /api/v1/inspections/officers": "SA IT OH WA DO EM",
    "GET /api/v1/leave": "SA IT OH WA DO EM",
    "GET /api/v1/month-close": "SA OH DO",
    "GET /api/v1/me/notices": "EM",
    "GET /api/v1/me/tasks": "EM",
    "GET /api/v1/notices": "SA IT OH WA DO EM",
    "GET /api/v1/people": "SA IT OH",
    "GET /api/v1/reports/absent": "SA OH WA DO EM",
    "GET /api/v1/reports/late": "SA OH WA DO EM",
    "GET /api/v1/reports/monthly": "SA OH WA DO EM",
    "GET /api/v1/reports/monthly.sig": "SA OH WA DO EM",
    "GET /api/v1/reports/muster": "SA OH WA DO EM",
    "GET /api/v1/reports/rollup": "SA OH WA DO EM",
    "GET /api/v1/rollcall": "SA IT OH WA DO",
    "GET /api/v1/shifts": "SA IT OH WA DO",
    "GET /api/v1/sites": "SA IT OH",
    "GET /api/v1/sites/{site_id}/geofences": "SA IT OH WA DO",
    "GET /api/v1/tasks": "SA IT OH WA DO EM",
    "GET /api/v1/tours": "SA IT OH WA DO EM",
    "POST /api/v1/adjustments/{adjustment_id}/review": "SA OH",
    "POST /api/v1/auth/logout": "SA IT OH WA DO EM",
    "POST /api/v1/checkins": "EM",
    "POST /api/v1/checkins/{checkin_id}/review": "SA OH WA",
    "POST /api/v1/days/recompute": "SA IT",
    "POST /api/v1/departments": "SA",
    "POST /api/v1/devices": "SA IT",
    "POST /api/v1/devices/{device_id}/revoke": "SA IT",
    "POST /api/v1/downlink/commands": "SA IT",
    "POST /api/v1/downlink/config": "SA IT",
    "POST /api/v1/downlink/devices/{device_id}/republish": "SA IT",
    "POST /api/v1/downlink/gallery": "SA IT",
    "POST /api/v1/employees": "SA IT OH WA",
    "POST /api/v1/employees/{employee_id}/templates": "SA IT OH",
    "POST /api/v1/employees/{employee_id}/token": "SA IT OH WA",
    "GET /api/v1/employees/{employee_id}/tokens": "SA IT OH WA",
    "POST /api/v1/employees/{employee_id}/tokens/{token_id}/revoke": "SA IT OH WA",
    "POST /api/v1/evidence/{record_id}/review": "SA IT OH",
    "POST /api/v1/explanations/{request_id}/decision": "SA OH WA",
    "POST /api/v1/explanations/{request_id}/reply": "EM",
    "POST /api/v1/holidays": "SA OH WA",
    "POST /api/v1/import/employees": "SA IT OH WA",
    "POST /api/v1/import/sites": "SA",
    "POST /api/v1/inspections": "EM",
    "POST /api/v1/leave": "SA OH WA",
    "POST /api/v1/month-close": "SA OH",
    "POST /api/v1/me/tasks/{task_id}/done": "EM",
    "POST /api/v1/notices": "SA OH DO",
    "POST /api/v1/people": "SA IT OH",
    "POST /api/v1/shifts": "SA IT",
    "POST /api/v1/sites": "SA",
    "POST /api/v1/sites/{site_id}/geofences": "SA IT OH WA",
    "POST /api/v1/tasks": "SA OH DO",
    "POST /api/v1/tours": "SA OH WA",
    "POST /api/v1/users": "SA",
    "POST /api/v1/users/{username}/disabled": "SA",
    "PUT /api/v1/downlink/devices/{device_id}/enc-key": "SA IT",
    "PUT /api/v1/employees/{employee_id}/geofences": "SA IT OH WA",
    "PUT /api/v1/inspections/settings/{site_id}": "SA IT OH WA",
    "PUT /api/v1/sites/{site_id}/details": "SA IT OH WA",
}


def _routes(app) -> list[tuple[str, str]]:
    def flat(routes):
        for r in routes:
            if hasattr(r, "original_router"):  # FastAPI keeps included routers nested
                yield from flat(r.original_router.routes)
            else:
                yield r
    # Web pages (include_in_schema=False) take the session cookie, not a bearer token: their own tests check them.
    return sorted((m, r.path) for r in flat(app.routes) if isinstance(r, APIRoute) and r.include_in_schema
                  for m in r.methods)


@pytest.fixture
def app(sqlite_engine, config):
    return create_app(config, engine=sqlite_engine, start_ingest=False)


@pytest.fixture
def role_tokens(sqlite_engine) -> dict[str, str]:
    with sqlite_engine.begin() as conn:
        create_site(conn, "office-1", "Office", "office", actor="test")
        create_employee(conn, {"employee_id": "emp-1", "name": "E", "site_id": "office-1"}, actor="test")
        site = {Role.OFFICE_HEAD, Role.WARDEN}
        return {abbr: create_token(conn, role, abbr, "office-1" if role in site else None,
                                   employee_id="emp-1" if role is Role.EMPLOYEE else None)
                for abbr, role in ROLE.items()}


def test_the_table_names_every_route(app):
    assert {f"{m} {p}" for m, p in _routes(app)} == set(ROLES) | OPEN


def test_each_route_admits_exactly_its_roles(app, role_tokens):
    with TestClient(app, raise_server_exceptions=False) as client:
        # Logout revokes the token it came with: last.
        for method, path in sorted(_routes(app), key=lambda mp: mp == ("POST", "/api/v1/auth/logout")):
            key = f"{method} {path}"
            if key in OPEN:
                continue
            url = path.replace("{", "").replace("}", "")  # any value will do: roles are checked first
            allowed = set(ROLES[key].split())
            for abbr, token in role_tokens.items():
                r = client.request(method, url, headers={"Authorization": f"Bearer {token}"})
                refused = r.status_code == 403 and "may not do this" in r.text
                assert refused == (abbr not in allowed), (key, abbr, r.status_code, r.text[:200])
            r = client.request(method, url)
            assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer", key


def _who(role: Role, site: str | None = None, employee: str | None = None, district_sites=None) -> Principal:
    return Principal(role, "t", site, employee, "D" if district_sites is not None else None, district_sites)


def test_site_scope():
    assert check_site_scope(_who(Role.STATE_ADMIN), None) is None
    assert check_site_scope(_who(Role.WARDEN, "h1"), None) == "h1"
    with pytest.raises(Forbidden, match="limited to site h1"):
        check_site_scope(_who(Role.WARDEN, "h1"), "h2")
    officer = _who(Role.DISTRICT_OFFICER, district_sites=frozenset({"a", "b"}))
    assert check_site_scope(officer, "a") == "a"
    with pytest.raises(Invalid, match="has 2 sites; name one of a, b"):
        check_site_scope(officer, None)
    with pytest.raises(Forbidden, match="limited to district D"):
        check_site_scope(officer, "c")


def test_employee_scope():
    me = _who(Role.EMPLOYEE, "h1", "e1")
    assert only_own_employee(me, None) == "e1"
    assert scoped_query(me, None, "e1") == ("h1", "e1")
    with pytest.raises(Forbidden, match="its own employee only"):
        only_own_employee(me, "e2")
    with pytest.raises(Forbidden, match="not bound to an employee"):
        only_own_employee(_who(Role.EMPLOYEE, "h1"), None)
