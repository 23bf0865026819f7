"""Phone tokens act for one employee: they expire, are listed and revoked, and die with the login that issued
them (SQLite and PostgreSQL, through the API as an office head uses it)."""

import time

import sqlalchemy as sa
from fastapi.testclient import TestClient

from central_server.access.phone_tokens import PHONE_TOKEN_DAYS
from central_server.access.tokens import Role, create_token, find_principal
from central_server.access.users import create_user, set_disabled
from central_server.app import create_app
from central_server.config import ServerConfig
from central_server.db.schema import audit_log
from central_server.org.employees import create_employee
from central_server.org.sites import create_site
from hajiri_common.timefmt import utc_iso

PASSWORD = "office head password 1"


def setup(engine):
    with engine.begin() as conn:
        for site in ("office-a", "office-b"):
            create_site(conn, site, site, "office", actor="t")
            create_employee(conn, {"employee_id": f"emp-{site}", "name": "E", "site_id": site}, actor="t")
        create_user(conn, "head.a", PASSWORD, Role.OFFICE_HEAD, actor="t", site_id="office-a")
    app = create_app(ServerConfig(database_url="sqlite:///unused.db"), engine=engine, start_ingest=False)
    return TestClient(app)


def test_a_phone_token_expires_is_listed_and_revoked(engine):
    with setup(engine) as c:
        head = c.post("/api/v1/auth/login", json={"username": "head.a", "password": PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {head}"}
        issued = c.post("/api/v1/employees/emp-office-a/token", headers=auth)
        assert issued.status_code == 201, issued.text
        body = issued.json()
        assert body["expires_at"][:10] > utc_iso(0)[:10] and body["token_id"] not in body["token"]
        with engine.connect() as conn:
            now = find_principal(conn, body["token"])
            assert now is not None and now.employee_id == "emp-office-a"
            later = find_principal(conn, body["token"], now=time.time() + PHONE_TOKEN_DAYS * 86400 + 60)
            assert later is None  # a phone token outlives its quarter no longer
        second = c.post("/api/v1/employees/emp-office-a/token", headers=auth).json()
        listed = c.get("/api/v1/employees/emp-office-a/tokens", headers=auth).json()
        assert {t["token_id"] for t in listed} == {body["token_id"], second["token_id"]}
        assert {t["state"] for t in listed} == {"active"} and {t["issued_by"] for t in listed} == {"head.a"}
        assert all("token" not in t for t in listed)

        assert c.post(f"/api/v1/employees/emp-office-a/tokens/{body['token_id']}/revoke",
                      headers=auth).status_code == 204
        states = {t["token_id"]: t["state"] for t in c.get("/api/v1/employees/emp-office-a/tokens",
                                                           headers=auth).json()}
        assert states == {body["token_id"]: "revoked", second["token_id"]: "active"}
        refused = c.get("/api/v1/checkins", params={"date": "2026-11-25"},
                        headers={"Authorization": f"Bearer {body['token']}"})
        assert refused.status_code == 401
        # Another employee's token id, a made-up one, or another site's employee: not found / refused.
        assert c.post(f"/api/v1/employees/emp-office-a/tokens/{'0' * 16}/revoke", headers=auth).status_code == 404
        assert c.post("/api/v1/employees/emp-office-a/tokens/ab/revoke", headers=auth).status_code == 404
        assert c.get("/api/v1/employees/emp-office-b/tokens", headers=auth).status_code == 403
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(
            audit_log.c.action == "token.revoke")).scalar() == 1


def test_phone_tokens_die_with_the_login_that_issued_them(engine):
    with setup(engine) as c:
        head = c.post("/api/v1/auth/login", json={"username": "head.a", "password": PASSWORD}).json()["token"]
        phone = c.post("/api/v1/employees/emp-office-a/token", headers={"Authorization": f"Bearer {head}"}).json()
        with engine.begin() as conn:
            other = create_token(conn, Role.EMPLOYEE, "phone from a machine token", "office-a",
                                 employee_id="emp-office-a")
            set_disabled(conn, "head.a", True, actor="state admin")  # the head was transferred out
        with engine.connect() as conn:
            assert find_principal(conn, phone["token"]) is None
            assert find_principal(conn, other) is not None  # not issued by that login
        listed = c.get("/api/v1/employees/emp-office-a/tokens", headers={
            "Authorization": f"Bearer {create_admin(engine)}"}).json()
        assert {t["token_id"]: t["state"] for t in listed}[phone["token_id"]] == "revoked"


def create_admin(engine) -> str:
    with engine.begin() as conn:
        return create_token(conn, Role.STATE_ADMIN, "admin")
