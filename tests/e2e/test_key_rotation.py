"""Key rotation end to end (real Mosquitto; SQLite and PostgreSQL): POST rotate_key -> sync agent -> server ->
signed answer -> key swapped on disk -> the kiosk writer signs with the new key; the old key's backlog, delivered
after the switch, is still stored; the sync agent killed between request and answer; a forged request."""

import base64
import json
import queue
import threading
import time
import uuid
from pathlib import Path

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
from central_server.db.schema import device_keys, devices, records, rejections
from central_server.devices.registry import register_device
from hajiri_wire import DeviceKey, load_public_key, topics
from hajiri_wire.errors import BadSignature
from hajiri_wire.key_rotation import decode_answer, encode_rotation, sign_rotation
from hajiri_wire.signing import verify_signature
from kiosk.identity_watch import IdentityWatch
from kiosk.store import Observation, append_record, open_store
from provisioning.identity import PENDING_KEY_FILE, create_identity, install_server_key, load_identity
from sync_agent.agent import SyncAgent
from sync_agent.config import SyncConfig
from sync_agent.key_rotation import REQUEST_FILE
from tests.builders import pg_database

pytestmark = pytest.mark.slow



def wait_until(check, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.db'}"
        return
    with pg_database("hajiri_rot") as url:
        yield url


class Writer:
    """The kiosk writer as run_kiosk does it: between decisions, IdentityWatch; each decision a signed record."""

    def __init__(self, device_dir: Path, store: Path) -> None:
        self.watch = IdentityWatch(device_dir, load_identity(device_dir), interval_s=0.05)
        self.store = store
        self.signed_by: dict[str, str] = {}  # record_id -> public key it was signed with
        self.stop = threading.Event()
        self.pause = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        db = open_store(self.store)
        try:
            while not self.stop.is_set():
                if not self.pause.is_set():
                    self.write_one(db)
                time.sleep(0.02)
        finally:
            db.close()

    def write_one(self, db) -> None:
        identity = self.watch.poll()
        obs = Observation(person_id="emp-1", event="IN", wall_time=time.time(), boot_id="boot-a",
                          mono_ns=time.monotonic_ns(), clock_synced=True, match_score=0.8, liveness_score=0.9,
                          model_version="sface-2021dec")
        rec = append_record(db, identity, obs)
        self.signed_by[rec.record_id] = identity.public_key_b64

    def count_by(self, key: str) -> int:
        return sum(1 for k in list(self.signed_by.values()) if k == key)


class Site:
    """Server (API + ingest) on `url`, kiosk-01 provisioned with the server key, its sync agent and writer."""

    def __init__(self, tmp: Path, url: str, broker, accounts) -> None:
        self.tmp, self.broker, self.accounts = tmp, broker, accounts
        self.engine = make_engine(url)
        migrate(self.engine)
        self.device_dir = tmp / "device"
        self.identity = create_identity(self.device_dir, "kiosk-01", "office-1")
        with self.engine.begin() as conn:
            register_device(conn, "kiosk-01", "office-1", self.identity.public_key_b64, actor="test",
                            create_missing_site=True, enc_public_key=self.identity.enc_public_key_b64)
            self.token = create_token(conn, Role.STATE_ADMIN, "admin")
        config = ServerConfig(database_url=url, timezone="UTC", downlink_key_file=tmp / "server" / "signing.pem",
                              mqtt={"host": broker.host, "port": broker.port, "password": accounts.server_password,
                                    "client_id": f"ingest-{uuid.uuid4().hex[:8]}"})
        self.client = TestClient(create_app(config, engine=self.engine))
        self.client.__enter__()
        self.worker = self.client.app.state.ingest_worker
        assert self.worker.wait_subscribed(10)
        key = self.api("GET", "/api/v1/downlink/server-key")
        install_server_key(self.device_dir, key["public_key"])
        self.agent: SyncAgent | None = None
        open_store(tmp / "kiosk.db").close()  # created once: the writer and the agent open it concurrently
        self.writer = Writer(self.device_dir, tmp / "kiosk.db")

    def api(self, method: str, path: str, body: dict | None = None, status: int | None = None) -> dict:
        r = self.client.request(method, path, json=body, headers={"Authorization": f"Bearer {self.token}"})
        assert r.status_code == (status or (201 if method == "POST" else 200)), r.text
        return r.json()

    def start_agent(self) -> SyncAgent:
        config = SyncConfig.model_validate({
            "device_dir": self.device_dir, "store": self.tmp / "kiosk.db", "poll_interval_s": 0.05,
            "ack_timeout_s": 2.0, "batch_size": 20,
            "mqtt": {"host": self.broker.host, "port": self.broker.port,
                     "password": self.accounts.devices["kiosk-01"], "reconnect_min_s": 0.1, "reconnect_max_s": 0.5},
            "downlink": {"state_dir": self.tmp / "kiosk" / "downlink", "gallery_path": self.tmp / "gallery.hjg"}})
        self.agent = SyncAgent(config)
        self.agent.start()
        return self.agent

    def stop_agent(self) -> None:
        if self.agent is not None:
            self.agent.stop()
            self.agent = None

    def registered_key(self) -> str:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(devices.c.public_key).where(devices.c.device_id == "kiosk-01")).scalar_one()

    def stored(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {r.record_id: r.body for r in conn.execute(sa.select(records.c.record_id, records.c.body))}

    def rejections(self) -> list:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(rejections.c.reason, rejections.c.detail)).all()

    def close(self) -> None:
        self.writer.stop.set()
        if self.writer.thread.is_alive():
            self.writer.thread.join(10)
        self.stop_agent()
        self.client.__exit__(None, None, None)
        self.engine.dispose()


