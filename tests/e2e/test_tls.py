"""MQTT over TLS with client certificates, end to end: a real Mosquitto, the ingest worker and a sync agent.

The device's certificate is its credential (no password) and its common name is its broker user, so the ACL
keeps it to its own topics. A client without a certificate, with one from another CA, or speaking plain MQTT
to the TLS port gets nowhere.
"""

import queue
import ssl
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from central_server.config import ServerConfig
from central_server.db.engine import make_engine
from central_server.db.migrate import migrate
from central_server.db.schema import records
from central_server.devices.registry import register_device
from central_server.downlink.publish import publish_retained
from central_server.ingest.worker import IngestWorker
from central_server.org.sites import create_site
from hajiri_wire import topics
from hajiri_wire.topics import SERVER_USER
from kiosk.store import Observation, append_record, open_store
from provisioning.broker import BrokerTls, LocalBroker
from provisioning.identity import create_identity
from provisioning.pki import PkiError, create_ca, issue_broker_cert, issue_client_cert
from sync_agent.agent import SyncAgent
from sync_agent.config import SyncConfig

pytestmark = pytest.mark.slow


@pytest.fixture
def pki(tmp_path: Path):
    ca = create_ca(tmp_path / "pki")
    broker_pair = issue_broker_cert(ca, tmp_path / "pki", ["127.0.0.1", "localhost"])
    return ca, broker_pair


@pytest.fixture
def tls_broker(tmp_path: Path, mosquitto_available, pki):
    ca, pair = pki
    b = LocalBroker(tmp_path / "broker", {}, tls=BrokerTls(ca.files.cert_file, pair.cert_file, pair.key_file))
    b.start()
    yield b
    b.kill()


def tls_client(broker: LocalBroker, client_id: str, ca_file: Path, cert=None) -> tuple[mqtt.Client, queue.Queue]:
    """Connect and report the CONNACK reason (or the TLS failure) on the returned queue."""
    results: queue.Queue = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(ca_file), certfile=cert and str(cert.cert_file), keyfile=cert and str(cert.key_file))
    client.on_connect = lambda c, u, f, rc, p: results.put(rc)
    # A refused handshake (TLS 1.3 reports a bad client certificate after the handshake) ends as a disconnect.
    client.on_disconnect = lambda c, u, f, rc, p: results.put(f"disconnected: {rc}")
    client.on_connect_fail = lambda c, u: results.put("connect failed")
    try:
        client.connect(broker.host, broker.port)
    except (ssl.SSLError, OSError) as e:
        results.put(e)
        return client, results
    client.loop_start()
    return client, results


def test_a_kiosk_with_a_client_certificate_drains_its_records_over_tls(tmp_path, tls_broker, pki):
    ca, _ = pki
    engine = make_engine(f"sqlite:///{tmp_path / 'central.db'}")
    migrate(engine)
    identity = create_identity(tmp_path / "kiosk-01", "kiosk-01", "office-1")
    with engine.begin() as conn:
        create_site(conn, "office-1", "Office 1", "office", actor="test")
        register_device(conn, identity.device_id, identity.site_id, identity.public_key_b64, actor="test")
    server_cert = issue_client_cert(ca, tmp_path / "pki", SERVER_USER)
    device_cert = issue_client_cert(ca, tmp_path / "pki", "kiosk-01")
    config = ServerConfig(database_url=f"sqlite:///{tmp_path / 'central.db'}", timezone="UTC", mqtt={
        "host": tls_broker.host, "port": tls_broker.port, "tls": True, "ca_file": ca.files.cert_file,
        "cert_file": server_cert.cert_file, "key_file": server_cert.key_file,
        "reconnect_min_s": 1, "reconnect_max_s": 2})
    worker = IngestWorker(config, engine)
    worker.start()
    store = tmp_path / "kiosk.db"
    db = open_store(store)
    now = time.time()
    for i in range(30):
        append_record(db, identity, Observation(f"emp-{i}", "IN", now + i, "boot-t", i, True, 0.7, 0.9, "m"))
    agent = SyncAgent(SyncConfig.model_validate({
        "device_dir": tmp_path / "kiosk-01", "store": store, "batch_size": 10, "poll_interval_s": 0.02,
        "heartbeat_interval_s": 60,
        "mqtt": {"host": tls_broker.host, "port": tls_broker.port, "reconnect_min_s": 0.1, "reconnect_max_s": 0.5,
                 "tls": {"ca_file": ca.files.cert_file, "cert_file": device_cert.cert_file,
                         "key_file": device_cert.key_file}}}), identity=identity)
    assert worker.wait_subscribed(10)
    agent.start()
    try:
        deadline = time.monotonic() + 20
        while agent.stats().records_acked < 30:
            assert time.monotonic() < deadline, f"not drained over TLS: {agent.stats()}"
            time.sleep(0.05)
    finally:
        agent.stop()
        worker.stop()
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(records)).scalar() == 30
    engine.dispose()
    # Downlinks go out on the same certificate: the broker requires one of every client.
    seen, subscribed = queue.Queue(), queue.Queue()
    listener, connected = tls_client(tls_broker, "kiosk-01", ca.files.cert_file, device_cert)
    assert _await(connected).is_failure is False
    listener.on_subscribe = lambda *a: subscribed.put(True)
    listener.on_message = lambda c, u, m: seen.put(m.payload)
    listener.subscribe(topics.downlink("command", "kiosk-01"), qos=1)
    subscribed.get(timeout=5)
    publish_retained(config.mqtt, [(topics.downlink("command", "kiosk-01"), b"signed downlink")])
    assert seen.get(timeout=5) == b"signed downlink"
    listener.loop_stop()
    listener.disconnect()


