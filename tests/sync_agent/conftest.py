"""Sync agent fixtures: the ack peer (a real MQTT stand-in for the ingest worker), agents, record writers."""

import importlib.util
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from kiosk.store import Observation, append_record, open_store, status_counts
from provisioning.broker import LocalBroker
from provisioning.identity import DeviceIdentity
from sync_agent.agent import SyncAgent
from sync_agent.config import SyncConfig

HERE = Path(__file__).resolve().parent


def _load(name: str) -> ModuleType:
    # --import-mode=importlib keeps test dirs off sys.path, so the helper is loaded by file path.
    spec = importlib.util.spec_from_file_location(f"sync_agent_tests.{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_ack_peer = _load("ack_peer")


@pytest.fixture(scope="session")
def peer_mod() -> ModuleType:
    """The ack_peer helper module: AckPeer and wait_until."""
    return _ack_peer


@pytest.fixture
def start_peer(broker_accounts, device: DeviceIdentity) -> Iterator[Callable[..., object]]:
    """start_peer(broker, **kw) -> a subscribed AckPeer that knows kiosk-01's public key; stopped after the test."""
    peers = []

    def start(broker: LocalBroker, **kw) -> object:
        peer = _ack_peer.AckPeer(broker.host, broker.port, broker_accounts.server_password,
                                 {device.device_id: device.key.public}, **kw)
        peers.append(peer)
        return peer.start()

    yield start
    for p in peers:
        p.stop()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "kiosk.db"


@pytest.fixture
def write_records(store_path: Path, device: DeviceIdentity) -> Iterator[Callable[[int], list]]:
    """write_records(n): append n signed records through the kiosk store, as the kiosk would."""
    db = open_store(store_path)

    def write(n: int) -> list:
        out = []
        for i in range(n):
            now = time.time()
            obs = Observation(person_id=f"emp-{i % 7}", event="IN" if i % 2 == 0 else "OUT", wall_time=now,
                              boot_id="boot-test", mono_ns=time.monotonic_ns(), clock_synced=True,
                              match_score=0.71, liveness_score=0.9, model_version="sface-2021dec")
            out.append(append_record(db, device, obs))
        return out

    yield write
    db.close()


@pytest.fixture
def counts(store_path: Path) -> Iterator[Callable[[], dict[str, int]]]:
    """counts() -> the store's {pending, acked, rejected}, read through a separate connection."""
    db = open_store(store_path)
    yield lambda: status_counts(db)
    db.close()


def sync_config(tmp_path: Path, store_path: Path, broker: LocalBroker, password: str, **overrides) -> SyncConfig:
    """Quick timings for tests: short poll, ack timeout and reconnect backoff."""
    mqtt = {"host": broker.host, "port": broker.port, "password": password,
            "reconnect_min_s": 0.1, "reconnect_max_s": 0.5, "keepalive_s": 5}
    mqtt.update(overrides.pop("mqtt", {}))
    data = {"device_dir": tmp_path / "device", "store": store_path, "mqtt": mqtt, "batch_size": 5,
            "max_inflight_batches": 2, "ack_timeout_s": 1.0, "poll_interval_s": 0.05, **overrides}
    return SyncConfig.model_validate(data)


@pytest.fixture
def start_agent(tmp_path: Path, store_path: Path, broker_accounts, device: DeviceIdentity
                ) -> Iterator[Callable[..., SyncAgent]]:
    """start_agent(broker, **config_overrides) -> a running SyncAgent for kiosk-01; stopped after the test."""
    agents: list[SyncAgent] = []

    def start(broker: LocalBroker, **overrides) -> SyncAgent:
        config = sync_config(tmp_path, store_path, broker, broker_accounts.devices[device.device_id], **overrides)
        agent = SyncAgent(config)
        agent.start()
        agents.append(agent)
        return agent

    yield start
    for a in agents:
        a.stop()
