"""Tasks and notices on SQLite and PostgreSQL: officers assign within their scope, an employee sees and closes
only their own, notices reach a site, a district or everyone (also through notices_for_site for kiosks)."""

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.config import ServerConfig
from central_server.db.schema import audit_log
from central_server.field.tasks import notices_for_site
from central_server.org.employees import create_employee, set_site_details
from central_server.org.sites import create_site


@pytest.fixture
def world(engine) -> dict:
    with engine.begin() as conn:
        for site, district in (("office-1", "Khurda"), ("office-2", "Khurda"), ("office-3", "Cuttack")):
            create_site(conn, site, site, "office", actor="t")
            set_site_details(conn, site, {"district": district}, actor="t")
        for emp, site in (("e1", "office-1"), ("e1b", "office-1"), ("e2", "office-2"), ("e3", "office-3")):
            create_employee(conn, {"employee_id": emp, "name": emp, "site_id": site}, actor="t")
        t = {e: create_token(conn, Role.EMPLOYEE, e, employee_id=e) for e in ("e1", "e1b", "e2", "e3")}
        t["head-1"] = create_token(conn, Role.OFFICE_HEAD, "head 1", "office-1")
        t["do-khurda"] = create_token(conn, Role.DISTRICT_OFFICER, "do khurda", district="khurda")
        t["warden"] = create_token(conn, Role.WARDEN, "warden", "office-1")
        t["admin"] = create_token(conn, Role.STATE_ADMIN, "admin")
    return t


@pytest.fixture
def client(engine, world):
    with TestClient(create_app(ServerConfig(database_url="sqlite:///unused.db"), engine=engine,
                               start_ingest=False)) as c:
        c.tokens = world
        yield c


def call(client, method, who, path, json=None, **params):
    return client.request(method, path, json=json, params=params,
                          headers={"Authorization": f"Bearer {client.tokens[who]}"})


def task(employee_id, title="Submit pond report", due_day="2026-12-01"):
    return {"employee_id": employee_id, "title": title, "details": "with photos", "due_day": due_day}


def test_officers_assign_within_their_scope(client):
    assert call(client, "POST", "head-1", "/api/v1/tasks", task("e1")).status_code == 201
    assert call(client, "POST", "head-1", "/api/v1/tasks", task("e2")).status_code == 403
    assert call(client, "POST", "do-khurda", "/api/v1/tasks", task("e2")).status_code == 201
    assert call(client, "POST", "do-khurda", "/api/v1/tasks", task("e3")).status_code == 403
    assert call(client, "POST", "admin", "/api/v1/tasks", task("e3")).status_code == 201
    assert call(client, "POST", "warden", "/api/v1/tasks", task("e1")).status_code == 403
    assert call(client, "POST", "e1", "/api/v1/tasks", task("e1")).status_code == 403
    r = call(client, "POST", "admin", "/api/v1/tasks", task("e1", due_day="next week"))
    assert r.status_code == 422 and "due_day" in str(r.json()["detail"])
    r = call(client, "POST", "admin", "/api/v1/tasks", task("nobody"))
    assert r.status_code == 404

    def emps(who, **params):
        r = call(client, "GET", who, "/api/v1/tasks", **params)
        assert r.status_code == 200, r.text
        return sorted(t["employee_id"] for t in r.json())

    assert emps("head-1") == ["e1"]
    assert emps("do-khurda") == ["e1", "e2"]
    assert emps("admin") == ["e1", "e2", "e3"]
    assert call(client, "GET", "do-khurda", "/api/v1/tasks", site_id="office-3").status_code == 403


def test_an_employee_sees_and_closes_only_their_own(client, engine):
    mine = call(client, "POST", "head-1", "/api/v1/tasks", task("e1")).json()
    other = call(client, "POST", "head-1", "/api/v1/tasks", task("e1b", "Other work")).json()
    r = call(client, "GET", "e1", "/api/v1/me/tasks")
    assert [t["id"] for t in r.json()] == [mine["id"]] and r.json()[0]["status"] == "open"
    assert call(client, "GET", "e1", "/api/v1/tasks", employee_id="e1b").status_code == 403
    r = call(client, "POST", "e1", f"/api/v1/me/tasks/{other['id']}/done", {"note": "x"})
    assert r.status_code == 404
    r = call(client, "POST", "e1", f"/api/v1/me/tasks/{mine['id']}/done", {"note": "report filed"})
    assert r.status_code == 200 and r.json()["status"] == "done" and r.json()["done_note"] == "report filed"
    assert call(client, "GET", "e1", "/api/v1/me/tasks", status="open").json() == []
    assert call(client, "GET", "e1b", "/api/v1/me/tasks", status="open").json()[0]["id"] == other["id"]
    assert call(client, "POST", "head-1", f"/api/v1/me/tasks/{mine['id']}/done", {}).status_code == 403
    with engine.connect() as conn:
        actions = [(r.action, r.target) for r in conn.execute(sa.select(audit_log).where(
            audit_log.c.action.like("task.%")).order_by(audit_log.c.id))]
    assert actions == [("task.create", "e1"), ("task.create", "e1b"), ("task.done", "e1")]


def test_notices_per_site_district_and_all(client, engine):
    def send(who, audience, **target):
        return call(client, "POST", who, "/api/v1/notices",
                    {"audience": audience, "title": f"{audience} from {who}", "body": "Meeting at 3 pm", **target})

    assert send("head-1", "site", site_id="office-1").status_code == 201
    assert send("head-1", "site", site_id="office-2").status_code == 403
    assert send("head-1", "district", district="Khurda").status_code == 403
    assert send("do-khurda", "district", district="Khurda").status_code == 201
    assert send("do-khurda", "district", district="Cuttack").status_code == 403
    assert send("do-khurda", "all").status_code == 403
    assert send("admin", "all").status_code == 201
    assert send("admin", "site", site_id="office-3").status_code == 201
    r = send("admin", "site")
    assert r.status_code == 422 and "site_id" in str(r.json()["detail"])

    def titles(who, path="/api/v1/me/notices", **params):
        r = call(client, "GET", who, path, **params)
        assert r.status_code == 200, r.text
        return sorted(n["title"] for n in r.json())

    assert titles("e1") == ["all from admin", "district from do-khurda", "site from head-1"]
    assert titles("e2") == ["all from admin", "district from do-khurda"]
    assert titles("e3") == ["all from admin", "site from admin"]
    assert titles("do-khurda", "/api/v1/notices") == ["all from admin", "district from do-khurda",
                                                        "site from head-1"]
    assert call(client, "GET", "do-khurda", "/api/v1/notices", site_id="office-3").status_code == 403
    assert len(titles("admin", "/api/v1/notices")) == 4
    with engine.connect() as conn:
        kiosk = notices_for_site(conn, "office-3")
        assert [n["title"] for n in kiosk] == ["site from admin", "all from admin"]  # newest first
        assert set(kiosk[0]) == {"id", "audience", "site_id", "district", "title", "body", "sent_by", "created_at"}
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(
            audit_log.c.action == "notice.create")).scalar() == 4
