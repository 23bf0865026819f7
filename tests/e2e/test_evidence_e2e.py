"""Spoof evidence end to end through a real Mosquitto: a printed photo held up to the kiosk becomes a SPOOF record
and an encrypted crop; the sync agent sends both; the admin review list shows it (not to other sites), the image
view and the verdict are audited; forged evidence is refused and counted; a kiosk with liveness off shows it."""

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
from central_server.db.schema import audit_log, evidence
from central_server.devices.registry import register_device
from central_server.evidence.ingest import server_evidence_key
from central_server.org.sites import create_site
from edge_models.opencv_runtime import Detector, Embedder, read_image
from hajiri_common.timefmt import utc_iso
from hajiri_demo.walkpast import make_background
from hajiri_wire import DeviceKey, topics
from hajiri_wire.evidence import encode_evidence, seal_evidence
from hajiri_wire.ids import uuid7
from kiosk.config import load_kiosk_config
from kiosk.evidence import evidence_dir
from kiosk.gallery import Gallery
from kiosk.runner import run_kiosk
from kiosk.store import all_records, open_store
from model_lab.liveness import attacks
from provisioning.identity import create_identity
from sync_agent.agent import SyncAgent
from sync_agent.config import SyncConfig

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]
T0 = time.time()


def wait_until(check, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def print_attack_walkpast(shared_data: Path) -> list:
    """An empty hall, then someone holds up a printed photo of a colleague and moves it, then the hall again."""
    face = read_image(sorted((shared_data / "faces" / "lfw_dev").glob("*/*.jpg"))[1::97][0])
    hall = make_background((640, 480), np.random.default_rng(3))
    frames = [hall] * 3 + attacks.attack_track(face, "print", 8, seed=5) + [hall] * 8
    return [(i, f, T0 + i / 10) for i, f in enumerate(frames)]


def kiosk_toml(folder: Path, liveness: bool, server_key: str | None) -> Path:
    lines = [f'device_dir = "{folder / "device"}"', f'store_path = "{folder / "records.db"}"',
             f'gallery_path = "{folder / "gallery.hjg"}"', 'source = "folder:/nonexistent"',
             "[liveness]", f"enabled = {'true' if liveness else 'false'}", "[evidence]"]
    if server_key:
        lines.append(f'server_public_key = "{server_key}"')
    path = folder / "kiosk.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def start_agent(folder: Path, identity, broker, password: str, kiosk_config: Path) -> SyncAgent:
    agent = SyncAgent(SyncConfig(device_dir=folder / "device", store=folder / "records.db",
                                 mqtt={"host": broker.host, "port": broker.port, "password": password,
                                       "reconnect_min_s": 0.2, "reconnect_max_s": 1.0},
                                 poll_interval_s=0.05, heartbeat_interval_s=0.3, ack_timeout_s=5,
                                 kiosk_config=kiosk_config), identity)
    agent.start()
    return agent


@pytest.fixture
def server(tmp_path: Path, broker, broker_accounts):
    url = f"sqlite:///{tmp_path / 'central' / 'central.db'}"
    engine = make_engine(url)
    config = ServerConfig(database_url=url, timezone="UTC",
                          mqtt={"host": broker.host, "port": broker.port,
                                "password": broker_accounts.server_password, "reconnect_min_s": 1,
                                "reconnect_max_s": 2})
    client = TestClient(create_app(config, engine=engine))
    client.__enter__()
    try:
        assert client.app.state.ingest_worker.wait_subscribed(5)
        tokens = {}
        with engine.begin() as conn:
            create_site(conn, "office-1", "Office One", "office", actor="test")
            create_site(conn, "office-2", "Office Two", "office", actor="test")
            tokens["admin"] = create_token(conn, Role.STATE_ADMIN, "state admin")
            tokens["head2"] = create_token(conn, Role.OFFICE_HEAD, "head of office-2", "office-2")
            tokens["warden2"] = create_token(conn, Role.WARDEN, "warden of office-2", "office-2")
        yield client, engine, config, tokens
    finally:
        client.__exit__(None, None, None)
        engine.dispose()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_print_attack_evidence_reaches_the_review_list(tmp_path, server, broker, broker_accounts,
                                                       shared_data) -> None:
    client, engine, config, tokens = server
    folder = tmp_path / "kiosk-01"
    identity = create_identity(folder / "device", "kiosk-01", "office-1")
    with engine.begin() as conn:
        register_device(conn, "kiosk-01", "office-1", identity.public_key_b64, actor="test")
    kiosk_cfg = kiosk_toml(folder, True, server_evidence_key(config).public_b64)

    config_k = load_kiosk_config(kiosk_cfg)
    db = open_store(config_k.store_path)
    try:
        run_kiosk(config_k, print_attack_walkpast(shared_data), identity=identity, gallery=Gallery(),
                  detector=Detector(), embedder=Embedder(), db=db)
        (spoof,) = all_records(db)
    finally:
        db.close()
    assert spoof.event == "SPOOF"
    crops = list(evidence_dir(config_k).glob("*.hje"))
    assert [p.stem for p in crops] == [spoof.record_id] and b"\xff\xd8\xff" not in crops[0].read_bytes()

    agent = start_agent(folder, identity, broker, broker_accounts.devices["kiosk-01"], kiosk_cfg)
    try:
        wait_until(lambda: not list(evidence_dir(config_k).glob("*.hje")), what="the crop to be acked and deleted")
        assert agent.stats().records_acked == 1
    finally:
        agent.stop()
    listed = client.get("/api/v1/evidence", headers=bearer(tokens["admin"])).json()
    assert [(e["record_id"], e["event"], e["linked"], e["review_status"]) for e in listed] == [
        (spoof.record_id, "SPOOF", True, "pending")]
    assert client.get("/api/v1/evidence", headers=bearer(tokens["head2"])).json() == []
    assert client.get("/api/v1/evidence", headers=bearer(tokens["warden2"])).status_code == 403
    assert client.get(listed[0]["image_url"], headers=bearer(tokens["warden2"])).status_code == 403
    image = client.get(listed[0]["image_url"], headers=bearer(tokens["admin"]))
    assert image.status_code == 200 and image.content.startswith(b"\xff\xd8\xff")
    verdict = client.post(f"/api/v1/evidence/{spoof.record_id}/review",
                          json={"status": "confirmed_spoof", "note": "printed photo"}, headers=bearer(tokens["admin"]))
    assert verdict.json()["review_status"] == "confirmed_spoof"
    with engine.connect() as conn:
        actions = [tuple(r) for r in conn.execute(sa.select(audit_log.c.action, audit_log.c.target)
                                                  .where(audit_log.c.action.like("evidence.%")))]
    assert actions == [("evidence.view", spoof.record_id), ("evidence.review", spoof.record_id)]

    # Forged: kiosk-01's broker account, but not its device key. Refused, counted, never stored.
    forger = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="kiosk-01-forger", protocol=mqtt.MQTTv5)
    forger.username_pw_set("kiosk-01", broker_accounts.devices["kiosk-01"])
    forger.connect(broker.host, broker.port)
    forger.loop_start()
    try:
        forged = seal_evidence(b"\xff\xd8\xff\xe0 fake", device_id="kiosk-01", record_id=uuid7(),
                               taken_at=utc_iso(time.time()), device_key=DeviceKey.generate(),
                               server_public=server_evidence_key(config).public)
        forger.publish(topics.evidence("kiosk-01"), encode_evidence(forged), qos=1).wait_for_publish(5)
        stats = lambda: client.get("/api/v1/ingest/stats", headers=bearer(tokens["admin"])).json()  # noqa: E731
        wait_until(lambda: stats()["rejected_total_by_reason"].get("bad_signature") == 1, what="the refusal")
        assert stats()["since_start"]["rejected"] == {"bad_signature": 1}
    finally:
        forger.disconnect()
        forger.loop_stop()
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(evidence)).scalar_one() == 1


