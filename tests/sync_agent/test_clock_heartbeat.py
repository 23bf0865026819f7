"""Clock truth end to end: a kiosk whose clock is 3 days off learns the offset from acks, reports it in its
heartbeat, and the real ingest worker re-bases that boot's unsynced records (real Mosquitto, real SQLite)."""

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from central_server.config import ServerConfig
from central_server.db.engine import make_engine
from central_server.db.migrate import migrate
from central_server.db.schema import device_heartbeats, record_times
from central_server.devices.registry import register_device
from central_server.ingest.worker import IngestWorker
from hajiri_common.timefmt import parse_utc_iso
from hajiri_wire import Heartbeat
from kiosk.clock import boot_id
from kiosk.store import Observation, append_record, open_store, pending_batch
from sync_agent.agent import SyncAgent
from sync_agent.clock_offset import ClockOffset, offset_sample
from sync_agent.config import SyncConfig
from sync_agent.heartbeat import cpu_temperature_c, disk_free_bytes

pytestmark = pytest.mark.slow
THREE_DAYS_S = 3 * 24 * 3600


def wait_until(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def central(tmp_path: Path, broker, broker_accounts, device):
    engine = make_engine(f"sqlite:///{tmp_path / 'central.db'}")
    migrate(engine)
    with engine.begin() as conn:
        register_device(conn, device.device_id, device.site_id, device.public_key_b64, actor="test",
                        create_missing_site=True)
    config = ServerConfig(database_url=f"sqlite:///{tmp_path / 'central.db'}",
                          mqtt={"host": broker.host, "port": broker.port,
                                "password": broker_accounts.server_password, "client_id": "test-clock-ingest"})
    worker = IngestWorker(config, engine)
    worker.start()
    assert worker.wait_subscribed(10)
    yield engine
    worker.stop()
    engine.dispose()


def test_a_kiosk_three_days_behind_gets_its_unsynced_records_rebased(tmp_path, broker, broker_accounts, device,
                                                                      central):
    skewed = lambda: time.time() - THREE_DAYS_S  # noqa: E731 - the kiosk's wrong wall clock
    store = tmp_path / "kiosk.db"
    db = open_store(store)
    true_times = {}
    for i in range(6):
        true_times[append_record(db, device, Observation(
            f"emp-{i}", "IN", skewed(), boot_id(), time.monotonic_ns(), False, 0.7, 0.9, "sface-2021dec")
        ).record_id] = time.time()
        time.sleep(0.05)
    config = SyncConfig.model_validate({
        "device_dir": tmp_path / "device", "store": store, "batch_size": 2, "max_inflight_batches": 1,
        "poll_interval_s": 0.05, "ack_timeout_s": 5, "heartbeat_interval_s": 0.2,
        "mqtt": {"host": broker.host, "port": broker.port, "password": broker_accounts.devices[device.device_id],
                 "reconnect_min_s": 0.1, "reconnect_max_s": 0.5}})
    agent = SyncAgent(config, identity=device, wall_clock=skewed)
    agent.start()
    try:
        wait_until(lambda: agent.stats().records_acked == 6, 15, "all records acked")
        offset = agent.stats().clock_offset_s
        assert offset is not None and abs(offset - THREE_DAYS_S) < 1.0, offset

        def all_corrected() -> bool:
            with central.connect() as conn:
                rows = conn.execute(sa.select(record_times)).all()
            return len(rows) == 6 and all(r.time_corrected for r in rows)

        wait_until(all_corrected, 10, "every unsynced record re-based")
        # A later heartbeat (with a measured round trip) may refine the anchor: wait for one to land.
        time.sleep(0.5)
        with central.connect() as conn:
            rows = conn.execute(sa.select(record_times)).all()
            hb = Heartbeat.model_validate_json(conn.execute(sa.select(device_heartbeats.c.body)).scalar_one())
        for r in rows:
            assert abs(parse_utc_iso(r.corrected_wall_time).timestamp() - true_times[r.record_id]) < 1.0
        assert hb.boot_id == boot_id() and abs(hb.clock_offset_s - THREE_DAYS_S) < 1.0
        assert hb.queue_depth == 0 and hb.disk_free_bytes and hb.model_versions == {"recognition": "sface-2021dec"}
        assert agent.stats().heartbeats_sent >= 2
    finally:
        agent.stop()
        db.conn.close()


def test_offset_estimate_trusts_the_shortest_round_trip():
    clock = ClockOffset()
    clock.add(offset_sample(server_unix=1000.30, sent_mono=10.0, recv_mono=10.6, recv_wall=1000.0))  # rtt 0.6
    clock.add(offset_sample(server_unix=1005.52, sent_mono=15.0, recv_mono=15.04, recv_wall=1005.5))  # rtt 0.04
    best = clock.best()
    assert best.rtt_s == pytest.approx(0.04) and best.offset_s == pytest.approx(1005.52 - 1005.48)
    assert ClockOffset().best() is None


def test_cpu_temperature_reads_the_hottest_zone_and_none_without_sensors(tmp_path):
    for zone, milli in (("thermal_zone0", "48123\n"), ("thermal_zone1", "51000\n"), ("thermal_zone2", "junk")):
        (tmp_path / zone).mkdir()
        (tmp_path / zone / "temp").write_text(milli)
    assert cpu_temperature_c(tmp_path) == 51.0
    assert cpu_temperature_c(tmp_path / "absent") is None
    assert disk_free_bytes(tmp_path / "not-yet.db") > 0


def test_pending_batch_skips_in_flight_and_takes_either_end(tmp_path, device):
    db = open_store(tmp_path / "k.db")
    recs = [append_record(db, device, Observation("emp-1", "IN", time.time(), "b", i, True, 0.7, 0.9, "m"))
            for i in range(10)]
    in_flight = {r.record_id for r in recs[:3]}
    assert [r.seq for r in pending_batch(db, 4, in_flight)] == [4, 5, 6, 7]
    assert [r.seq for r in pending_batch(db, 4, in_flight, newest=True)] == [7, 8, 9, 10]
    assert pending_batch(db, 4, {r.record_id for r in recs}) == []
    db.conn.close()
