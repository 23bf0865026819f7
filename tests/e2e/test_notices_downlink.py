"""Notices end to end: an officer's notice -> signed `notices` downlink on Mosquitto -> each reached kiosk's sync
agent -> notices.json -> the kiosk screen, as text. Only the sites a notice reaches get it; a broker that is down
costs only a republish."""

import json
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.config import ServerConfig
from central_server.db.engine import make_engine
from central_server.db.migrate import migrate
from central_server.devices.registry import register_device
from central_server.org.employees import set_site_details
from central_server.org.sites import create_site
from kiosk.screen import NOTICES_FILE, SCRIPT, screen_state, serve_screen
from kiosk.store import open_store
from provisioning.identity import create_identity, install_server_key
from sync_agent.agent import SyncAgent
from sync_agent.config import SyncConfig

pytestmark = pytest.mark.slow

# kiosk -> (site, district): two sites in Khurda, one in Cuttack.
KIOSKS = {"kiosk-01": ("office-1", "Khurda"), "kiosk-02": ("office-2", "Khurda"), "kiosk-03": ("office-3", "Cuttack")}
SCRIPTY = "<script>alert('owned')</script> Water supply off 10:00-12:00 & lifts closed"


def wait_until(check, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    """A port nothing listens on (bound, then released): a broker that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class State:
    """A central server API (no ingest needed) and three provisioned kiosks, each with its own sync agent."""

    def __init__(self, tmp: Path, broker, accounts) -> None:
        self.tmp, self.broker, self.accounts = tmp, broker, accounts
        self.url = f"sqlite:///{tmp / 'central.db'}"
        self.engine = make_engine(self.url)
        migrate(self.engine)
        with self.engine.begin() as conn:
            for site, district in sorted(set(KIOSKS.values())):
                create_site(conn, site, site, "office", actor="t")
                set_site_details(conn, site, {"district": district}, actor="t")
            self.identities = {}
            for device_id, (site, _) in KIOSKS.items():
                self.identities[device_id] = create_identity(tmp / device_id / "device", device_id, site)
                register_device(conn, device_id, site, self.identities[device_id].public_key_b64, actor="t")
            self.tokens = {"admin": create_token(conn, Role.STATE_ADMIN, "admin"),
                           "do-khurda": create_token(conn, Role.DISTRICT_OFFICER, "do khurda", district="khurda"),
                           "head-3": create_token(conn, Role.OFFICE_HEAD, "head 3", "office-3")}
        self.clients: list[TestClient] = []
        self.client = self.server(broker.port)
        key = self.api("GET", "/api/v1/downlink/server-key")
        for device_id in KIOSKS:
            install_server_key(tmp / device_id / "device", key["public_key"])  # as `hajiri provision` does
        self.agents: dict[str, SyncAgent] = {}

    def server(self, mqtt_port: int) -> TestClient:
        config = ServerConfig(database_url=self.url, timezone="UTC",
                              downlink_key_file=self.tmp / "server" / "signing.pem",
                              mqtt={"host": self.broker.host, "port": mqtt_port,
                                    "password": self.accounts.server_password})
        client = TestClient(create_app(config, engine=self.engine, start_ingest=False))
        client.__enter__()
        self.clients.append(client)
        return client

    def api(self, method: str, path: str, body: dict | None = None, who: str = "admin",
            client: TestClient | None = None) -> dict:
        r = (client or self.client).request(method, path, json=body,
                                            headers={"Authorization": f"Bearer {self.tokens[who]}"})
        assert r.status_code == (201 if method == "POST" and "republish" not in path else 200), r.text
        return r.json()

    def start_agents(self) -> None:
        for device_id in KIOSKS:
            home = self.tmp / device_id
            config = SyncConfig.model_validate({
                "device_dir": home / "device", "store": home / "kiosk.db", "poll_interval_s": 0.05,
                "mqtt": {"host": self.broker.host, "port": self.broker.port,
                         "password": self.accounts.devices[device_id], "reconnect_min_s": 0.1,
                         "reconnect_max_s": 0.5},
                "downlink": {"state_dir": home / "downlink", "gallery_path": home / "gallery.hjg"}})
            self.agents[device_id] = SyncAgent(config)
            self.agents[device_id].start()

    def notices_path(self, device_id: str) -> Path:
        return self.tmp / device_id / "downlink" / NOTICES_FILE

    def titles(self, device_id: str) -> list[str]:
        path = self.notices_path(device_id)
        return [n["title"] for n in json.loads(path.read_text())["notices"]] if path.exists() else []

    def close(self) -> None:
        for agent in self.agents.values():
            agent.stop()
        for client in self.clients:
            client.__exit__(None, None, None)
        self.engine.dispose()


@pytest.fixture
def state(tmp_path, broker, broker_accounts):
    s = State(tmp_path, broker, broker_accounts)
    yield s
    s.close()


def notice(audience: str, title: str, body: str = "See the notice board.", **target) -> dict:
    return {"audience": audience, "title": title, "body": body, **target}


def test_a_site_notice_reaches_only_that_sites_kiosk_and_its_screen_shows_it_as_text(state):
    state.start_agents()
    sent = state.api("POST", "/api/v1/notices", notice("site", "Water <b>cut</b>", SCRIPTY, site_id="office-1"))
    assert sent["kiosks"] == {"devices": 1, "published": True, "error": None}
    wait_until(lambda: state.titles("kiosk-01") == ["Water <b>cut</b>"], "kiosk-01's notices.json")
    doc = json.loads(state.notices_path("kiosk-01").read_text())
    assert doc["version"] == sent["id"] and doc["notices"][0]["text"] == SCRIPTY
    # A later notice for the Cuttack office reaches kiosk-03; by then kiosk-02 has still heard nothing.
    state.api("POST", "/api/v1/notices", notice("site", "Cuttack only", site_id="office-3"), who="head-3")
    wait_until(lambda: state.titles("kiosk-03") == ["Cuttack only"], "kiosk-03's notices.json")
    time.sleep(0.3)
    assert not state.notices_path("kiosk-02").exists() and state.titles("kiosk-01") == ["Water <b>cut</b>"]
    assert state.agents["kiosk-01"].downlink.stats.applied == 1

    # The screen, in its own process, reads the file: the notice travels as data and is put in as text.
    store = state.tmp / "kiosk-01" / "kiosk.db"
    shown = screen_state(open_store(store), {}, notices_path=state.notices_path("kiosk-01"))["notices"]
    assert [(n["title"], n["text"]) for n in shown] == [("Water <b>cut</b>", SCRIPTY)]
    server = serve_screen(store, {}, port=0, notices_path=state.notices_path("kiosk-01"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        page = urllib.request.urlopen(base + "/", timeout=5).read().decode()
        over_http = json.loads(urllib.request.urlopen(base + "/state.json", timeout=5).read())
    finally:
        server.shutdown()
        server.server_close()
    assert "alert" not in page and "Water" not in page  # never rendered into the HTML by the server
    assert over_http["notices"][0]["text"] == SCRIPTY
    assert "innerHTML" not in SCRIPT and "n.text" in SCRIPT.split("textContent = ", 2)[2]


def test_a_district_notice_reaches_the_kiosks_of_every_site_in_that_district(state):
    state.start_agents()
    state.api("POST", "/api/v1/notices", notice("site", "Office 1 first", site_id="office-1"))
    wait_until(lambda: state.titles("kiosk-01") == ["Office 1 first"], "the site notice at kiosk-01")
    sent = state.api("POST", "/api/v1/notices", notice("district", "Khurda review", district="KHURDA "),
                     who="do-khurda")
    assert sent["kiosks"] == {"devices": 2, "published": True, "error": None}
    wait_until(lambda: state.titles("kiosk-01") == ["Khurda review", "Office 1 first"]
               and state.titles("kiosk-02") == ["Khurda review"], "the district notice at kiosks 01 and 02")
    time.sleep(0.3)
    assert not state.notices_path("kiosk-03").exists()
    everyone = state.api("POST", "/api/v1/notices", notice("all", "State holiday"))
    assert everyone["kiosks"]["devices"] == 3
    wait_until(lambda: all(state.titles(d)[:1] == ["State holiday"] for d in KIOSKS), "the notice to all")
    assert state.titles("kiosk-03") == ["State holiday"]


def test_a_broker_that_is_down_leaves_the_notice_for_the_republish(state):
    state.start_agents()
    offline = state.server(free_port())  # the same server and DB, its broker unreachable
    r = offline.request("POST", "/api/v1/notices", json=notice("site", "Sent while down", site_id="office-1"),
                        headers={"Authorization": f"Bearer {state.tokens['admin']}"})
    assert r.status_code == 201, r.text
    assert r.json()["kiosks"]["published"] is False and "broker" in r.json()["kiosks"]["error"]
    time.sleep(0.5)
    assert not state.notices_path("kiosk-01").exists()
    view = state.api("GET", "/api/v1/downlink/devices/kiosk-01")
    assert view["issued"]["notices"]["version"] == r.json()["id"]

    report = state.api("POST", "/api/v1/downlink/devices/kiosk-01/republish")
    assert {"device_id": "kiosk-01", "kind": "notices", "version": r.json()["id"], "published": True} \
        in report["items"]
    wait_until(lambda: state.titles("kiosk-01") == ["Sent while down"], "the republished notices")
    # Derived and signed deterministically: the same notices again are the same bytes, a repeat, not a refusal.
    state.api("POST", "/api/v1/downlink/devices/kiosk-01/republish")
    stats = state.agents["kiosk-01"].downlink.stats
    wait_until(lambda: stats.repeats >= 1, "the second republish seen as a repeat")
    assert (stats.applied, stats.refused) == (1, 0)
