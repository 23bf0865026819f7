"""The sync agent's downlink against a real mosquitto: verified envelopes applied, everything else refused and reported."""

import json
import queue
import time

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from central_server.config import MqttConfig
from central_server.downlink.publish import PublishError, publish_retained
from edge_models.opencv_runtime import EMBEDDING_DIM, MODEL_VERSION
from hajiri_wire import DeviceKey, topics
from hajiri_wire.downlink import (
    DownlinkStatus,
    GalleryContent,
    GalleryPerson,
    decode_status,
    encode_envelope,
    encode_gallery_content,
    seal,
    seal_aad,
    sign_envelope,
    template_b64,
)
from hajiri_wire.topics import SERVER_USER
from kiosk.gallery import load_gallery
from provisioning.identity import create_identity, install_server_key

pytestmark = pytest.mark.slow


@pytest.fixture
def server_key(device, tmp_path) -> DeviceKey:
    """The server's signing key, its public half installed in kiosk-01's device dir as at provisioning."""
    key = DeviceKey.generate()
    install_server_key(tmp_path / "device", key.public_b64)
    return key


def downlink_settings(tmp_path) -> dict:
    return {"downlink": {"state_dir": str(tmp_path / "downlink"), "gallery_path": str(tmp_path / "gallery.hjg")}}


class StatusListener:
    """The server account's view of the kiosks' downlink reports (it may read every up/ topic)."""

    def __init__(self, broker, password: str) -> None:
        self.got: queue.Queue[DownlinkStatus] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="status-listener", protocol=mqtt.MQTTv5)
        self.client.username_pw_set(SERVER_USER, password)
        subscribed = queue.Queue()
        self.client.on_subscribe = lambda c, u, mid, codes, p: subscribed.put(codes)
        self.client.on_message = lambda c, u, msg: self.got.put(decode_status(msg.payload))
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(topics.DOWNLINK_STATUS_ALL, qos=1)
        assert not subscribed.get(timeout=5)[0].is_failure

    def next(self, timeout: float = 10.0) -> DownlinkStatus:
        return self.got.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def statuses(broker, broker_accounts):
    listener = StatusListener(broker, broker_accounts.server_password)
    yield listener
    listener.close()


def server_mqtt(broker, password: str) -> MqttConfig:
    return MqttConfig(host=broker.host, port=broker.port, password=password)


def gallery_envelope(key: DeviceKey, identity, version: int, people: int, seed: int) -> tuple[bytes, np.ndarray]:
    templates = np.random.default_rng(seed).normal(size=(people, EMBEDDING_DIM)).astype(np.float32)
    content = GalleryContent(model_version=MODEL_VERSION, dim=EMBEDDING_DIM, people=[
        GalleryPerson(person_id=f"emp-{i}", name=f"Person {i}", templates=[template_b64(templates[i])])
        for i in range(people)])
    sealed = seal(encode_gallery_content(content), identity.enc_key.public_key(),
                  seal_aad(identity.device_id, version))
    return encode_envelope(sign_envelope("gallery", identity.device_id, version, sealed.model_dump(), key)), templates


