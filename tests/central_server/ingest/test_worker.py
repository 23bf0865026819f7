"""Through a real Mosquitto: a kiosk publishes signed batches, the server acks after commit, even after downtime."""

import queue
import time

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from central_server.app import create_app
from central_server.config import ServerConfig
from hajiri_wire import Ack, RecordBatch, decode_ack, encode_batch, topics

pytestmark = pytest.mark.slow


class KioskClient:
    """The kiosk's side of MQTT: its own broker account, publishes records, collects acks."""

    def __init__(self, broker, device_id: str, password: str) -> None:
        self.device_id = device_id
        self.acks: queue.Queue[Ack] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=device_id, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(device_id, password)
        subscribed = queue.Queue()
        self.client.on_message = lambda c, u, msg: self.acks.put(decode_ack(msg.payload))
        self.client.on_subscribe = lambda *a: subscribed.put(True)
        self.client.on_connect = lambda c, *a: c.subscribe(topics.acks(device_id), qos=1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        subscribed.get(timeout=5)

    def publish(self, payload: bytes) -> None:
        self.client.publish(topics.records(self.device_id), payload, qos=1).wait_for_publish(5)

    def next_ack(self, timeout: float = 5.0) -> Ack:
        return self.acks.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def server_config(broker, broker_accounts, sqlite_url) -> ServerConfig:
    return ServerConfig(database_url=sqlite_url, timezone="UTC",
                        mqtt={"host": broker.host, "port": broker.port, "password": broker_accounts.server_password,
                              "reconnect_min_s": 1, "reconnect_max_s": 2})


@pytest.fixture
def kiosk_client(broker, broker_accounts):
    k = KioskClient(broker, "kiosk-01", broker_accounts.devices["kiosk-01"])
    yield k
    k.close()


def start_server(config, engine):
    client = TestClient(create_app(config, engine=engine))
    client.__enter__()
    assert client.app.state.ingest_worker.wait_subscribed(5), "ingest worker did not subscribe"
    return client


def test_signed_batch_is_acked_after_storing_and_shows_in_attendance(
        server_config, sqlite_engine, kiosk_client, new_kiosk, register_kiosk, tokens, auth):
    kiosk = new_kiosk()
    register_kiosk(sqlite_engine, kiosk)
    server = start_server(server_config, sqlite_engine)
    try:
        kiosk_client.publish(b"\x00 not json")  # must not stop the worker
        recs = [kiosk.record("emp-1", "IN"), kiosk.record("emp-2", "IN")]
        kiosk_client.publish(encode_batch(RecordBatch(device_id="kiosk-01", records=recs)))
        ack = kiosk_client.next_ack()
        assert [(r.record_id, r.status) for r in ack.results] == [(r.record_id, "stored") for r in recs]
        kiosk_client.publish(encode_batch(RecordBatch(device_id="kiosk-01", records=recs)))
        assert [r.status for r in kiosk_client.next_ack().results] == ["duplicate", "duplicate"]
        day = server.get("/api/v1/attendance", params={"date": "2026-11-25"}, headers=auth(tokens["admin"])).json()
        assert [r["record_id"] for r in day["records"]] == [r.record_id for r in recs]
        stats = server.get("/api/v1/ingest/stats", headers=auth(tokens["it"])).json()["since_start"]
        assert stats["stored"] == 2 and stats["duplicate"] == 2 and stats["rejected"] == {"malformed": 1}
        assert stats["acks_sent"] == 2
    finally:
        server.__exit__(None, None, None)


def test_records_sent_while_the_server_is_down_are_delivered_on_restart(
        server_config, sqlite_engine, kiosk_client, new_kiosk, register_kiosk):
    kiosk = new_kiosk()
    register_kiosk(sqlite_engine, kiosk)
    server = start_server(server_config, sqlite_engine)  # creates the persistent session
    server.__exit__(None, None, None)  # the server goes down; the broker keeps its session
    sent = []
    for _ in range(3):
        rec = kiosk.record()
        sent.append(rec.record_id)
        kiosk_client.publish(encode_batch(RecordBatch(device_id="kiosk-01", records=[rec])))
    with pytest.raises(queue.Empty):
        kiosk_client.next_ack(timeout=0.3)  # nobody is there to ack
    server = start_server(server_config, sqlite_engine)
    try:
        acked = []
        deadline = time.monotonic() + 10
        while len(acked) < 3 and time.monotonic() < deadline:
            acked += [(r.record_id, r.status) for r in kiosk_client.next_ack().results]
        assert sorted(acked) == sorted((rid, "stored") for rid in sent)
    finally:
        server.__exit__(None, None, None)


def test_worker_reconnects_after_a_broker_restart(
        server_config, sqlite_engine, kiosk_client, new_kiosk, register_kiosk, broker):
    kiosk = new_kiosk()
    register_kiosk(sqlite_engine, kiosk)
    server = start_server(server_config, sqlite_engine)
    try:
        worker = server.app.state.ingest_worker
        broker.stop()
        deadline = time.monotonic() + 5
        while (worker.subscribed.is_set() or kiosk_client.client.is_connected()) and time.monotonic() < deadline:
            time.sleep(0.02)  # both sides must have noticed, or the checks below would pass on stale state
        assert not worker.subscribed.is_set()
        broker.start()
        assert worker.wait_subscribed(10), "worker did not come back after the broker restart"
        deadline = time.monotonic() + 10
        while not kiosk_client.client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
        rec = kiosk.record()
        kiosk_client.publish(encode_batch(RecordBatch(device_id="kiosk-01", records=[rec])))
        assert [(r.record_id, r.status) for r in kiosk_client.next_ack(10).results] == [(rec.record_id, "stored")]
    finally:
        server.__exit__(None, None, None)


def test_the_worker_recomputes_attendance_days_after_it_acks(
        server_config, sqlite_engine, kiosk_client, new_kiosk, register_kiosk):
    """A kiosk record arriving through MQTT updates the employee's day with no one reading the API."""
    import sqlalchemy as sa

    from central_server.db.schema import attendance_days
    from central_server.org.employees import create_employee, create_shift

    kiosk = new_kiosk()
    register_kiosk(sqlite_engine, kiosk)
    server = start_server(server_config, sqlite_engine)
    with sqlite_engine.begin() as conn:
        create_shift(conn, {"shift_id": "office", "name": "Office", "start_time": "10:00", "end_time": "17:30",
                            "grace_late_min": 10, "grace_early_min": 10, "half_day_hours": 4.0,
                            "absent_hours": 2.0, "overnight": False, "weekly_off": ["sun"]}, actor="test")
        create_employee(conn, {"employee_id": "emp-1", "name": "Asha", "site_id": "office-1",
                               "shift_id": "office"}, actor="test")
    try:
        recs = [kiosk.record("emp-1", "IN", "2026-11-25T10:30:00.000Z"),
                kiosk.record("emp-1", "OUT", "2026-11-25T17:45:00.000Z"),
                kiosk.record("visitor-9", "IN", "2026-11-25T10:31:00.000Z")]  # not an employee: no day
        kiosk_client.publish(encode_batch(RecordBatch(device_id="kiosk-01", records=recs)))
        assert [r.status for r in kiosk_client.next_ack().results] == ["stored"] * 3
        deadline = time.monotonic() + 10
        rows = []
        while time.monotonic() < deadline and not rows:
            with sqlite_engine.connect() as conn:
                rows = conn.execute(sa.select(attendance_days.c.employee_id, attendance_days.c.day,
                                              attendance_days.c.status)).all()
            time.sleep(0.1)
        assert [tuple(r) for r in rows] == [("emp-1", "2026-11-25", "late")]  # 10:30 UTC is after 10:10 grace
    finally:
        server.__exit__(None, None, None)


class FakeClient:
    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def publish(self, topic, payload, qos=0, retain=False):
        self.sent.append((topic, payload, qos, retain))


def test_the_worker_publishes_what_a_handler_returned_and_counts_record_acks(config, sqlite_engine):
    from central_server.ingest.handling import Handled, Publish
    from central_server.ingest.worker import IngestWorker

    worker = IngestWorker(config, sqlite_engine)
    client = FakeClient()
    worker._publish(client, Handled(publish=[Publish("a", b"1", ack=True), Publish("b", b"2", retain=True),
                                             Publish("c", b"3", qos=0)]))
    assert client.sent == [("a", b"1", 1, False), ("b", b"2", 1, True), ("c", b"3", 0, False)]
    assert worker.stats.snapshot()["acks_sent"] == 1  # evidence acks and answers are not record acks


def test_an_unreadable_signing_key_answers_no_key_rotation_and_is_logged(tmp_path, sqlite_url, sqlite_engine,
                                                                          caplog):
    from central_server.ingest.worker import IngestWorker

    key = tmp_path / "signing.pem"
    key.write_text("not a key")
    key.chmod(0o644)  # readable by others: refused
    worker = IngestWorker(ServerConfig(database_url=sqlite_url, downlink_key_file=key), sqlite_engine)
    with caplog.at_level("ERROR", logger="central_server.ingest.worker"):
        assert worker._signing_key() is None
    assert any("key rotation not answered" in m for m in caplog.messages)