def test_a_kiosk_with_liveness_off_shows_in_devices_and_the_audit_log(tmp_path, server, broker,
                                                                       broker_accounts) -> None:
    client, engine, _, tokens = server
    folder = tmp_path / "kiosk-02"
    identity = create_identity(folder / "device", "kiosk-02", "office-1")
    with engine.begin() as conn:
        register_device(conn, "kiosk-02", "office-1", identity.public_key_b64, actor="test")
    open_store(folder / "records.db").close()
    agent = start_agent(folder, identity, broker, broker_accounts.devices["kiosk-02"],
                        kiosk_toml(folder, False, None))
    try:
        devices = lambda: client.get("/api/v1/devices", headers=bearer(tokens["admin"])).json()  # noqa: E731
        wait_until(lambda: devices()[0]["liveness_enabled"] is False, what="a heartbeat with liveness off")
    finally:
        agent.stop()
    (dev,) = devices()
    assert dev["device_id"] == "kiosk-02" and dev["evidence_uplink"] is False and dev["evidence_pending"] == 0
    with engine.connect() as conn:
        audits = conn.execute(sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.target)
                              .where(audit_log.c.action.like("liveness.%"))).all()
    assert [tuple(a) for a in audits] == [("device:kiosk-02", "liveness.disable", "kiosk-02")]  # once, not per beat
    events = client.get("/api/v1/evidence/liveness-events", headers=bearer(tokens["admin"])).json()
    assert [(e["device_id"], e["site_id"], e["enabled"]) for e in events] == [("kiosk-02", "office-1", False)]