def wait_until(check, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_signed_gallery_is_decrypted_and_written_and_the_kiosk_reports_it(
        tmp_path, broker, broker_accounts, device, server_key, start_agent, statuses):
    agent = start_agent(broker, **downlink_settings(tmp_path))
    payload, templates = gallery_envelope(server_key, device, 1, 4, seed=1)
    publish_retained(server_mqtt(broker, broker_accounts.server_password), [(topics.downlink("gallery", "kiosk-01"),
                                                                            payload)])
    report = statuses.next()
    assert (report.kind, report.version, report.outcome, report.current_version) == ("gallery", 1, "applied", 1)
    gallery = load_gallery(tmp_path / "gallery.hjg")  # encrypted at rest under the kiosk's own key
    assert gallery.people == ["emp-0", "emp-1", "emp-2", "emp-3"] and gallery.names["emp-2"] == "Person 2"
    normed = templates / np.linalg.norm(templates, axis=1, keepdims=True)
    np.testing.assert_allclose(gallery.templates, normed, rtol=1e-6)
    raw = (tmp_path / "gallery.hjg").read_bytes()
    assert templates[0].astype("<f4").tobytes()[:16] not in raw and b"emp-0" not in raw
    state = json.loads((tmp_path / "downlink" / "state.json").read_text())
    assert state["gallery"]["version"] == 1
    assert agent.downlink.stats.applied == 1 and agent.downlink.stats.refused == 0


def test_forged_replayed_and_misaddressed_envelopes_are_refused_reported_and_never_applied(
        tmp_path, broker, broker_accounts, device, server_key, start_agent, statuses):
    agent = start_agent(broker, **downlink_settings(tmp_path))
    server = server_mqtt(broker, broker_accounts.server_password)
    gallery_topic = topics.downlink("gallery", "kiosk-01")
    v1, _ = gallery_envelope(server_key, device, 1, 2, seed=1)
    v2, _ = gallery_envelope(server_key, device, 2, 3, seed=2)
    publish_retained(server, [(gallery_topic, v1)])
    assert statuses.next().outcome == "applied"
    publish_retained(server, [(gallery_topic, v2)])
    assert (statuses.next().version, agent.downlink.applied_version("gallery")) == (2, 2)
    good = (tmp_path / "gallery.hjg").read_bytes()

    # An attacker holding the server's broker account, with a key of their own claiming the server's key id.
    attacker = DeviceKey.generate()
    forged = json.loads(gallery_envelope(attacker, device, 9, 1, seed=3)[0])
    forged["key_id"] = json.loads(v2)["key_id"]
    forged_cfg = json.loads(encode_envelope(sign_envelope("config", "kiosk-01", 1, {"match_threshold": 0.2},
                                                          attacker)))
    other = create_identity(tmp_path / "kiosk-02", "kiosk-02", "office-1")
    for_other, _ = gallery_envelope(server_key, other, 3, 1, seed=4)
    unsigned = json.loads(v2)
    del unsigned["sig"]
    tampered = json.loads(v2)  # the applied version and its signature, with a swapped ciphertext
    tampered["payload"]["ct"] = json.loads(v1)["payload"]["ct"]
    cases = [
        (gallery_topic, json.dumps(forged).encode(), "bad_signature"),
        (gallery_topic, json.dumps(tampered).encode(), "bad_signature"),
        (topics.downlink("config", "kiosk-01"), json.dumps(forged_cfg).encode(), "unknown_key"),
        (gallery_topic, v1, "stale_version"),  # replay / rollback to v1
        (gallery_topic, for_other, "wrong_device"),
        (gallery_topic, json.dumps(unsigned).encode(), "malformed"),
        (gallery_topic, b"{not json", "malformed"),
    ]
    for topic, payload, reason in cases:
        publish_retained(server, [(topic, payload)])
        report = statuses.next()
        assert (report.outcome, report.reason) == ("refused", reason), report
        assert (tmp_path / "gallery.hjg").read_bytes() == good, f"{reason}: the gallery file changed"
    assert agent.downlink.applied_version("gallery") == 2
    assert agent.downlink.applied_version("config") is None
    assert not (tmp_path / "downlink" / "site_config.json").exists()
    stats = agent.downlink.stats
    assert stats.applied == 2 and stats.refused == len(cases)
    assert stats.refused_by_reason == {"bad_signature": 2, "unknown_key": 1, "stale_version": 1, "wrong_device": 1,
                                       "malformed": 2}
    wait_until(lambda: "refused" in (agent.stats().last_error or ""), "the refusal in the agent's last_error")


def test_config_and_commands_are_applied_and_a_config_outside_the_kiosk_bounds_is_refused(
        tmp_path, broker, broker_accounts, device, server_key, start_agent, statuses):
    agent = start_agent(broker, **downlink_settings(tmp_path))
    server = server_mqtt(broker, broker_accounts.server_password)
    cfg = {"match_threshold": 0.5, "match_margin": 0.04, "shifts": [{"name": "day", "start": "09:30", "end": "18:00"}]}
    publish_retained(server, [(topics.downlink("config", "kiosk-01"),
                               encode_envelope(sign_envelope("config", "kiosk-01", 1, cfg, server_key)))])
    assert statuses.next().outcome == "applied"
    site = json.loads((tmp_path / "downlink" / "site_config.json").read_text())
    assert site["kiosk_overrides"] == {"match_threshold": 0.5, "match_margin": 0.04} and site["version"] == 1
    # Signed by the server, but a margin above the threshold: the kiosk's own model refuses it.
    bad = {"match_threshold": 0.3, "match_margin": 0.4}
    publish_retained(server, [(topics.downlink("config", "kiosk-01"),
                               encode_envelope(sign_envelope("config", "kiosk-01", 2, bad, server_key)))])
    report = statuses.next()
    assert (report.outcome, report.reason, report.current_version) == ("refused", "bad_config", 1)
    assert json.loads((tmp_path / "downlink" / "site_config.json").read_text())["version"] == 1

    publish_retained(server, [(topics.downlink("command", "kiosk-01"),
                               encode_envelope(sign_envelope("command", "kiosk-01", 1, {"command": "resync"},
                                                             server_key)))])
    report = statuses.next()
    assert (report.kind, report.outcome) == ("command", "applied") and "resync" in report.detail
    gallery, _ = gallery_envelope(server_key, device, 1, 2, seed=1)
    publish_retained(server, [(topics.downlink("gallery", "kiosk-01"), gallery)])
    assert statuses.next().outcome == "applied"
    before = (tmp_path / "gallery.hjg").stat().st_mtime_ns
    time.sleep(0.02)
    publish_retained(server, [(topics.downlink("command", "kiosk-01"),
                               encode_envelope(sign_envelope("command", "kiosk-01", 2, {"command": "reload"},
                                                             server_key)))])
    assert "reload" in statuses.next().detail
    assert (tmp_path / "gallery.hjg").stat().st_mtime_ns > before  # the kiosk's gallery watch loads it again
    lines = (tmp_path / "downlink" / "commands.jsonl").read_text().splitlines()
    assert [json.loads(x)["command"] for x in lines] == ["resync", "reload"]
    assert agent.downlink.applied_version("command") == 2


def test_a_kiosk_offline_for_a_week_gets_only_the_latest_of_each_kind(
        tmp_path, broker, broker_accounts, device, server_key, start_agent, statuses):
    server = server_mqtt(broker, broker_accounts.server_password)
    agent = start_agent(broker, **downlink_settings(tmp_path))
    wait_until(lambda: agent.stats().connected, "agent connected")
    v1, _ = gallery_envelope(server_key, device, 1, 2, seed=1)
    publish_retained(server, [(topics.downlink("gallery", "kiosk-01"), v1)])
    assert statuses.next().version == 1
    agent.stop()  # the kiosk goes offline; its persistent session stays on the broker

    v2, _ = gallery_envelope(server_key, device, 2, 3, seed=2)
    v3, _ = gallery_envelope(server_key, device, 3, 5, seed=3)
    for payload in (v2, v3):
        publish_retained(server, [(topics.downlink("gallery", "kiosk-01"), payload)])
    for version, threshold in ((1, 0.45), (2, 0.5)):
        publish_retained(server, [(topics.downlink("config", "kiosk-01"), encode_envelope(
            sign_envelope("config", "kiosk-01", version, {"match_threshold": threshold}, server_key)))])

    back = start_agent(broker, **downlink_settings(tmp_path))
    got = sorted(((r.kind, r.version, r.outcome) for r in (statuses.next(), statuses.next())), key=str)
    assert got == [("config", 2, "applied"), ("gallery", 3, "applied")]
    time.sleep(1.0)  # anything older would have arrived by now
    assert statuses.got.empty()
    stats = back.downlink.stats
    assert (stats.applied, stats.refused) == (2, 0), "an older version travelled to the returning kiosk"
    assert len(load_gallery(tmp_path / "gallery.hjg").people) == 5


def test_a_device_cannot_read_another_devices_downlink(tmp_path, broker, broker_accounts, device, server_key):
    server = server_mqtt(broker, broker_accounts.server_password)
    payload, _ = gallery_envelope(server_key, device, 1, 2, seed=1)
    publish_retained(server, [(topics.downlink("gallery", "kiosk-01"), payload)])
    got: queue.Queue = queue.Queue()
    codes: queue.Queue = queue.Queue()
    spy = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="kiosk-02-spy", protocol=mqtt.MQTTv5)
    spy.username_pw_set("kiosk-02", broker_accounts.devices["kiosk-02"])
    spy.on_message = lambda c, u, msg: got.put(msg.topic)
    spy.on_subscribe = lambda c, u, mid, rcs, p: codes.put(rcs)
    spy.connect(broker.host, broker.port)
    spy.loop_start()
    try:
        spy.subscribe([(topics.downlink(k, "kiosk-01"), 1) for k in topics.DOWNLINK_KINDS] +
                      [(topics.PREFIX + "/dev/+/down/#", 1)])
        codes.get(timeout=5)
        spy.subscribe(topics.downlink("gallery", "kiosk-02"), 1)  # its own: allowed, and nothing is there
        assert not codes.get(timeout=5)[0].is_failure
        with pytest.raises(queue.Empty):
            got.get(timeout=1.0)
        # And a device cannot publish on a downlink topic, not even its own.
        with pytest.raises(PublishError, match="refused"):
            publish_retained(MqttConfig(host=broker.host, port=broker.port, username="kiosk-02",
                                        password=broker_accounts.devices["kiosk-02"]),
                             [(topics.downlink("gallery", "kiosk-02"), payload)], timeout=3)
    finally:
        spy.disconnect()
        spy.loop_stop()


