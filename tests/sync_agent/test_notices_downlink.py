"""The sync agent and the `notices` kind on a real Mosquitto: applied into notices.json atomically; forged, stale
and malformed lists are refused, reported, and leave the file as it was."""

import json
import queue
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from central_server.config import MqttConfig
from central_server.downlink.publish import publish_retained
from hajiri_wire import DeviceKey, topics
from hajiri_wire.downlink import DownlinkStatus, decode_status, encode_envelope, sign_envelope
from hajiri_wire.topics import SERVER_USER
from kiosk.screen import NOTICES_FILE
from provisioning.identity import install_server_key

pytestmark = pytest.mark.slow
TOPIC = topics.downlink("notices", "kiosk-01")


@pytest.fixture
def server_key(device, tmp_path) -> DeviceKey:
    key = DeviceKey.generate()
    install_server_key(tmp_path / "device", key.public_b64)
    return key


@pytest.fixture
def reports(broker, broker_accounts):
    """The kiosks' downlink reports as the server account sees them."""
    got: queue.Queue[DownlinkStatus] = queue.Queue()
    subscribed: queue.Queue = queue.Queue()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="notice-status", protocol=mqtt.MQTTv5)
    c.username_pw_set(SERVER_USER, broker_accounts.server_password)
    c.on_subscribe = lambda cl, u, mid, codes, p: subscribed.put(codes)
    c.on_message = lambda cl, u, msg: got.put(decode_status(msg.payload))
    c.connect(broker.host, broker.port)
    c.loop_start()
    c.subscribe(topics.DOWNLINK_STATUS_ALL, qos=1)
    assert not subscribed.get(timeout=5)[0].is_failure
    yield got
    c.disconnect()
    c.loop_stop()


def envelope(key: DeviceKey, version: int, titles: list[str]) -> bytes:
    notices = [{"id": version - i, "audience": "site", "title": t, "text": f"about {t}",
                "created_at": "2026-11-25T09:00:00.000Z"} for i, t in enumerate(titles)]
    return encode_envelope(sign_envelope("notices", "kiosk-01", version, {"notices": notices}, key))


def test_notices_applied_then_forged_stale_and_malformed_lists_refused(
        tmp_path, broker, broker_accounts, device, server_key, start_agent, reports):
    agent = start_agent(broker, downlink={"state_dir": str(tmp_path / "downlink")})
    server = MqttConfig(host=broker.host, port=broker.port, password=broker_accounts.server_password)
    path = tmp_path / "downlink" / NOTICES_FILE

    publish_retained(server, [(TOPIC, envelope(server_key, 5, ["Holiday", "Audit"]))])
    report = reports.get(timeout=10)
    assert (report.kind, report.version, report.outcome) == ("notices", 5, "applied")
    doc = json.loads(path.read_text())
    assert doc["version"] == 5 and [n["title"] for n in doc["notices"]] == ["Holiday", "Audit"]
    assert oct(path.stat().st_mode & 0o777) == "0o644"  # the screen may run as another user
    before = path.read_bytes()

    attacker = DeviceKey.generate()
    forged = json.loads(envelope(attacker, 9, ["Pay the bearer"]))
    forged["key_id"] = json.loads(envelope(server_key, 9, ["x"]))["key_id"]  # claims the server's key
    cases = [(json.dumps(forged).encode(), "bad_signature", 9),
             (envelope(server_key, 4, ["Older"]), "stale_version", 4),
             (encode_envelope(sign_envelope("notices", "kiosk-01", 6, {"notices": [{"id": 6, "html": "<b>x</b>"}]},
                                            server_key)), "malformed", 6)]
    for payload, reason, version in cases:
        publish_retained(server, [(TOPIC, payload)])
        report = reports.get(timeout=10)
        assert (report.kind, report.version, report.outcome, report.reason, report.current_version) == \
            ("notices", version, "refused", reason, 5)
        assert path.read_bytes() == before
    assert agent.downlink.stats.refused_by_reason == {"bad_signature": 1, "stale_version": 1, "malformed": 1}

    publish_retained(server, [(TOPIC, envelope(server_key, 7, ["Newer"]))])
    assert reports.get(timeout=10).outcome == "applied"
    assert [n["title"] for n in json.loads(path.read_text())["notices"]] == ["Newer"]
    time.sleep(0.1)
    assert not list(path.parent.glob("*.tmp")), "write_atomic leaves no temporary file behind"
