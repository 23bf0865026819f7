"""A site-scoped IT login is held to its site on every device and downlink route, writes included: another
site's kiosk answers as unknown (404), another site named outright is refused (403)."""

import pytest
from fastapi.testclient import TestClient

from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.config import ServerConfig
from central_server.devices.registry import register_device
from central_server.org.sites import create_site
from hajiri_wire import DeviceKey


@pytest.fixture
def client(sqlite_engine, tmp_path):
    with sqlite_engine.begin() as conn:
        for site in ("office-a", "office-b"):
            create_site(conn, site, site, "office", actor="t")
            register_device(conn, f"kiosk-{site}", site, DeviceKey.generate().public_b64, actor="t")
        tokens = {"it-a": create_token(conn, Role.IT_STAFF, "it for office-a", site_id="office-a"),
                  "it": create_token(conn, Role.IT_STAFF, "it state-wide")}
    config = ServerConfig(database_url="sqlite:///unused.db", downlink_key_file=tmp_path / "downlink.pem")
    with TestClient(create_app(config, engine=sqlite_engine, start_ingest=False)) as c:
        c.tokens = tokens
        yield c


def call(client, who, method, path, json=None):
    return client.request(method, path, json=json, headers={"Authorization": f"Bearer {client.tokens[who]}"})


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/api/v1/devices/kiosk-office-b/revoke", None),
    ("GET", "/api/v1/devices/kiosk-office-b/heartbeat", None),
    ("GET", "/api/v1/devices/kiosk-office-b/chain", None),
    ("POST", "/api/v1/downlink/devices/kiosk-office-b/republish", None),
    ("GET", "/api/v1/downlink/devices/kiosk-office-b", None),
    ("PUT", "/api/v1/downlink/devices/kiosk-office-b/enc-key", {"enc_public_key": "x" * 44}),
    ("POST", "/api/v1/downlink/commands", {"device_ids": ["kiosk-office-b"], "command": {"command": "reload"}}),
])
def test_another_sites_kiosk_is_unknown_to_a_site_scoped_it_login(client, method, path, body):
    answer = call(client, "it-a", method, path, body)
    assert answer.status_code == 404, answer.text
    assert "kiosk-office-b" in answer.json()["detail"] and "office-b" not in answer.json()["detail"].replace(
        "kiosk-office-b", "")
    devices = {d["device_id"]: d["status"] for d in call(client, "it", "GET", "/api/v1/devices").json()}
    assert devices["kiosk-office-b"] == "active"  # nothing was changed


def test_a_site_scoped_it_login_cannot_register_or_command_at_another_site(client):
    key = DeviceKey.generate().public_b64
    refused = call(client, "it-a", "POST", "/api/v1/devices",
                   {"device_id": "kiosk-new", "site_id": "office-b", "public_key": key})
    assert refused.status_code == 403 and "office-a" in refused.json()["detail"]
    command = call(client, "it-a", "POST", "/api/v1/downlink/commands",
                   {"site_id": "office-b", "command": {"command": "reload"}})
    assert command.status_code == 403
    ok = call(client, "it-a", "POST", "/api/v1/devices",
              {"device_id": "kiosk-new", "site_id": "office-a", "public_key": key})
    assert ok.status_code == 201, ok.text


def test_a_site_scoped_it_login_lists_and_acts_on_its_own_kiosks(client):
    listed = call(client, "it-a", "GET", "/api/v1/devices").json()
    assert [d["device_id"] for d in listed] == ["kiosk-office-a"]
    assert {d["device_id"] for d in call(client, "it", "GET", "/api/v1/devices").json()} == {
        "kiosk-office-a", "kiosk-office-b"}
    assert call(client, "it-a", "GET", "/api/v1/devices/kiosk-office-a/chain").status_code == 200
    assert call(client, "it-a", "POST", "/api/v1/devices/kiosk-office-a/revoke").json()["status"] == "revoked"


def test_only_a_state_admin_moves_a_site_to_another_district(sqlite_engine, tmp_path):
    from central_server.org.employees import set_site_details, site_district

    with sqlite_engine.begin() as conn:
        create_site(conn, "office-s", "office-s", "office", actor="t")
        set_site_details(conn, "office-s", {"district": "Sehore", "curfew": None}, actor="t")
        head = create_token(conn, Role.OFFICE_HEAD, "head of office-s", site_id="office-s")
        admin = create_token(conn, Role.STATE_ADMIN, "state admin")
    config = ServerConfig(database_url="sqlite:///unused.db")
    with TestClient(create_app(config, engine=sqlite_engine, start_ingest=False)) as c:
        def put(token, body):
            return c.put("/api/v1/sites/office-s/details", json=body, headers={"Authorization": f"Bearer {token}"})

        for district in ("Bhopal", None):  # moved, or cleared: either takes it from its district officer
            refused = put(head, {"district": district, "curfew": "21:00"})
            assert refused.status_code == 403 and "district" in refused.json()["detail"]
        assert put(head, {"district": " sehore", "curfew": "21:00"}).status_code == 200  # the same district
        assert put(head, {"curfew": "20:00"}).status_code == 200  # district left out: kept
        assert put(admin, {"district": "Bhopal"}).status_code == 200
    with sqlite_engine.begin() as conn:
        assert site_district(conn, "office-s") == "Bhopal"
