"""POST /api/v1/checkins/{id}/review: office heads, wardens and the state admin decide, for the check-ins of
employees they may see; a reason is required; a decision is made once; the day read back through the API."""

from datetime import date

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.attendance.rules.recompute import recompute_days
from central_server.config import ServerConfig
from central_server.db.schema import audit_log, checkins
from central_server.org.employees import create_employee
from central_server.org.sites import create_site
from hajiri_wire.ids import uuid7
from tests.builders import IST, bearer, local_wire

DAY = "2026-11-25"


@pytest.fixture
def world(sqlite_engine) -> dict:
    """emp-1 at office-1 checked in (sent late, offline) and out; tokens for each role."""
    with sqlite_engine.begin() as conn:
        create_site(conn, "office-1", "Office One", "office", actor="test")
        create_site(conn, "office-2", "Office Two", "office", actor="test")
        create_employee(conn, {"employee_id": "emp-1", "name": "Sunita", "site_id": "office-1"}, actor="test")
        ids = [_checkin(conn, "IN", "09:50", "queued_offline"), _checkin(conn, "OUT", "17:45", "")]
        recompute_days(conn, "emp-1", [date.fromisoformat(DAY)], IST)
        tokens = {"admin": create_token(conn, Role.STATE_ADMIN, "admin"),
                  "head": create_token(conn, Role.OFFICE_HEAD, "head one", "office-1"),
                  "head2": create_token(conn, Role.OFFICE_HEAD, "head two", "office-2"),
                  "warden": create_token(conn, Role.WARDEN, "warden one", "office-1"),
                  "district": create_token(conn, Role.DISTRICT_OFFICER, "district"),
                  "it": create_token(conn, Role.IT_STAFF, "it"),
                  "employee": create_token(conn, Role.EMPLOYEE, "emp", employee_id="emp-1")}
    return {"arrival": ids[0], "tokens": tokens}


def _checkin(conn: sa.Connection, event: str, hhmm: str, flags: str) -> str:
    checkin_id = uuid7()
    at = local_wire(DAY, hhmm)
    conn.execute(sa.insert(checkins).values(
        checkin_id=checkin_id, employee_id="emp-1", idempotency_key=f"k-{checkin_id}", event=event, lat=20.0,
        lon=85.0, accuracy_m=10.0, device_time=at, event_time=at, received_at=at, flags=flags,
        selfie_sha256=checkin_id, selfie_status="verified"))
    return checkin_id


@pytest.fixture
def client(sqlite_engine, world):
    app = create_app(ServerConfig(database_url="sqlite:///unused.db", timezone=IST), engine=sqlite_engine,
                     start_ingest=False)
    with TestClient(app) as c:
        yield c


def _status(client, token: str) -> str:
    (day,) = client.get("/api/v1/days", params={"date": DAY, "employee_id": "emp-1"}, headers=bearer(token)).json()
    return day["status"]


def test_who_may_review_and_the_day_it_changes(client, world, sqlite_engine):
    tokens, url = world["tokens"], f"/api/v1/checkins/{world['arrival']}/review"
    body = {"decision": "reject", "reason": "On leave that morning"}
    for who in ("head2", "district", "it", "employee"):
        assert client.post(url, json=body, headers=bearer(tokens[who])).status_code == 403, who
    assert client.post(url, json=body).status_code == 401
    assert _status(client, tokens["admin"]) == "present"
    r = client.post(url, json=body, headers=bearer(tokens["warden"]))
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["decision"], out["reason"], out["day"], out["reviewed_by"]) == (
        "rejected", "On leave that morning", DAY, "warden one")
    assert _status(client, tokens["admin"]) == "absent"
    assert client.post(url, json={"decision": "accept", "reason": "oops"}, headers=bearer(tokens["head"])).status_code == 409
    with sqlite_engine.connect() as conn:
        actions = conn.execute(sa.select(audit_log.c.actor).where(audit_log.c.action == "checkin.rejected")).scalars()
        assert list(actions) == ["warden one"]


def test_a_review_needs_a_decision_and_a_reason(client, world):
    head, url = bearer(world["tokens"]["head"]), f"/api/v1/checkins/{world['arrival']}/review"
    for body in ({"decision": "reject"}, {"decision": "reject", "reason": "   "}, {"decision": "maybe", "reason": "x"},
                 {"decision": "reject", "reason": "x" * 501}, {"decision": "reject", "reason": "x", "extra": 1}):
        assert client.post(url, json=body, headers=head).status_code == 422, body
    assert client.post("/api/v1/checkins/nope/review", json={"decision": "reject", "reason": "x"},
                       headers=head).status_code == 404