def test_a_gallery_of_another_model_is_refused_and_the_running_one_kept(
        tmp_path, broker, broker_accounts, device, server_key, start_agent, statuses):
    start_agent(broker, **downlink_settings(tmp_path))
    server = server_mqtt(broker, broker_accounts.server_password)
    v1, _ = gallery_envelope(server_key, device, 1, 2, seed=1)
    publish_retained(server, [(topics.downlink("gallery", "kiosk-01"), v1)])
    assert statuses.next().outcome == "applied"
    content = GalleryContent(model_version="some-other-model", dim=EMBEDDING_DIM, people=[
        GalleryPerson(person_id="emp-9", name="N", templates=[template_b64(np.ones(EMBEDDING_DIM, np.float32))])])
    sealed = seal(encode_gallery_content(content), device.enc_key.public_key(), seal_aad("kiosk-01", 2))
    publish_retained(server, [(topics.downlink("gallery", "kiosk-01"), encode_envelope(
        sign_envelope("gallery", "kiosk-01", 2, sealed.model_dump(), server_key)))])
    report = statuses.next()
    assert (report.outcome, report.reason, report.current_version) == ("refused", "model_mismatch", 1)
    assert load_gallery(tmp_path / "gallery.hjg").people == ["emp-0", "emp-1"]
