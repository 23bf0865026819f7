"""Sync under hostile and awkward delivery, through a real Mosquitto and a real ingest worker process.

Duplicates and reordering, a replayed record id with new content, a device writing on another device's topic
(the broker ACL stops it), oversized payloads, and a week's backlog draining while new records keep flowing.
"""

import contextlib
import queue
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from bench.sync import start_workers, stop_workers
from central_server.db.engine import make_engine
from central_server.db.migrate import migrate
from central_server.db.schema import records, rejections
from central_server.devices.registry import register_device
from hajiri_common.timefmt import parse_utc_iso
from hajiri_wire import Ack, RecordBatch, UnsignedRecord, decode_ack, encode_batch, sign_record, topics
from hajiri_wire.messages import MAX_PAYLOAD_BYTES
from kiosk.store import Observation, all_records, append_record, open_store
from provisioning.identity import create_identity
from sync_agent.agent import SyncAgent
from sync_agent.config import SyncConfig

pytestmark = pytest.mark.slow
WEEK_S = 7 * 24 * 3600


class RawKiosk:
    """A device's own MQTT connection (its broker account), publishing whatever bytes a test wants."""

    def __init__(self, broker, device_id: str, password: str, suffix: str = "raw") -> None:
        self.device_id = device_id
        self.acks: queue.Queue[Ack] = queue.Queue()
        self.pubacks: dict[int, object] = {}
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{device_id}-{suffix}", protocol=mqtt.MQTTv5)
        self.client.username_pw_set(device_id, password)
        subscribed: queue.Queue = queue.Queue()
        self.client.on_message = lambda c, u, msg: self.acks.put(decode_ack(msg.payload))
        self.client.on_subscribe = lambda c, u, mid, codes, p: subscribed.put(codes)
        self.client.on_publish = lambda c, u, mid, code, p: self.pubacks.__setitem__(mid, code)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(topics.acks(device_id), qos=1)
        assert not subscribed.get(timeout=5)[0].is_failure

    def publish(self, payload: bytes, device_id: str | None = None):
        info = self.client.publish(topics.records(device_id or self.device_id), payload, qos=1)
        info.wait_for_publish(5)
        deadline = time.monotonic() + 5
        while info.mid not in self.pubacks and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.pubacks.get(info.mid)

    def ack(self, timeout: float = 10.0) -> Ack:
        return self.acks.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def site(tmp_path: Path, broker, broker_accounts):
    """Central SQLite DB with kiosk-01 and kiosk-02 registered, and one ingest worker process."""
    url = f"sqlite:///{tmp_path / 'central.db'}"
    engine = make_engine(url)
    migrate(engine)
    ids = {}
    with engine.begin() as conn:
        for name in ("kiosk-01", "kiosk-02"):
            ids[name] = create_identity(tmp_path / name, name, "office-1")
            register_device(conn, name, "office-1", ids[name].public_key_b64, actor="test", create_missing_site=True)
    procs, stop, ready = start_workers(1, url, broker, broker_accounts.server_password)
    kiosks: list[RawKiosk] = []

    def kiosk(name: str, suffix: str = "raw") -> RawKiosk:
        k = RawKiosk(broker, name, broker_accounts.devices[name], suffix)
        kiosks.append(k)
        return k

    yield engine, ids, kiosk, url
    for k in kiosks:
        k.close()
    stop_workers(procs, stop, ready)
    engine.dispose()


def chain(identity, n: int, *, start_seq: int = 1, prev: str = "0" * 64):
    from hajiri_wire import record_hash
    from hajiri_wire.ids import uuid7

    out = []
    for seq in range(start_seq, start_seq + n):
        body = UnsignedRecord(record_id=uuid7(), device_id=identity.device_id, site_id=identity.site_id, seq=seq,
                              person_id=f"emp-{seq}", event="IN", wall_time="2026-11-25T09:00:00.000Z",
                              boot_id="boot-f", mono_ns=seq, clock_synced=True, match_score=0.7,
                              liveness_score=0.9, model_version="m", prev_hash=prev)
        rec = sign_record(body, identity.key)
        prev = record_hash(rec)
        out.append(rec)
    return out


def batch(device_id: str, recs) -> bytes:
    return encode_batch(RecordBatch(device_id=device_id, records=list(recs)))


def central_rows(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(records.c.record_id, records.c.seq, records.c.chain_ok,
                                      records.c.person_id).order_by(records.c.seq)).all()


def rejection_reasons(engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.select(rejections.c.reason).order_by(rejections.c.id))]


def test_duplicated_and_reordered_deliveries_store_each_record_once_with_a_whole_chain(site):
    engine, ids, kiosk, _ = site
    k1 = kiosk("kiosk-01")
    r = chain(ids["kiosk-01"], 6)
    statuses: list[str] = []
    for part in (r[3:6], r[0:2], r[3:6], r[2:3], r[0:3]):  # late, early, repeat, the gap, repeats
        k1.publish(batch("kiosk-01", part))
        statuses += [x.status for x in k1.ack().results]
    assert statuses.count("stored") == 6 and statuses.count("duplicate") == 6
    rows = central_rows(engine)
    assert [x.record_id for x in rows] == [x.record_id for x in r]
    assert all(x.chain_ok is True for x in rows), "late links must be settled once the gap is filled"