@pytest.fixture
def site(tmp_path, database_url, broker, broker_accounts):
    s = Site(tmp_path, database_url, broker, broker_accounts)
    yield s
    s.close()


def signer_of(body: str, keys: list[str]) -> str:
    """Which of `keys` signed the stored record body (exactly one must)."""
    obj = json.loads(body)
    sig = obj.pop("sig")
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    found = []
    for k in keys:
        try:
            verify_signature(load_public_key(k), data, sig)
            found.append(k)
        except BadSignature:
            pass
    assert len(found) == 1, f"record signed by {len(found)} of the keys"
    return found[0]


def test_rotation_with_a_backlog_and_the_agent_killed_before_the_answer(site):
    old = site.identity.public_key_b64
    site.writer.thread.start()
    site.start_agent()
    wait_until(lambda: len(site.stored()) >= 10, "records flowing with the old key")

    # The server goes away, the admin asks for a rotation; the agent makes the key and publishes the request,
    # which waits at the broker for the server. Then the agent is killed: no answer has come.
    site.worker.stop()
    item = site.api("POST", "/api/v1/downlink/commands", {"device_ids": ["kiosk-01"],
                                                           "command": {"command": "rotate_key"}})["items"][0]
    assert item["published"] is True
    wait_until(lambda: (site.device_dir / REQUEST_FILE).exists(), "the agent to make and request the new key")
    time.sleep(0.3)  # the request's QoS 1 publish reaches the broker
    site.stop_agent()
    new = json.loads((site.device_dir / REQUEST_FILE).read_text())["new_public_key"]
    assert load_identity(site.device_dir).public_key_b64 == old, "the kiosk still loads and signs with its key"
    assert (site.device_dir / PENDING_KEY_FILE).exists()

    # The server comes back, takes the queued request and switches the device's key (the answer waits for the
    # device's session). Meanwhile the kiosk keeps recording with the old key: a backlog delivered after the switch.
    site.worker.start()
    assert site.worker.wait_subscribed(10)
    wait_until(lambda: site.registered_key() == new, "the server to register the new key")
    after_switch = site.writer.count_by(old)
    wait_until(lambda: site.writer.count_by(old) >= after_switch + 10, "old-key records written after the switch")

    # The agent restarts: the answer arrives (or its resent request is answered again), the key is swapped on
    # disk, and the writer signs with the new key from its next poll.
    agent = site.start_agent()
    wait_until(lambda: agent.rotation.swaps == 1, "the agent to swap the key")
    assert load_identity(site.device_dir).public_key_b64 == new
    assert not (site.device_dir / PENDING_KEY_FILE).exists() and not (site.device_dir / REQUEST_FILE).exists()
    wait_until(lambda: site.writer.count_by(new) >= 10, "records signed with the new key")
    site.writer.pause.set()
    time.sleep(0.1)
    written = dict(site.writer.signed_by)
    wait_until(lambda: len(site.stored()) == len(written), f"all {len(written)} records stored", timeout=30)

    stored = site.stored()
    assert set(stored) == set(written)
    assert site.rejections() == [], "no record (and no rotation) was rejected"
    by_key = {k: [r for r, s in written.items() if s == k] for k in (old, new)}
    assert len(by_key[old]) >= after_switch + 10 and len(by_key[new]) >= 10
    for record_id, body in stored.items():
        assert signer_of(body, [old, new]) == written[record_id]
    with site.engine.connect() as conn:
        history = conn.execute(sa.select(device_keys)).all()
        chain = conn.execute(sa.select(sa.func.count()).select_from(records).where(records.c.chain_ok.is_(False))
                             ).scalar_one()
    assert [(h.public_key, h.replaced_by, h.requested_version) for h in history] == [(old, new, item["version"])]
    assert chain == 0, "the hash chain runs across the key change"
    assert agent.stats().records_rejected == 0


def answers(broker, password: str) -> tuple[mqtt.Client, queue.Queue]:
    got: queue.Queue = queue.Queue()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="kiosk-01", protocol=mqtt.MQTTv5)
    c.username_pw_set("kiosk-01", password)
    c.on_message = lambda cl, u, msg: got.put(bytes(msg.payload))
    c.connect(broker.host, broker.port)
    c.loop_start()
    c.subscribe(topics.key_rotation_answer("kiosk-01"), qos=1)
    time.sleep(0.3)
    return c, got


def test_a_forged_rotation_is_refused_and_the_key_kept(site, broker, broker_accounts):
    old = site.registered_key()
    version = site.api("POST", "/api/v1/downlink/commands", {"device_ids": ["kiosk-01"],
                                                              "command": {"command": "rotate_key"}})["items"][0]["version"]
    # Someone with the device's broker password but not its signing key asks for a key of their own.
    attacker, theirs = DeviceKey.generate(), DeviceKey.generate()
    c, got = answers(broker, broker_accounts.devices["kiosk-01"])
    try:
        forged = sign_rotation("kiosk-01", attacker, theirs, version, "2026-11-25T09:00:00.000Z")
        c.publish(topics.key_rotation("kiosk-01"), encode_rotation(forged), qos=1)
        answer = decode_answer(got.get(timeout=10))
    finally:
        c.disconnect()
        c.loop_stop()
    assert (answer.outcome, answer.reason) == ("refused", "bad_signature")
    assert site.registered_key() == old
    assert [r.reason for r in site.rejections()] == ["bad_signature"]
    stats = site.api("GET", "/api/v1/ingest/stats")
    assert stats["since_start"]["rejected"] == {"bad_signature": 1}
    assert stats["rejected_total_by_reason"] == {"bad_signature": 1}
    with site.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(device_keys)).scalar_one() == 0
    assert base64.b64decode(answer.sig), "the answer is signed by the server"
