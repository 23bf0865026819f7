"""The record contract: signing, tamper detection, hash chain, strict parsing of batches and acks."""

import json
import time

import pytest

from hajiri_wire import (
    GENESIS_HASH,
    DeviceKey,
    MalformedPayload,
    PayloadTooLarge,
    RecordBatch,
    UnsignedRecord,
    UnsupportedSchema,
    decode_batch,
    encode_batch,
    record_hash,
    sign_record,
    verify_chain,
    verify_record,
)
from hajiri_wire import ids as hajiri_ids
from hajiri_wire.errors import BadSignature
from hajiri_wire.ids import uuid7, uuid7_unix_ms
from hajiri_wire.messages import MAX_PAYLOAD_BYTES


def make_chain(key: DeviceKey, n: int, device_id: str = "kiosk-01"):
    prev, out = GENESIS_HASH, []
    for seq in range(1, n + 1):
        body = UnsignedRecord(
            record_id=uuid7(), device_id=device_id, site_id="office-1", seq=seq, person_id=f"p{seq}",
            event="IN", wall_time="2026-11-25T09:00:00.000Z", boot_id="boot-a", mono_ns=seq * 1000,
            clock_synced=False, match_score=0.61, liveness_score=None, model_version="sface-2021dec-int8bq",
            prev_hash=prev)
        rec = sign_record(body, key)
        out.append(rec)
        prev = record_hash(rec)
    return out


def test_signed_record_verifies_and_survives_the_wire():
    key = DeviceKey.generate()
    recs = make_chain(key, 3)
    batch = decode_batch(encode_batch(RecordBatch(device_id="kiosk-01", records=recs)))
    for rec in batch.records:
        verify_record(rec, key.public)
    assert [r.record_id for r in batch.records] == [r.record_id for r in recs]


@pytest.mark.parametrize("field,value", [("person_id", "p999"), ("event", "OUT"), ("match_score", 0.99),
                                         ("wall_time", "2026-11-25T08:00:00.000Z"), ("seq", 7)])
def test_any_changed_field_breaks_the_signature(field, value):
    key = DeviceKey.generate()
    rec = make_chain(key, 1)[0]
    forged = rec.model_copy(update={field: value})
    with pytest.raises(BadSignature):
        verify_record(forged, key.public)


def test_another_devices_key_does_not_verify():
    rec = make_chain(DeviceKey.generate(), 1)[0]
    with pytest.raises(BadSignature):
        verify_record(rec, DeviceKey.generate().public)


def test_chain_whole_then_deleted_then_reordered():
    recs = make_chain(DeviceKey.generate(), 5)
    assert verify_chain(recs) == []
    deleted = recs[:2] + recs[3:]
    kinds = {p.kind for p in verify_chain(deleted)}
    assert {"gap", "hash_mismatch"} <= kinds
    reordered = [recs[0], recs[2], recs[1], recs[3], recs[4]]
    kinds = {p.kind for p in verify_chain(reordered)}
    assert "order" in kinds and "hash_mismatch" in kinds


def test_chain_can_start_mid_way():
    recs = make_chain(DeviceKey.generate(), 4)
    assert verify_chain(recs[2:], start_hash=record_hash(recs[1])) == []
    assert verify_chain(recs[2:], start_hash=GENESIS_HASH)[0].kind == "hash_mismatch"


def test_truncated_json_is_malformed():
    payload = encode_batch(RecordBatch(device_id="kiosk-01", records=make_chain(DeviceKey.generate(), 2)))
    with pytest.raises(MalformedPayload, match="not valid JSON"):
        decode_batch(payload[: len(payload) // 2])


def test_wrong_schema_version_is_named():
    obj = json.loads(encode_batch(RecordBatch(device_id="kiosk-01", records=make_chain(DeviceKey.generate(), 1))))
    obj["records"][0]["schema_version"] = 2
    with pytest.raises(UnsupportedSchema, match="records.0.schema_version"):
        decode_batch(json.dumps(obj).encode())
    obj["schema_version"] = 9
    with pytest.raises(UnsupportedSchema):
        decode_batch(json.dumps(obj).encode())


def test_unknown_and_mistyped_fields_are_refused_by_name():
    obj = json.loads(encode_batch(RecordBatch(device_id="kiosk-01", records=make_chain(DeviceKey.generate(), 1))))
    obj["records"][0]["salary_bonus"] = 1
    with pytest.raises(MalformedPayload, match="salary_bonus"):
        decode_batch(json.dumps(obj).encode())
    del obj["records"][0]["salary_bonus"]
    obj["records"][0]["seq"] = "1"
    with pytest.raises(MalformedPayload, match="seq"):
        decode_batch(json.dumps(obj).encode())


def test_oversized_payload_is_refused_before_parsing():
    with pytest.raises(PayloadTooLarge):
        decode_batch(b"{" + b" " * MAX_PAYLOAD_BYTES + b"}")


def test_non_object_payload():
    with pytest.raises(MalformedPayload, match="JSON object"):
        decode_batch(b"[1,2,3]")


def test_uuid7_is_time_ordered_and_carries_its_time(monkeypatch):
    # The generator is monotonic per process: an earlier test that made an id at a later wall time
    # (a replayed kiosk clip, the clock-step test below) holds the timestamp there. Start clean.
    monkeypatch.setattr(hajiri_ids, "_last_ms", 0)
    ids = [uuid7() for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 2000
    assert abs(uuid7_unix_ms(uuid7()) - time.time() * 1000) < 1000


def test_uuid7_stays_ordered_when_the_clock_steps_back():
    later = uuid7(4_000_000_000_000)
    stepped_back = uuid7(1_700_000_000_000)
    assert stepped_back > later
