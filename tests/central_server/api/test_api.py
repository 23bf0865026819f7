"""The HTTP API: every endpoint behind a role, registration, attendance by day, stats, chain. (The old /dashboard
board is a redirect now: tests/central_server/web/test_review_page.py.)"""

import json

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from central_server.app import create_app
from central_server.db.schema import people, records
from central_server.ingest.records import ingest_payload
from central_server.org.sites import create_person
from hajiri_wire import RecordBatch, encode_batch, topics


@pytest.fixture
def app(config, sqlite_engine):
    return create_app(config, engine=sqlite_engine, start_ingest=False)


@pytest.fixture
def client(app, tokens):
    with TestClient(app) as c:
        yield c


def ingest(engine, kiosk, recs):
    return ingest_payload(engine, topics.records(kiosk.device_id),
                          encode_batch(RecordBatch(device_id=kiosk.device_id, records=recs)))


# Open by design: the health probe, and the login that hands out tokens (throttled, see test_login.py).
PUBLIC_PATHS = {"/healthz", "/api/v1/auth/login"}


def test_every_endpoint_but_healthz_and_login_needs_a_token(app, client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/openapi.json").status_code == 404 and client.get("/docs").status_code == 404
    checked = 0
    for route_path, operations in app.openapi()["paths"].items():  # every route, docs served or not
        if route_path in PUBLIC_PATHS:
            continue
        path = route_path.replace("{device_id}", "kiosk-01")
        for method in operations:
            response = client.request(method, path, params={"date": "2026-11-25"})
            assert response.status_code == 401, f"{method} {path} answered {response.status_code} without a token"
            assert response.headers["www-authenticate"] == "Bearer"
            checked += 1
    assert checked >= 10


def test_wrong_token_is_401_and_wrong_role_is_403(client, tokens, auth):
    assert client.get("/api/v1/devices", headers=auth("not-a-real-token")).status_code == 401
    r = client.get("/api/v1/attendance", params={"date": "2026-11-25"}, headers=auth(tokens["it"]))
    assert r.status_code == 403 and "it_staff" in r.json()["detail"]
    body = {"device_id": "kiosk-09", "site_id": "office-1", "public_key": "x"}
    assert client.post("/api/v1/devices", json=body, headers=auth(tokens["head"])).status_code == 403
    assert client.get("/api/v1/ingest/stats", headers=auth(tokens["employee"])).status_code == 403


def test_device_registration(client, tokens, auth, new_kiosk):
    kiosk = new_kiosk("kiosk-05")
    body = {"device_id": "kiosk-05", "site_id": "office-1", "public_key": kiosk.key.public_b64}
    r = client.post("/api/v1/devices", json=body, headers=auth(tokens["it"]))
    assert r.status_code == 201 and r.json()["status"] == "active"
    assert client.post("/api/v1/devices", json=body, headers=auth(tokens["admin"])).status_code == 409
    bad_key = {**body, "device_id": "kiosk-06", "public_key": "bm90IGEga2V5"}
    r = client.post("/api/v1/devices", json=bad_key, headers=auth(tokens["it"]))
    assert r.status_code == 422 and "Ed25519" in r.json()["detail"]
    no_site = {**body, "device_id": "kiosk-07", "site_id": "nowhere"}
    r = client.post("/api/v1/devices", json=no_site, headers=auth(tokens["it"]))
    assert r.status_code == 422 and "not registered" in r.json()["detail"]
    bad_id = {**body, "device_id": "Kiosk 8!"}
    assert client.post("/api/v1/devices", json=bad_id, headers=auth(tokens["it"])).status_code == 422
    listed = client.get("/api/v1/devices", headers=auth(tokens["it"])).json()
    assert [d["device_id"] for d in listed] == ["kiosk-05"]
    r = client.post("/api/v1/devices/kiosk-05/revoke", headers=auth(tokens["it"]))
    assert r.json()["status"] == "revoked"


def test_sites_and_people(client, tokens, auth):
    r = client.post("/api/v1/sites", json={"site_id": "hostel-3", "name": "Girls' Hostel 3", "kind": "hostel"},
                    headers=auth(tokens["admin"]))
    assert r.status_code == 201
    assert client.post("/api/v1/sites", json={"site_id": "hostel-3", "name": "x"},
                       headers=auth(tokens["admin"])).status_code == 409
    assert client.post("/api/v1/sites", json={"site_id": "h-4", "name": "x", "kind": "palace"},
                       headers=auth(tokens["admin"])).status_code == 422
    person = {"person_id": "emp-1", "name": "Asha Kumari", "site_id": "office-1"}
    assert client.post("/api/v1/people", json=person, headers=auth(tokens["head"])).status_code == 201
    assert client.post("/api/v1/people", json=person, headers=auth(tokens["admin"])).status_code == 409
    elsewhere = {"person_id": "emp-2", "name": "Ravi", "site_id": "office-2"}
    assert client.post("/api/v1/people", json=elsewhere, headers=auth(tokens["head"])).status_code == 403
    assert client.post("/api/v1/people", json=elsewhere, headers=auth(tokens["admin"])).status_code == 201
    assert [p["person_id"] for p in client.get("/api/v1/people", headers=auth(tokens["head"])).json()] == ["emp-1"]
    assert len(client.get("/api/v1/people", headers=auth(tokens["admin"])).json()) == 2


@pytest.mark.parametrize("bad", ["25-11-2026", "2026-02-30", "2026-W48-3", "today", "20261125"])
def test_attendance_bad_date_is_422_with_a_clear_message(client, tokens, auth, bad):
    r = client.get("/api/v1/attendance", params={"date": bad}, headers=auth(tokens["admin"]))
    assert r.status_code == 422
    assert "YYYY-MM-DD" in r.json()["detail"] and bad in r.json()["detail"]


def test_attendance_lists_the_days_records_with_names(client, sqlite_engine, tokens, auth, new_kiosk,
                                                      register_kiosk):
    kiosk = new_kiosk()
    register_kiosk(sqlite_engine, kiosk)
    with sqlite_engine.begin() as conn:
        create_person(conn, "emp-1", "Asha Kumari", "office-1", actor="test")
    recs = [kiosk.record("emp-1", "IN", "2026-11-24T23:59:59.999Z"),
            kiosk.record("emp-1", "IN", "2026-11-25T03:30:00.000Z"),
            kiosk.record(None, "UNKNOWN", "2026-11-25T04:00:00.000Z"),
            kiosk.record("emp-1", "OUT", "2026-11-25T12:00:00.000Z"),
            kiosk.record("emp-1", "IN", "2026-11-26T00:00:00.000Z")]
    assert ingest(sqlite_engine, kiosk, recs).stored == 5
    r = client.get("/api/v1/attendance", params={"date": "2026-11-25"}, headers=auth(tokens["admin"]))
    assert r.status_code == 200
    rows = r.json()["records"]
    assert [x["record_id"] for x in rows] == [recs[1].record_id, recs[2].record_id, recs[3].record_id]
    assert rows[0]["name"] == "Asha Kumari" and rows[0]["match_score"] == pytest.approx(0.72)
    assert rows[1]["person_id"] is None and rows[1]["event"] == "UNKNOWN"
    assert all(x["chain_ok"] is True and x["clock_synced"] is True for x in rows)
    head = client.get("/api/v1/attendance", params={"date": "2026-11-25"}, headers=auth(tokens["head"])).json()
    assert head["site_id"] == "office-1" and len(head["records"]) == 3
    r = client.get("/api/v1/attendance", params={"date": "2026-11-25", "site_id": "office-2"},
                   headers=auth(tokens["head"]))
    assert r.status_code == 403


def test_attendance_day_follows_the_configured_time_zone(sqlite_engine, sqlite_url, tokens, auth, new_kiosk,
                                                         register_kiosk):
    from central_server.config import ServerConfig

    kiosk = new_kiosk()
    register_kiosk(sqlite_engine, kiosk)
    # 20:00 UTC on the 24th is 01:30 on the 25th in India.
    ingest(sqlite_engine, kiosk, [kiosk.record("emp-1", "IN", "2026-11-24T20:00:00.000Z")])
    app = create_app(ServerConfig(database_url=sqlite_url, timezone="Asia/Kolkata"), engine=sqlite_engine,
                     start_ingest=False)
    with TestClient(app) as c:
        day = c.get("/api/v1/attendance", params={"date": "2026-11-25"}, headers=auth(tokens["admin"])).json()
    assert len(day["records"]) == 1 and day["timezone"] == "Asia/Kolkata"


def test_ingest_stats_show_stored_and_rejected(client, sqlite_engine, tokens, auth, new_kiosk, register_kiosk):
    kiosk = new_kiosk()
    register_kiosk(sqlite_engine, kiosk)
    ingest(sqlite_engine, kiosk, [kiosk.record()])
    ingest_payload(sqlite_engine, topics.records("kiosk-01"), b"{truncated")
    ingest_payload(sqlite_engine, topics.records("kiosk-03"), b"{truncated again")
    stats = client.get("/api/v1/ingest/stats", headers=auth(tokens["it"])).json()
    assert stats["stored_total"] == 1
    assert stats["rejected_total_by_reason"] == {"malformed": 2}
    assert [r["device_id"] for r in stats["latest_rejections"]] == ["kiosk-03", "kiosk-01"]
    assert stats["latest_rejections"][0]["payload_excerpt"] == "{truncated again"


def test_chain_report_finds_gaps_and_altered_rows(client, sqlite_engine, tokens, auth, new_kiosk, register_kiosk):
    kiosk = new_kiosk()
    register_kiosk(sqlite_engine, kiosk)
    recs = [kiosk.record() for _ in range(4)]
    ingest(sqlite_engine, kiosk, recs)
    report = client.get("/api/v1/devices/kiosk-01/chain", headers=auth(tokens["it"])).json()
    assert report["whole"] is True and report["records"] == 4 and report["problems"] == []
    with sqlite_engine.begin() as conn:
        conn.execute(sa.delete(records).where(records.c.seq == 2))
        body = json.loads(conn.execute(sa.select(records.c.body).where(records.c.seq == 4)).scalar_one())
        body["person_id"] = "emp-999"  # someone edits the database behind the server's back
        conn.execute(sa.update(records).where(records.c.seq == 4).values(body=json.dumps(body)))
    report = client.get("/api/v1/devices/kiosk-01/chain", headers=auth(tokens["it"])).json()
    assert report["whole"] is False
    assert {p["kind"] for p in report["problems"]} >= {"gap", "hash_mismatch"}
    assert report["bad_signatures"] == [recs[3].record_id]
    assert client.get("/api/v1/devices/nope-1/chain", headers=auth(tokens["it"])).status_code == 404


def test_bootstrap_admin_token_from_config(sqlite_url, sqlite_engine, random_token, auth):
    from central_server.config import ServerConfig

    config = ServerConfig(database_url=sqlite_url, bootstrap_admin_token=random_token)
    for _ in range(2):  # a restart with the same token must not fail or duplicate it
        with TestClient(create_app(config, engine=sqlite_engine, start_ingest=False)) as c:
            r = c.post("/api/v1/sites", json={"site_id": "office-9", "name": "Nine"}, headers=auth(random_token))
            assert r.status_code in (201, 409)
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(people)).scalar_one() == 0


def test_dashboard_token_is_redacted_from_access_logs(caplog):
    import logging

    from central_server.access.logsafe import install_redaction

    install_redaction("test.access")
    with caplog.at_level(logging.INFO, logger="test.access"):
        logging.getLogger("test.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET",
                                              "/dashboard?site_id=o1&token=s3cr3t-value", "1.1", 303)
    assert "s3cr3t" not in caplog.text and "token=[redacted]" in caplog.text and "site_id=o1" in caplog.text