def test_the_certificate_name_is_the_broker_user_so_the_acl_holds(tmp_path, tls_broker, pki):
    """kiosk-02's certificate lets it use its own topics only: what it sends as kiosk-01 never arrives, and
    kiosk-01's downlink never reaches it."""
    ca, _ = pki
    server_cert = issue_client_cert(ca, tmp_path / "pki", SERVER_USER)
    server, server_results = tls_client(tls_broker, "server", ca.files.cert_file, server_cert)
    device_cert = issue_client_cert(ca, tmp_path / "pki", "kiosk-02")
    device, device_results = tls_client(tls_broker, "kiosk-02", ca.files.cert_file, device_cert)
    assert server_results.get(timeout=5) == 0 and device_results.get(timeout=5) == 0
    at_server: queue.Queue = queue.Queue()
    at_device: queue.Queue = queue.Queue()
    subscribed: queue.Queue = queue.Queue()
    server.on_message = lambda c, u, msg: at_server.put(msg.topic)
    device.on_message = lambda c, u, msg: at_device.put(msg.topic)
    server.on_subscribe = device.on_subscribe = lambda c, u, mid, codes, p: subscribed.put(codes)
    server.subscribe(topics.RECORDS_ALL, qos=1)
    device.subscribe(topics.PREFIX + "/dev/+/down/acks", qos=1)
    for _ in range(2):
        subscribed.get(timeout=5)
    for target in ("kiosk-01", "kiosk-02"):
        device.publish(topics.records(target), b"{}", qos=1).wait_for_publish(5)
        server.publish(topics.acks(target), b"{}", qos=1).wait_for_publish(5)
    time.sleep(0.5)
    assert sorted(at_server.queue) == [topics.records("kiosk-02")]
    assert sorted(at_device.queue) == [topics.acks("kiosk-02")]
    for client in (server, device):
        client.disconnect()
        client.loop_stop()


def test_clients_without_a_good_certificate_are_refused(tmp_path, tls_broker, pki):
    ca, _ = pki
    # No certificate at all: the broker requires one, so the TLS handshake fails.
    client, results = tls_client(tls_broker, "kiosk-01", ca.files.cert_file)
    assert _await(results) != 0
    client.loop_stop()
    # A certificate from another CA, claiming to be kiosk-01.
    rogue_ca = create_ca(tmp_path / "rogue")
    rogue = issue_client_cert(rogue_ca, tmp_path / "rogue", "kiosk-01")
    client, results = tls_client(tls_broker, "kiosk-01", ca.files.cert_file, rogue)
    assert _await(results) != 0
    client.loop_stop()
    # Plain MQTT on the TLS port.
    plain = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="plain", protocol=mqtt.MQTTv5)
    plain.username_pw_set("kiosk-01", "guess")
    connacks: queue.Queue = queue.Queue()
    plain.on_connect = lambda c, u, f, rc, p: connacks.put(rc)
    plain.connect(tls_broker.host, tls_broker.port)
    plain.loop_start()
    with pytest.raises(queue.Empty):
        connacks.get(timeout=2)  # the broker waits for a TLS hello and never sends a CONNACK
    plain.loop_stop()


def _await(results: queue.Queue, timeout: float = 5.0):
    """The connect outcome; a handshake refused inside paho's loop shows as no CONNACK at all."""
    try:
        return results.get(timeout=timeout)
    except queue.Empty:
        return "no CONNACK"


def test_pki_refuses_overwrites_and_ids_that_could_escape_a_topic(tmp_path, pki):
    ca, _ = pki
    with pytest.raises(PkiError, match="already exists"):
        create_ca(tmp_path / "pki")
    for bad in ("kiosk/+", "#", "Kiosk 1"):
        with pytest.raises(PkiError, match="not allowed"):
            issue_client_cert(ca, tmp_path / "pki", bad)
    issue_client_cert(ca, tmp_path / "pki", "kiosk-05")
    assert (tmp_path / "pki" / "kiosk-05.key").stat().st_mode & 0o077 == 0
    with pytest.raises(PkiError, match="already exists"):
        issue_client_cert(ca, tmp_path / "pki", "kiosk-05")


def test_pki_cli_makes_a_ca_a_broker_and_a_client_certificate(tmp_path):
    from hajiri_cli.main import main

    ca_dir = tmp_path / "ca"
    assert main(["pki", "init", "--ca-dir", str(ca_dir)]) == 0
    assert main(["pki", "broker", "--ca-dir", str(ca_dir), "--host", "broker.example", "--host", "10.0.0.5"]) == 0
    assert main(["pki", "client", "--ca-dir", str(ca_dir), "--user", "kiosk-07", "--out", str(tmp_path / "k")]) == 0
    assert (tmp_path / "k" / "kiosk-07.pem").exists() and (ca_dir / "broker.pem").exists()
    assert main(["pki", "client", "--ca-dir", str(ca_dir)]) == 2  # no --user: a clear error, not a traceback
    assert main(["pki", "broker", "--ca-dir", str(tmp_path / "nowhere"), "--host", "x"]) == 2
