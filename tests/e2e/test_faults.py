"""End to end with real processes: kiosk store -> sync agent -> Mosquitto -> central server, under faults."""

import threading
import time
from pathlib import Path

import pytest

from hajiri_demo.run import (
    Demo,
    central_record_ids,
    provision_kiosk,
    start_broker,
    start_server,
    start_services,
    start_sync,
    wait_server,
)
from kiosk.store import Observation, all_records, append_record, open_store, status_counts
from provisioning.identity import load_identity

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(tmp_path: Path, mosquitto_available: str):
    d = Demo(tmp_path / "demo")
    d.workdir.mkdir()
    yield d
    d.close()


def write_records(work: Path, n: int, pause_s: float = 0.0, stop: threading.Event | None = None) -> int:
    """Append n signed records as the kiosk would; returns how many were written."""
    db = open_store(work / "kiosk.db")
    identity = load_identity(work / "device")
    written = 0
    try:
        for i in range(n):
            if stop is not None and stop.is_set():
                break
            append_record(db, identity, Observation(f"emp-{i % 37}", "IN" if i % 2 else "OUT", time.time(),
                                                    "boot-e2e", time.monotonic_ns(), True, 0.71, None, "e2e"))
            written += 1
            if pause_s:
                time.sleep(pause_s)
    finally:
        db.conn.close()
    return written


def kiosk_record_ids(work: Path) -> list[str]:
    db = open_store(work / "kiosk.db")
    try:
        return [r.record_id for r in all_records(db)]
    finally:
        db.conn.close()


def wait_drained(demo: Demo, expected: int, timeout: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout
    ids: list[str] = []
    while time.monotonic() < deadline:
        db = open_store(demo.workdir / "kiosk.db")
        counts = status_counts(db)
        db.conn.close()
        try:
            ids = central_record_ids(demo)
        except OSError:
            ids = []
        if counts["acked"] == expected and len(ids) >= expected:
            return ids
        time.sleep(0.3)
    raise AssertionError(f"not drained in {timeout}s: kiosk {counts}, central {len(ids)} of {expected}")


def assert_exactly_once(demo: Demo, central: list[str]) -> None:
    kiosk = kiosk_record_ids(demo.workdir)
    assert len(central) == len(set(central)), "a record is in the central DB twice"
    assert sorted(central) == sorted(kiosk), "central and kiosk disagree on which records exist"


def test_server_killed_mid_stream_loses_nothing_and_doubles_nothing(demo):
    start_services(demo)
    stop = threading.Event()
    result: dict[str, int] = {}
    writer = threading.Thread(target=lambda: result.update(n=write_records(demo.workdir, 400, 0.005, stop)))
    writer.start()
    time.sleep(0.8)
    demo.kill("server")  # kill -9 between receiving, committing and acking
    time.sleep(1.0)
    demo.restart("server")
    wait_server(demo)
    writer.join(60)
    assert result["n"] == 400
    assert_exactly_once(demo, wait_drained(demo, 400))


def test_broker_down_when_the_kiosk_starts_then_up(demo):
    start_broker(demo)
    start_server(demo)
    provision_kiosk(demo)
    demo.broker.stop()
    write_records(demo.workdir, 120)
    start_sync(demo)
    time.sleep(2.0)  # the agent retries against a closed port and must not give up or crash
    assert demo.procs["sync"].poll() is None, "sync agent died while the broker was down"
    write_records(demo.workdir, 30)
    demo.broker.start()
    assert_exactly_once(demo, wait_drained(demo, 150))


def test_sync_agent_killed_between_publish_and_ack(demo):
    start_services(demo)
    write_records(demo.workdir, 200)
    time.sleep(0.3)
    demo.kill("sync")
    write_records(demo.workdir, 50)
    demo.restart("sync")
    assert_exactly_once(demo, wait_drained(demo, 250))
