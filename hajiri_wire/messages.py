"""MQTT payloads: a batch of records going up, an ack coming down. Size-capped, strictly parsed."""

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from hajiri_wire.canonical import canonical_bytes
from hajiri_wire.errors import MalformedPayload, PayloadTooLarge, UnsupportedSchema
from hajiri_wire.record import SCHEMA_VERSION, AttendanceRecord, DeviceId, UtcTime

MAX_BATCH_RECORDS = 200
MAX_PAYLOAD_BYTES = 256 * 1024


class RecordBatch(BaseModel):
    """Up: records of one device, in seq order."""

    model_config = ConfigDict(extra="forbid", strict=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    device_id: DeviceId
    records: Annotated[list[AttendanceRecord], Field(min_length=1, max_length=MAX_BATCH_RECORDS)]


class AckResult(BaseModel):
    """The server's word on one record: stored now, stored before (a resend), or rejected for good."""

    model_config = ConfigDict(extra="forbid", strict=True)

    record_id: str
    status: Literal["stored", "duplicate", "rejected"]
    reason: Annotated[str, StringConstraints(max_length=200)] | None = None


class Ack(BaseModel):
    """Down: sent only after the server's DB commit, so a kiosk may forget nothing it has not seen acked."""

    model_config = ConfigDict(extra="forbid", strict=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    device_id: DeviceId
    server_time: UtcTime
    results: list[AckResult]


def _decode_json(payload: bytes, what: str) -> dict:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(f"{what}: {len(payload)} bytes, more than the {MAX_PAYLOAD_BYTES} allowed")
    try:
        obj = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MalformedPayload(f"{what}: not valid JSON ({e})") from e
    if not isinstance(obj, dict):
        raise MalformedPayload(f"{what}: expected a JSON object, got {type(obj).__name__}")
    version = obj.get("schema_version")
    if version != SCHEMA_VERSION:
        raise UnsupportedSchema(f"{what}: schema_version {version!r}, this server speaks {SCHEMA_VERSION}")
    return obj


def _errors(e: ValidationError) -> str:
    first = e.errors()[:3]
    return "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in first)


def encode_batch(batch: RecordBatch) -> bytes:
    return canonical_bytes(batch.model_dump(mode="json"))


def decode_batch(payload: bytes) -> RecordBatch:
    obj = _decode_json(payload, "record batch")
    records = obj.get("records")
    if isinstance(records, list):
        for i, rec in enumerate(records):
            if isinstance(rec, dict) and rec.get("schema_version") != SCHEMA_VERSION:
                raise UnsupportedSchema(
                    f"record batch: records.{i}.schema_version {rec.get('schema_version')!r}, "
                    f"this server speaks {SCHEMA_VERSION}")
    try:
        return RecordBatch.model_validate(obj)
    except ValidationError as e:
        raise MalformedPayload(f"record batch: {_errors(e)}") from e


def encode_ack(ack: Ack) -> bytes:
    return canonical_bytes(ack.model_dump(mode="json"))


def decode_ack(payload: bytes) -> Ack:
    obj = _decode_json(payload, "ack")
    try:
        return Ack.model_validate(obj)
    except ValidationError as e:
        raise MalformedPayload(f"ack: {_errors(e)}") from e
