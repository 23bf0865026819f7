"""The uplink guard: every kind's topic, size, schema and claimed device refused by reason; the device's standing
read in the caller's transaction (SQLite and PostgreSQL); the uplink topic helpers it parses with."""

import json

import pytest

from central_server.devices.registry import revoke_device
from central_server.ingest.guard import Device, Refused, Uplink, active_device, screen
from hajiri_wire import Heartbeat, RecordBatch, encode_batch, topics
from hajiri_wire.downlink import DownlinkStatus
from tests.central_server.ingest.uplinks import payload_of

MESSAGE_TYPES = {"records": RecordBatch, "heartbeat": Heartbeat, "evidence": "EvidenceMessage",
                 "downlink_status": DownlinkStatus, "key_rotation": "KeyRotation"}


@pytest.mark.parametrize("kind", topics.UPLINK_KINDS)
def test_a_good_uplink_of_each_kind_passes_decoded_with_its_device(kind, new_kiosk):
    kiosk = new_kiosk()
    uplink = screen(topics.uplink(kind, "kiosk-01"), payload_of(kind, kiosk), received_unix_ms=1234)
    assert isinstance(uplink, Uplink)
    assert (uplink.kind, uplink.device_id, uplink.received_unix_ms) == (kind, "kiosk-01", 1234)
    assert type(uplink.message).__name__ == getattr(MESSAGE_TYPES[kind], "__name__", MESSAGE_TYPES[kind])
    assert uplink.message.device_id == "kiosk-01"


def refusal(topic: str, payload: bytes, **kw) -> Refused:
    with pytest.raises(Refused) as caught:
        screen(topic, payload, **kw)
    return caught.value


@pytest.mark.parametrize("kind", topics.UPLINK_KINDS)
def test_each_kind_is_refused_by_reason(kind, new_kiosk):
    kiosk, topic = new_kiosk(), topics.uplink(kind, "kiosk-01")
    good = payload_of(kind, kiosk)
    cases = {
        "malformed": (topic, b"\x00\xff not json"),
        "too_large": (topic, b"{" + b" " * 2_000_000 + b"}"),
        "schema_version": (topic, json.dumps({**json.loads(good), "schema_version": 99}).encode()),
        "topic_mismatch": (topics.uplink(kind, "kiosk-02"), good),
    }
    for reason, (where, payload) in cases.items():
        got = refusal(where, payload)
        assert (got.rejection.reason, got.kind, got.uplink) == (reason, kind, None), (kind, reason)
        assert got.rejection.device_id == topics.uplink_of(where)[1] and got.rejection.detail
    other = next(k for k in topics.UPLINK_KINDS if k != kind)
    wrong = refusal(topics.uplink(other, "kiosk-01"), good, expect=kind)  # an entry point of one kind only
    assert (wrong.rejection.reason, wrong.kind, wrong.rejection.device_id) == ("bad_topic", kind, None)


def test_a_records_batch_speaking_for_another_device_in_one_record_is_a_mismatch(new_kiosk):
    kiosk = new_kiosk()
    mine, theirs = kiosk.record(), kiosk.record().model_copy(update={"device_id": "kiosk-02"})
    got = refusal(topics.records("kiosk-01"),
                  encode_batch(RecordBatch(device_id="kiosk-01", records=[mine, theirs])))
    assert got.rejection.reason == "topic_mismatch" and "kiosk-02" in got.rejection.detail


@pytest.mark.parametrize("topic", [
    "nope", "hajiri/v1/dev/kiosk-01/up/records/extra", "hajiri/v1/dev/kiosk-01/down/acks",
    "hajiri/v1/dev/kiosk-01/up/selfie", "hajiri/v2/dev/kiosk-01/up/records", "hajiri/v1/site/kiosk-01/up/records"])
def test_what_is_no_uplink_topic_is_a_bad_topic_of_no_kind(topic, new_kiosk):
    assert topics.uplink_of(topic) is None
    got = refusal(topic, payload_of("records", new_kiosk()))
    assert (got.rejection.reason, got.kind, got.rejection.device_id) == ("bad_topic", None, None)


def test_uplink_topics_are_the_kinds_templates():
    assert topics.uplink("records", "k") == topics.records("k")
    assert topics.uplink("heartbeat", "k") == topics.heartbeat("k")
    assert topics.uplink("evidence", "k") == topics.evidence("k")
    assert topics.uplink("downlink_status", "k") == topics.downlink_status("k")
    assert topics.uplink("key_rotation", "k") == topics.key_rotation("k")
    with pytest.raises(ValueError, match="unknown uplink kind"):
        topics.uplink("acks", "k")


@pytest.mark.parametrize("kind", topics.UPLINK_KINDS)
def test_the_device_must_be_registered_and_active(kind, engine, registered, new_kiosk):
    stranger = new_kiosk("kiosk-09")
    unknown = screen(topics.uplink(kind, "kiosk-09"), payload_of(kind, stranger, "kiosk-09"))
    with engine.begin() as conn, pytest.raises(Refused) as caught:
        active_device(conn, unknown)
    assert caught.value.rejection.reason == "unknown_device" and caught.value.uplink is unknown
    mine = screen(topics.uplink(kind, "kiosk-01"), payload_of(kind, registered))
    with engine.begin() as conn:
        assert active_device(conn, mine) == Device("kiosk-01", "office-1", registered.key.public_b64)
        revoke_device(conn, "kiosk-01", actor="test")
        with pytest.raises(Refused) as caught:  # read in the caller's transaction: the revocation counts at once
            active_device(conn, mine)
    rejection = caught.value.rejection
    assert (rejection.reason, rejection.device_id, caught.value.kind) == ("revoked_device", "kiosk-01", kind)
