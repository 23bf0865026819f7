"""Key rotation on the server (SQLite and PostgreSQL): accept, answer signed, refuse forgeries and replays, and
keep verifying records signed with a retired key."""

import json

import pytest
import sqlalchemy as sa

from central_server.db.schema import audit_log, device_keys, devices, rejections
from central_server.devices.key_rotation import handle_key_rotation
from central_server.downlink.versions import make_command
from central_server.ingest.records import ingest_payload
from central_server.ingest.rejections import IngestStats
from hajiri_wire import DeviceKey, RecordBatch, encode_batch, topics
from hajiri_wire.downlink import Command
from hajiri_wire.errors import BadSignature
from hajiri_wire.key_rotation import decode_answer, encode_rotation, sign_rotation, verify_answer

AT = "2026-11-25T09:00:00.000Z"


@pytest.fixture
def server_key() -> DeviceKey:
    return DeviceKey.generate()


def ask_rotation(engine, server_key: DeviceKey) -> int:
    with engine.begin() as conn:
        [stored] = make_command(conn, server_key, ["kiosk-01"], Command(command="rotate_key"), actor="admin")
    return stored.version


def registered_key(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.select(devices.c.public_key).where(devices.c.device_id == "kiosk-01")).scalar_one()


def send(engine, server_key, payload: bytes, stats=None, device_id: str = "kiosk-01"):
    out = handle_key_rotation(engine, topics.key_rotation(device_id), payload, server_key, stats=stats)
    if out is None:
        return None
    assert out[0] == topics.key_rotation_answer(device_id)
    answer = decode_answer(out[1])
    verify_answer(answer, server_key.public)  # every answer is signed by the server's key
    return answer


def batch(kiosk, records) -> bytes:
    return encode_batch(RecordBatch(device_id=kiosk.device_id, records=records))


def test_a_requested_rotation_is_applied_and_old_records_still_verify(engine, registered, server_key):
    kiosk = registered
    old_key = kiosk.key
    backlog = [kiosk.record() for _ in range(3)]  # signed with the old key, not yet sent
    version = ask_rotation(engine, server_key)
    new_key = DeviceKey.generate()
    request = encode_rotation(sign_rotation("kiosk-01", old_key, new_key, version, AT))

    answer = send(engine, server_key, request)
    assert (answer.outcome, answer.new_public_key, answer.requested_version) == ("accepted", new_key.public_b64,
                                                                                 version)
    assert registered_key(engine) == new_key.public_b64
    with engine.connect() as conn:
        history = conn.execute(sa.select(device_keys)).all()
        audit = conn.execute(sa.select(audit_log.c.detail).where(audit_log.c.action == "device.key_rotate")).all()
    assert [(h.public_key, h.replaced_by, h.requested_version) for h in history] == [
        (old_key.public_b64, new_key.public_b64, version)]
    assert len(audit) == 1 and f"v{version}" in audit[0].detail

    # The answer was lost: the kiosk sends the same request again and hears "accepted" again; nothing changes.
    again = send(engine, server_key, request)
    assert again.outcome == "accepted" and again.detail == "already rotated to this key"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(device_keys)).scalar_one() == 1

    # The backlog (old key) and new records (new key) are all stored; no rejection.
    kiosk.key = new_key
    fresh = [kiosk.record() for _ in range(2)]
    stats = IngestStats()
    first = ingest_payload(engine, topics.records("kiosk-01"), batch(kiosk, fresh), stats=stats)
    second = ingest_payload(engine, topics.records("kiosk-01"), batch(kiosk, backlog), stats=stats)
    assert (first.stored, second.stored) == (2, 3)
    assert stats.snapshot()["rejected"] == {}
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rejections)).scalar_one() == 0

    # A record signed by a key the device never held is still refused.
    kiosk.key = DeviceKey.generate()
    forged = ingest_payload(engine, topics.records("kiosk-01"), batch(kiosk, [kiosk.record()]), stats=stats)
    assert forged.statuses() == ["rejected"] and forged.ack.results[0].reason == "bad_signature"


def test_forged_replayed_and_unrequested_rotations_are_refused(engine, registered, server_key):
    kiosk = registered
    version = ask_rotation(engine, server_key)
    attacker, new_key = DeviceKey.generate(), DeviceKey.generate()
    stats = IngestStats()

    forged = send(engine, server_key, encode_rotation(sign_rotation("kiosk-01", attacker, new_key, version, AT)),
                  stats)
    assert (forged.outcome, forged.reason) == ("refused", "bad_signature")
    assert registered_key(engine) == kiosk.key.public_b64

    # sig_new must be by the key named: a request naming someone else's public key is refused.
    swapped = json.loads(encode_rotation(sign_rotation("kiosk-01", kiosk.key, new_key, version, AT)))
    swapped["new_public_key"] = attacker.public_b64
    assert send(engine, server_key, json.dumps(swapped).encode(), stats).reason == "bad_signature"

    unrequested = send(engine, server_key, encode_rotation(
        sign_rotation("kiosk-01", kiosk.key, new_key, version + 5, AT)), stats)
    assert (unrequested.outcome, unrequested.reason) == ("refused", "not_requested")
    assert registered_key(engine) == kiosk.key.public_b64

    good = send(engine, server_key, encode_rotation(sign_rotation("kiosk-01", kiosk.key, new_key, version, AT)))
    assert good.outcome == "accepted"
    # The same command version used again (with the now-current key) for yet another key: a replay.
    third = DeviceKey.generate()
    replay = send(engine, server_key, encode_rotation(sign_rotation("kiosk-01", new_key, third, version, AT)),
                  stats)
    assert (replay.outcome, replay.reason) == ("refused", "replayed")
    # An old request signed by the retired key: no longer the registered key, so refused.
    stale = send(engine, server_key, encode_rotation(sign_rotation("kiosk-01", kiosk.key, third, version, AT)),
                 stats)
    assert stale.reason == "bad_signature" and registered_key(engine) == new_key.public_b64

    # Another device's topic: not answered, counted.
    other = encode_rotation(sign_rotation("kiosk-01", new_key, third, version, AT))
    assert send(engine, server_key, other, stats, device_id="kiosk-02") is None
    assert send(engine, server_key, b"{not json", stats) is None
    counted = stats.snapshot()["rejected"]
    assert counted == {"bad_signature": 3, "not_requested": 1, "replayed": 1, "topic_mismatch": 1,
                       "malformed": 1}
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rejections)).scalar_one() == 7


def test_an_answer_signed_by_another_key_does_not_verify(server_key):
    from hajiri_wire.key_rotation import KeyRotationAnswer, sign_answer

    answer = sign_answer(KeyRotationAnswer(device_id="kiosk-01", new_public_key=DeviceKey.generate().public_b64,
                                           requested_version=1, outcome="accepted", server_time=AT),
                         DeviceKey.generate())
    with pytest.raises(BadSignature):
        verify_answer(answer, server_key.public)
