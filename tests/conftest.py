"""Fixtures every test may use: a real Mosquitto on a free loopback port, the shared face data and faces from it,
device ids, and the models that judge faces."""

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_models.opencv_runtime import Detector, Embedder, read_image
from hajiri_wire.topics import SERVER_USER
from provisioning.broker import BrokerError, LocalBroker, mosquitto_binary
from provisioning.identity import DeviceIdentity, create_identity

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip: that data is never copied into the repo."""
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"needs the shared face data at {SHARED_DATA} (absent on a lone clone)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def detector() -> Detector:
    return Detector()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def lfw_faces(shared_data: Path) -> list:
    """A dozen LFW photos of different people (never used to fit the fusion)."""
    files = sorted((shared_data / "faces" / "lfw_dev").glob("*/*.jpg"))[1::97][:12]
    return [read_image(p) for p in files]


@pytest.fixture(scope="session")
def live_sequence(shared_data: Path) -> list:
    """Eight consecutive replay_a live crops from the held-out half (files >= 90): a real head moving."""
    folder = shared_data / "liveness" / "replay_a" / "live"
    return [read_image(folder / f"{i}.jpg") for i in range(100, 108)]


@pytest.fixture(scope="session")
def mosquitto_available() -> str:
    try:
        return mosquitto_binary()
    except BrokerError as e:
        pytest.skip(f"no mosquitto on this machine: {e}")


class BrokerAccounts:
    """Broker users for one test: the server account and a password per device id."""

    def __init__(self) -> None:
        self.server_password = secrets.token_urlsafe(16)
        self.devices: dict[str, str] = {}

    def add_device(self, device_id: str) -> str:
        return self.devices.setdefault(device_id, secrets.token_urlsafe(16))

    def users(self) -> dict[str, str]:
        return {SERVER_USER: self.server_password, **self.devices}


@pytest.fixture
def broker_accounts() -> BrokerAccounts:
    accounts = BrokerAccounts()
    for i in range(1, 4):
        accounts.add_device(f"kiosk-{i:02d}")
    return accounts


@pytest.fixture
def broker(tmp_path: Path, mosquitto_available: str, broker_accounts: BrokerAccounts) -> Iterator[LocalBroker]:
    """A real mosquitto with passwords and the production ACL, killed after the test."""
    b = LocalBroker(tmp_path / "broker", broker_accounts.users())
    b.start()
    try:
        yield b
    finally:
        b.kill()


@pytest.fixture
def device(tmp_path: Path) -> DeviceIdentity:
    return create_identity(tmp_path / "device", "kiosk-01", "office-1")
