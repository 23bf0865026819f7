"""The sync agent's side of a key rotation: request kept on disk, swap only on the server's signed "accepted"."""

import json
from pathlib import Path

import pytest

from hajiri_common.timefmt import utc_iso
from hajiri_wire import DeviceKey
from hajiri_wire.key_rotation import (
    KeyRotationAnswer,
    decode_rotation,
    encode_rotation,
    sign_answer,
    verify_rotation,
)
from provisioning.identity import PENDING_KEY_FILE, create_identity, install_server_key, load_identity
from sync_agent.key_rotation import REQUEST_FILE, KeyRotator


@pytest.fixture
def server() -> DeviceKey:
    return DeviceKey.generate()


@pytest.fixture
def device(tmp_path: Path, server: DeviceKey) -> Path:
    create_identity(tmp_path, "kiosk-01", "office-1")
    install_server_key(tmp_path, server.public_b64)
    return tmp_path


def rotator(device: Path, swapped: list) -> KeyRotator:
    return KeyRotator(device, load_identity(device), resend_s=1.0, on_swap=swapped.append, on_error=lambda m: None)


def answer(server: DeviceKey, new_public_key: str, outcome: str = "accepted", version: int = 4) -> bytes:
    a = KeyRotationAnswer(device_id="kiosk-01", new_public_key=new_public_key, requested_version=version,
                          outcome=outcome, reason=None if outcome == "accepted" else "not_requested",
                          server_time=utc_iso(0))
    return encode_rotation(sign_answer(a, server))


def test_request_is_signed_by_both_keys_and_survives_a_restart(device: Path, server: DeviceKey) -> None:
    old = load_identity(device)
    swapped: list = []
    r = rotator(device, swapped)
    r.begin(4)
    request = decode_rotation((device / REQUEST_FILE).read_bytes())
    verify_rotation(request, old.key.public)
    assert request.requested_version == 4 and request.new_public_key != old.public_key_b64
    # A second rotate_key while one waits reuses the pending key (the server may already hold it).
    r.begin(5)
    assert decode_rotation((device / REQUEST_FILE).read_bytes()).new_public_key == request.new_public_key

    restarted = rotator(device, swapped)  # the agent was killed: the request is still there
    assert restarted.pending
    assert restarted.handle_answer(answer(DeviceKey.generate(), request.new_public_key)) is None, "forged answer"
    assert restarted.handle_answer(answer(server, DeviceKey.generate().public_b64)) is None, "another request's"
    assert load_identity(device).public_key_b64 == old.public_key_b64
    assert restarted.handle_answer(answer(server, request.new_public_key)) is not None
    assert load_identity(device).public_key_b64 == request.new_public_key
    assert [i.public_key_b64 for i in swapped] == [request.new_public_key]
    assert not restarted.pending and not (device / REQUEST_FILE).exists()
    assert restarted.handle_answer(answer(server, request.new_public_key)) is None, "a repeat changes nothing"


def test_a_refusal_drops_the_pending_key(device: Path, server: DeviceKey) -> None:
    old = load_identity(device)
    r = rotator(device, [])
    r.begin(4)
    new = json.loads((device / REQUEST_FILE).read_text())["new_public_key"]
    assert r.handle_answer(answer(server, new, "refused")) is not None
    assert not (device / PENDING_KEY_FILE).exists() and not r.pending and r.refusals == 1
    assert load_identity(device).public_key_b64 == old.public_key_b64
    r.begin(6)  # can be asked again
    assert json.loads((device / REQUEST_FILE).read_text())["new_public_key"] != new


def test_a_half_done_swap_is_finished_at_start(device: Path, server: DeviceKey) -> None:
    r = rotator(device, [])
    r.begin(4)
    new = json.loads((device / REQUEST_FILE).read_text())["new_public_key"]
    doc = json.loads((device / "device.json").read_text())
    doc["public_key"] = new  # the power went after device.json was replaced
    (device / "device.json").write_text(json.dumps(doc))
    assert load_identity(device).public_key_b64 == new
    rotator(device, [])
    assert not (device / PENDING_KEY_FILE).exists() and load_identity(device).public_key_b64 == new