def test_replayed_record_id_with_new_content_is_rejected_and_the_original_kept(site):
    engine, ids, kiosk, _ = site
    k1 = kiosk("kiosk-01")
    (first,) = chain(ids["kiosk-01"], 1)
    k1.publish(batch("kiosk-01", [first]))
    assert [x.status for x in k1.ack().results] == ["stored"]
    body = UnsignedRecord(**{**first.model_dump(exclude={"sig"}), "person_id": "emp-999"})  # same id and seq
    k1.publish(batch("kiosk-01", [sign_record(body, ids["kiosk-01"].key)]))
    assert [(x.status, x.reason) for x in k1.ack().results] == [("rejected", "record_id_conflict")]
    assert [(x.record_id, x.person_id) for x in central_rows(engine)] == [(first.record_id, "emp-1")]
    assert rejection_reasons(engine) == ["record_id_conflict"]


def test_a_device_publishing_on_another_devices_topic_is_stopped_by_the_broker(site):
    engine, ids, kiosk, _ = site
    k2 = kiosk("kiosk-02")
    forged = chain(ids["kiosk-02"], 1)
    code = k2.publish(batch("kiosk-02", forged), device_id="kiosk-01")  # kiosk-02 writing as kiosk-01
    assert code is not None and code.is_failure, f"broker accepted a publish on another device's topic: {code}"
    # The server never saw it: a legitimate batch published after it is the first and only thing that arrives.
    k1 = kiosk("kiosk-01")
    good = chain(ids["kiosk-01"], 1)
    k1.publish(batch("kiosk-01", good))
    assert [x.status for x in k1.ack().results] == ["stored"]
    assert [x.record_id for x in central_rows(engine)] == [good[0].record_id]
    assert rejection_reasons(engine) == []
    with pytest.raises(queue.Empty):
        k2.ack(timeout=0.3)  # and kiosk-02 never hears of kiosk-01's acks


def test_oversized_payloads_are_refused_without_stopping_ingest(site):
    engine, ids, kiosk, _ = site
    k1 = kiosk("kiosk-01")
    k1.publish(b"[" + b" " * (MAX_PAYLOAD_BYTES + 10) + b"]")  # over our cap, under the broker's: counted
    # Over the broker's message_size_limit: mosquitto drops it and closes that connection; nothing reaches us.
    big = kiosk("kiosk-01", "big")
    info = big.client.publish(topics.records("kiosk-01"), b"x" * (2 * 1024 * 1024), qos=1)
    # Refused client-side (the broker's CONNACK states its maximum packet size) or dropped by the broker
    # with the connection: either way the call may fail or time out, and it must never reach ingest.
    with contextlib.suppress(RuntimeError, ValueError):
        info.wait_for_publish(3)
    good = chain(ids["kiosk-01"], 2)
    k1.publish(batch("kiosk-01", good))
    assert [x.status for x in k1.ack().results] == ["stored", "stored"]
    assert rejection_reasons(engine) == ["too_large"]


def test_a_week_of_backlog_drains_while_new_records_are_acked_promptly(site, tmp_path, broker, broker_accounts):
    engine, ids, _, _ = site
    identity = ids["kiosk-01"]
    store = tmp_path / "kiosk.db"
    db = open_store(store)
    db.execute("PRAGMA synchronous=OFF")  # setup only: the backlog exists before the test's clock starts
    backlog = 6000
    start = time.time() - WEEK_S
    for i in range(backlog):  # a week offline: records spread over seven days
        append_record(db, identity, Observation(f"emp-{i % 50}", "IN", start + i * WEEK_S / backlog, "boot-w", i,
                                                True, 0.7, 0.9, "m"))
    db.execute("PRAGMA synchronous=FULL")
    config = SyncConfig.model_validate({
        "device_dir": tmp_path / "kiosk-01", "store": store, "batch_size": 100, "max_inflight_batches": 2,
        "poll_interval_s": 0.02, "ack_timeout_s": 30, "heartbeat_interval_s": 60,
        "mqtt": {"host": broker.host, "port": broker.port, "password": broker_accounts.devices["kiosk-01"],
                 "reconnect_min_s": 0.1, "reconnect_max_s": 0.5}})
    agent = SyncAgent(config, identity=identity)
    agent.start()
    live: list[str] = []
    try:
        deadline = time.monotonic() + 40
        while agent.stats().records_acked < backlog + len(live):
            assert time.monotonic() < deadline, f"not drained: {agent.stats()}"
            if len(live) < 40:
                live.append(append_record(db, identity, Observation("emp-new", "OUT", time.time(), "boot-w",
                                                                    10**9 + len(live), True, 0.7, 0.9, "m")).record_id)
            time.sleep(0.05)
    finally:
        agent.stop()
    acked_at = {r[0]: parse_utc_iso(r[1]).timestamp()
                for r in db.execute("SELECT record_id, acked_at FROM records").fetchall()}
    written_at = {r.record_id: parse_utc_iso(r.wall_time).timestamp() for r in all_records(db)}
    db.conn.close()
    last_backlog_ack = max(t for rid, t in acked_at.items() if rid not in live)
    live_latency = sorted(acked_at[rid] - written_at[rid] for rid in live)
    first_live_ack = acked_at[live[0]]
    # Interleaving: today's first record did not wait for the week to drain, and none waited long.
    assert first_live_ack < last_backlog_ack - 0.5, (first_live_ack, last_backlog_ack)
    assert live_latency[int(len(live_latency) * 0.95) - 1] < 3.0, live_latency
    with engine.connect() as conn:
        central = [r[0] for r in conn.execute(sa.select(records.c.record_id))]
    assert len(central) == len(set(central)) == backlog + len(live) == len(written_at)
    assert set(central) == set(written_at)
