"""Evidence uplink through a real Mosquitto: crops go up sealed and signed, a few at a time; only an ack for this
device deletes one; no ack in time means a resend; without a server key nothing leaves the kiosk."""

import queue
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hajiri_common.timefmt import utc_iso
from hajiri_wire import Ack, AckResult, encode_ack, topics
from hajiri_wire.evidence import EvidenceKey, decode_evidence, verify_evidence
from hajiri_wire.topics import SERVER_USER
from kiosk.config import KioskConfig
from kiosk.evidence import open_evidence
from sync_agent.evidence_upload import EvidenceUploader

pytestmark = pytest.mark.slow


def kiosk_config(tmp_path: Path, server_key: EvidenceKey | None) -> KioskConfig:
    return KioskConfig(store_path=tmp_path / "records.db",
                       evidence={"server_public_key": None if server_key is None else server_key.public_b64})


def keep_crops(config: KioskConfig, n: int) -> list[str]:
    store = open_evidence(config)
    ids = [f"0190a0b0-0000-7000-8000-00000000000{i}" for i in range(n)]
    for i, record_id in enumerate(ids):
        store.save(record_id, np.full((64, 48, 3), 40 * i, np.uint8), time.time() - 100 + i)
    return ids


def ack(device_id: str, record_id: str, status: str = "stored") -> bytes:
    return encode_ack(Ack(device_id=device_id, server_time=utc_iso(time.time()),
                          results=[AckResult(record_id=record_id, status=status)]))


@pytest.fixture
def server_side(broker, broker_accounts):
    """The server's broker account, collecting what arrives on kiosk-01's evidence topic."""
    got: queue.Queue = queue.Queue()
    subscribed: queue.Queue = queue.Queue()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="evidence-listener", protocol=mqtt.MQTTv5)
    c.username_pw_set(SERVER_USER, broker_accounts.server_password)
    c.on_message = lambda cl, u, msg: got.put(msg.payload)
    c.on_subscribe = lambda *a: subscribed.put(True)
    c.connect(broker.host, broker.port)
    c.loop_start()
    c.subscribe(topics.evidence("kiosk-01"), qos=1)
    subscribed.get(timeout=5)
    yield got
    c.disconnect()
    c.loop_stop()


@pytest.fixture
def kiosk_mqtt(broker, broker_accounts):
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="kiosk-01-test", protocol=mqtt.MQTTv5)
    c.username_pw_set("kiosk-01", broker_accounts.devices["kiosk-01"])
    c.connect(broker.host, broker.port)
    c.loop_start()
    yield c
    c.disconnect()
    c.loop_stop()


def test_crops_go_up_sealed_and_are_deleted_only_on_their_ack(tmp_path, device, server_side, kiosk_mqtt) -> None:
    server = EvidenceKey.generate()
    config = kiosk_config(tmp_path, server)
    ids = keep_crops(config, 3)
    up = EvidenceUploader(device, config, ack_timeout_s=0.5)
    assert up.uplink and up.pending() == 3
    assert up.pump(kiosk_mqtt, now=100.0) == 2  # two in flight at most, oldest first
    first = [decode_evidence(server_side.get(timeout=5)) for _ in range(2)]
    assert [m.record_id for m in first] == ids[:2]
    for m in first:
        verify_evidence(m, device.key.public)
        assert server.open(m).startswith(b"\xff\xd8\xff")
    assert up.pump(kiosk_mqtt, now=100.1) == 0  # window full, nothing overdue
    assert up.handle_ack(ack("kiosk-02", ids[0])) == 0  # someone else's ack
    assert up.handle_ack(b"{not json") == 0
    assert up.pending() == 3
    assert up.handle_ack(ack("kiosk-01", ids[0])) == 1
    assert up.handle_ack(ack("kiosk-01", ids[1], "rejected")) == 1  # refused for good: a resend cannot help
    assert up.pump(kiosk_mqtt, now=100.2) == 1
    assert decode_evidence(server_side.get(timeout=5)).record_id == ids[2]
    assert up.pump(kiosk_mqtt, now=101.0) == 1  # no ack within ack_timeout_s: sent again
    assert decode_evidence(server_side.get(timeout=5)).record_id == ids[2]
    assert up.handle_ack(ack("kiosk-01", ids[2], "duplicate")) == 1
    assert up.pending() == 0 and up.heartbeat_facts() == {"liveness_enabled": True, "evidence_pending": 0,
                                                          "evidence_uplink": True}


def test_without_a_server_key_crops_stay_and_the_heartbeat_says_so(tmp_path, device, server_side,
                                                                   kiosk_mqtt) -> None:
    config = kiosk_config(tmp_path, None)
    keep_crops(config, 2)
    up = EvidenceUploader(device, config, ack_timeout_s=0.5)
    assert up.pump(kiosk_mqtt) == 0
    with pytest.raises(queue.Empty):
        server_side.get(timeout=0.5)
    assert up.heartbeat_facts() == {"liveness_enabled": True, "evidence_pending": 2, "evidence_uplink": False}
