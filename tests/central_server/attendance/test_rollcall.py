"""Hostel roll-call (SQLite and PostgreSQL): in / out / not seen against the curfew; wardens see their own."""

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.config import ServerConfig
from central_server.db.schema import leaves
from central_server.ingest.records import ingest_payload
from central_server.org.employees import add_absence, create_employee, set_site_details
from central_server.org.sites import create_site
from hajiri_wire import RecordBatch, encode_batch, topics
from tests.builders import local_wire

DAY = "2026-11-20"  # a past day: the roll-call is as of its end


def ist(day: str, hhmm: str) -> str:
    return local_wire(day, hhmm)


@pytest.fixture
def client(engine, new_kiosk, register_kiosk):
    prev = (datetime.fromisoformat(DAY) - timedelta(days=2)).date().isoformat()
    with engine.begin() as conn:
        create_site(conn, "hostel-1", "Girls' Hostel", "hostel", actor="t")
        create_site(conn, "hostel-2", "Boys' Hostel", "hostel", actor="t")
        set_site_details(conn, "hostel-1", {"curfew": "21:00", "district": "Khurda"}, actor="t")
        for r in ("r-in", "r-late", "r-out", "r-never", "r-leave", "r-stay"):
            create_employee(conn, {"employee_id": r, "name": r, "site_id": "hostel-1", "role": "resident"}, actor="t")
        add_absence(conn, leaves, {"employee_id": "r-leave", "from_day": DAY, "to_day": DAY, "kind": "casual",
                                   "approved": True}, actor="t")
        tokens = {"w1": create_token(conn, Role.WARDEN, "w1", "hostel-1"),
                  "w2": create_token(conn, Role.WARDEN, "w2", "hostel-2")}
    kiosk = new_kiosk("kiosk-05", "hostel-1")
    register_kiosk(engine, kiosk)
    recs = [kiosk.record("r-stay", "IN", ist(prev, "19:00")),
            kiosk.record("r-out", "IN", ist(DAY, "08:00")), kiosk.record("r-late", "OUT", ist(DAY, "17:00")),
            kiosk.record("r-in", "IN", ist(DAY, "18:00")), kiosk.record("r-out", "OUT", ist(DAY, "20:00")),
            kiosk.record("r-late", "IN", ist(DAY, "22:30"))]
    assert ingest_payload(engine, topics.records(kiosk.device_id),
                          encode_batch(RecordBatch(device_id=kiosk.device_id, records=recs))).stored == len(recs)
    app = create_app(ServerConfig(database_url="sqlite:///unused.db"), engine=engine, start_ingest=False)
    with TestClient(app) as c:
        c.tokens = tokens
        yield c


def test_rollcall_against_the_curfew(client):
    r = client.get("/api/v1/rollcall", params={"site_id": "hostel-1", "date": DAY},
                   headers={"Authorization": f"Bearer {client.tokens['w1']}"})
    assert r.status_code == 200, r.text
    got = {x["employee_id"]: (x["status"], x["in_by_curfew"]) for x in r.json()["residents"]}
    assert got == {"r-in": ("in", True), "r-late": ("in", False), "r-out": ("out", False),
                   "r-never": ("not_seen", False), "r-leave": ("on_leave", False), "r-stay": ("in", True)}
    assert r.json()["not_in_by_curfew"] == ["r-late", "r-never", "r-out"]
    assert r.json()["curfew"] == ist(DAY, "21:00")


def test_a_warden_cannot_call_another_hostels_roll(client):
    h2 = {"Authorization": f"Bearer {client.tokens['w2']}"}
    assert client.get("/api/v1/rollcall", params={"site_id": "hostel-1"}, headers=h2).status_code == 403
    r = client.get("/api/v1/rollcall", params={"site_id": "hostel-2"}, headers=h2)
    assert r.status_code == 422 and "no curfew" in r.json()["detail"]
