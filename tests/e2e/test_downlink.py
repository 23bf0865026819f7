"""Downlink end to end: central API -> signed, sealed, retained on Mosquitto -> sync agent -> gallery file ->
the running kiosk's GalleryHolder; a week offline; a forgery from the server's own broker account."""

import base64
import json
import queue
import threading
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.config import ServerConfig
from central_server.db.engine import make_engine
from central_server.db.migrate import migrate
from central_server.db.schema import downlink_versions
from central_server.devices.registry import register_device
from central_server.downlink.publish import publish_retained
from edge_models.opencv_runtime import EMBEDDING_DIM, Detector, Embedder
from hajiri_wire import DeviceKey, topics
from hajiri_wire.downlink import encode_envelope, sign_envelope, template_b64
from kiosk.config import KioskConfig
from kiosk.gallery import Gallery, GalleryHolder
from kiosk.runner import run_kiosk
from provisioning.identity import create_identity, install_server_key
from sync_agent.agent import SyncAgent
from sync_agent.config import SyncConfig

pytestmark = pytest.mark.slow


def wait_until(check, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def people(n: int, seed: int) -> tuple[list[dict], np.ndarray]:
    t = np.random.default_rng(seed).normal(size=(n, EMBEDDING_DIM)).astype(np.float32)
    return [{"person_id": f"emp-{seed}-{i}", "name": f"Person {i}", "templates": [template_b64(t[i])]}
            for i in range(n)], t


def retained(broker, user: str, password: str, topic: str) -> bytes:
    """The retained message on `topic`, read with `user`'s own broker account."""
    got: queue.Queue = queue.Queue()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{user}-reader", protocol=mqtt.MQTTv5)
    c.username_pw_set(user, password)
    c.on_message = lambda cl, u, msg: got.put(bytes(msg.payload))
    c.connect(broker.host, broker.port)
    c.loop_start()
    try:
        c.subscribe(topic, qos=1)
        return got.get(timeout=5)
    finally:
        c.disconnect()
        c.loop_stop()


class Site:
    """A central server (API + ingest), kiosk-01 provisioned with the server key, its sync agent and kiosk loop."""

    def __init__(self, tmp: Path, broker, accounts) -> None:
        self.tmp, self.broker, self.accounts = tmp, broker, accounts
        url = f"sqlite:///{tmp / 'central.db'}"
        self.engine = make_engine(url)
        migrate(self.engine)
        self.identity = create_identity(tmp / "device", "kiosk-01", "office-1")
        with self.engine.begin() as conn:
            register_device(conn, "kiosk-01", "office-1", self.identity.public_key_b64, actor="test",
                            create_missing_site=True, enc_public_key=self.identity.enc_public_key_b64)
            self.token = create_token(conn, Role.IT_STAFF, "it desk")
        config = ServerConfig(database_url=url, timezone="UTC", downlink_key_file=tmp / "server" / "signing.pem",
                              mqtt={"host": broker.host, "port": broker.port,
                                    "password": accounts.server_password})
        self.client = TestClient(create_app(config, engine=self.engine))
        self.client.__enter__()
        assert self.client.app.state.ingest_worker.wait_subscribed(10)
        key = self.api("GET", "/api/v1/downlink/server-key")
        install_server_key(tmp / "device", key["public_key"])  # as `hajiri provision --server-key` does
        self.gallery_path = tmp / "kiosk" / "gallery.hjg"
        self.agent: SyncAgent | None = None
        self.holder = GalleryHolder(Gallery())
        self.stop = threading.Event()
        self.kiosk: threading.Thread | None = None

    def api(self, method: str, path: str, body: dict | None = None, status: int | None = None) -> dict:
        r = self.client.request(method, path, json=body, headers={"Authorization": f"Bearer {self.token}"})
        assert r.status_code == (status or (201 if method == "POST" else 200)), r.text
        return r.json()

    def start_agent(self) -> SyncAgent:
        config = SyncConfig.model_validate({
            "device_dir": self.tmp / "device", "store": self.tmp / "kiosk.db", "poll_interval_s": 0.05,
            "mqtt": {"host": self.broker.host, "port": self.broker.port,
                     "password": self.accounts.devices["kiosk-01"], "reconnect_min_s": 0.1, "reconnect_max_s": 0.5},
            "downlink": {"state_dir": self.tmp / "kiosk" / "downlink", "gallery_path": self.gallery_path}})
        self.agent = SyncAgent(config)
        self.agent.start()
        return self.agent

    def start_kiosk(self) -> None:
        config = KioskConfig(device_dir=self.tmp / "device", store_path=self.tmp / "kiosk.db",
                             gallery_path=self.gallery_path, gallery_reload_s=0.1)

        def frames():
            blank = np.full((480, 640, 3), 90, np.uint8)
            i = 0
            while not self.stop.is_set():
                yield i, blank, i / 10
                i += 1
                time.sleep(0.02)

        self.kiosk = threading.Thread(target=run_kiosk, args=(config, frames(), self.stop), daemon=True, kwargs={
            "identity": self.identity, "gallery": self.holder, "detector": Detector(), "embedder": Embedder()})
        self.kiosk.start()

    def reported(self, kind: str) -> dict:
        return self.api("GET", "/api/v1/downlink/devices/kiosk-01")["reported"].get(kind, {})

    def close(self) -> None:
        self.stop.set()
        if self.kiosk is not None:
            self.kiosk.join(10)
        if self.agent is not None:
            self.agent.stop()
        self.client.__exit__(None, None, None)
        self.engine.dispose()


@pytest.fixture
def site(tmp_path, broker, broker_accounts):
    s = Site(tmp_path, broker, broker_accounts)
    yield s
    s.close()


def test_gallery_published_centrally_reaches_the_running_kiosk_encrypted_on_the_wire(site, broker, broker_accounts):
    site.start_agent()
    site.start_kiosk()
    body, templates = people(4, seed=1)
    report = site.api("POST", "/api/v1/downlink/gallery", {"device_ids": ["kiosk-01"], "people": body})
    assert report == {"items": [{"device_id": "kiosk-01", "kind": "gallery", "version": 1, "published": True}],
                      "error": None}
    wait_until(lambda: site.holder.people == [p["person_id"] for p in body], "the kiosk to swap in gallery v1")
    assert site.holder.names["emp-1-2"] == "Person 2" and site.holder.swaps == 1
    wait_until(lambda: site.reported("gallery").get("applied_version") == 1, "the server to hear it was applied")

    wire = retained(broker, "kiosk-01", broker_accounts.devices["kiosk-01"], topics.downlink("gallery", "kiosk-01"))
    for row in templates:
        raw = row.astype("<f4").tobytes()
        assert raw not in wire and raw[:16] not in wire and base64.b64encode(raw) not in wire
    assert b"emp-1-0" not in wire and b"Person" not in wire
    with site.engine.connect() as conn:
        stored = conn.execute(sa.select(downlink_versions.c.envelope)).scalar_one()
    assert stored.encode() == wire and base64.b64encode(templates[0].astype("<f4").tobytes()) not in wire


def test_a_kiosk_offline_for_a_week_catches_up_to_the_latest_only(site):
    agent = site.start_agent()
    site.start_kiosk()
    v1, _ = people(2, seed=1)
    site.api("POST", "/api/v1/downlink/gallery", {"device_ids": ["kiosk-01"], "people": v1})
    wait_until(lambda: len(site.holder.people) == 2, "gallery v1 in the kiosk")
    agent.stop()  # offline: the sync agent (and its network) is gone; the kiosk keeps running on v1

    v3 = None
    for n, seed in ((3, 2), (5, 3)):  # v2 and v3 while it is away
        v3, _ = people(n, seed)
        site.api("POST", "/api/v1/downlink/gallery", {"site_id": "office-1", "people": v3})
    site.api("POST", "/api/v1/downlink/config", {"device_ids": ["kiosk-01"], "config": {
        "match_threshold": 0.5, "shifts": [{"name": "general", "start": "10:00", "end": "17:30"}]}})
    time.sleep(0.5)
    assert len(site.holder.people) == 2, "nothing reaches an offline kiosk"

    back = site.start_agent()
    wait_until(lambda: site.holder.people == [p["person_id"] for p in v3], "gallery v3 in the kiosk")
    wait_until(lambda: site.reported("gallery").get("applied_version") == 3
               and site.reported("config").get("applied_version") == 1, "the server to hear v3 and config v1")
    time.sleep(0.5)
    assert (back.downlink.stats.applied, back.downlink.stats.refused) == (2, 0), "v2 travelled too"
    site_config = json.loads((site.tmp / "kiosk" / "downlink" / "site_config.json").read_text())
    assert site_config["kiosk_overrides"] == {"match_threshold": 0.5}
    view = site.api("GET", "/api/v1/downlink/devices/kiosk-01")
    assert view["issued"]["gallery"]["version"] == 3 and view["issued"]["gallery"]["published_at"]


def test_a_forgery_from_the_servers_broker_account_is_refused_reported_and_undone(site, broker, broker_accounts):
    site.start_agent()
    site.start_kiosk()
    good, _ = people(3, seed=1)
    site.api("POST", "/api/v1/downlink/gallery", {"device_ids": ["kiosk-01"], "people": good})
    wait_until(lambda: len(site.holder.people) == 3, "gallery v1 in the kiosk")
    wait_until(lambda: site.reported("gallery").get("applied_version") == 1, "v1 reported")

    attacker = DeviceKey.generate()  # has the server's broker password, not its signing key
    forged = json.loads(encode_envelope(sign_envelope("gallery", "kiosk-01", 50, {
        "epk": "AAAA", "nonce": "AAAA", "ct": "AAAA"}, attacker)))
    with site.engine.connect() as conn:
        legit = conn.execute(sa.select(downlink_versions.c.envelope)).scalar_one()
    forged["key_id"] = json.loads(legit)["key_id"]
    topic = topics.downlink("gallery", "kiosk-01")
    publish_retained(site.client.app.state.config.mqtt, [(topic, json.dumps(forged).encode())])

    wait_until(lambda: site.reported("gallery").get("refused_reason") == "bad_signature", "the refusal reported")
    row = site.reported("gallery")
    assert row["refused_version"] == 50 and row["refused_count"] == 1 and row["applied_version"] == 1
    assert len(site.holder.people) == 3 and site.holder.swaps == 1, "the kiosk changed its gallery"
    # The server put its own latest back as the retained message, so a kiosk connecting later gets the real one.
    wait_until(lambda: retained(broker, "kiosk-01", broker_accounts.devices["kiosk-01"], topic) == legit.encode(),
               "the legitimate retained gallery restored")
    assert site.agent.downlink.stats.refused == 1


def test_publishing_rules(site):
    body, _ = people(1, seed=1)
    bad = {"device_ids": ["kiosk-01"], "config": {"match_threshold": 0.3, "match_margin": 0.4}}
    detail = site.api("POST", "/api/v1/downlink/config", bad, status=422)["detail"]
    assert "match_margin" in detail
    assert "kiosk-99" in site.api("POST", "/api/v1/downlink/gallery", {"device_ids": ["kiosk-99"], "people": body},
                                  status=404)["detail"]
    short = {"person_id": "emp-x", "name": "X", "templates": [template_b64(np.ones(8, np.float32))]}
    assert "emp-x" in site.api("POST", "/api/v1/downlink/gallery", {"device_ids": ["kiosk-01"], "people": [short]},
                               status=422)["detail"]
    assert site.api("POST", "/api/v1/downlink/commands", {"site_id": "office-1", "command": {"command": "reload"}}
                    )["items"][0]["version"] == 1
    r = site.client.post("/api/v1/downlink/commands", json={"site_id": "office-1", "command": {"command": "reload"}})
    assert r.status_code == 401
    with site.engine.begin() as conn:
        head = create_token(conn, Role.OFFICE_HEAD, "head", "office-1")
    r = site.client.get("/api/v1/downlink/server-key", headers={"Authorization": f"Bearer {head}"})
    assert r.status_code == 403
    assert oct((site.tmp / "server" / "signing.pem").stat().st_mode & 0o777) == "0o600"
