"""MQTT payloads: a batch of records going up, an ack coming down. Size-capped, strictly parsed."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from hajiri_wire.canonical import canonical_bytes
from hajiri_wire.errors import MalformedPayload, UnsupportedSchema
from hajiri_wire.record import SCHEMA_VERSION, AttendanceRecord, DeviceId, UtcTime
from hajiri_wire.strict_json import json_object, parse_model, validation_summary

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
    return json_object(payload, what, MAX_PAYLOAD_BYTES)


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
        raise MalformedPayload(f"record batch: {validation_summary(e)}") from e


def encode_ack(ack: Ack) -> bytes:
    return canonical_bytes(ack.model_dump(mode="json"))


def decode_ack(payload: bytes) -> Ack:
    return parse_model(payload, Ack, "ack", MAX_PAYLOAD_BYTES)


MAX_HEARTBEAT_BYTES = 8 * 1024
ModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class Heartbeat(BaseModel):
    """Up, every N seconds: how the kiosk is doing. Not signed: the broker ACL vouches for the topic's device.

    `mono_ns` is read when `sent_at` is: the server pairs it with its own receive time to anchor the boot's
    monotonic clock to true time. `clock_offset_s` is the kiosk's estimate of (server time - local time)
    from ack exchanges, `clock_rtt_s` the round trip of the exchange it came from (None: no ack yet).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    device_id: DeviceId
    sent_at: UtcTime
    boot_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    mono_ns: Annotated[int, Field(ge=0)]
    uptime_s: Annotated[float, Field(ge=0)]
    clock_synced: bool
    clock_offset_s: float | None = None
    clock_rtt_s: Annotated[float, Field(ge=0)] | None = None
    queue_depth: Annotated[int, Field(ge=0)]
    oldest_unsent_age_s: Annotated[float, Field(ge=0)] | None = None
    inflight_batches: Annotated[int, Field(ge=0)] = 0
    cpu_temp_c: Annotated[float, Field(ge=-100, le=200)] | None = None
    disk_free_bytes: Annotated[int, Field(ge=0)] | None = None
    model_versions: Annotated[dict[ModelName, Annotated[str, StringConstraints(max_length=128)]],
                              Field(max_length=16)] = Field(default_factory=dict)
    last_error: Annotated[str, StringConstraints(max_length=500)] | None = None
    # Liveness policy as the kiosk's config has it (None: an older agent that does not say); the server
    # logs every change. Evidence: crops waiting to go up, and False when no server key lets them go.
    liveness_enabled: bool | None = None
    evidence_pending: Annotated[int, Field(ge=0)] | None = None
    evidence_uplink: bool | None = None


def encode_heartbeat(heartbeat: Heartbeat) -> bytes:
    return canonical_bytes(heartbeat.model_dump(mode="json"))


def decode_heartbeat(payload: bytes) -> Heartbeat:
    return parse_model(payload, Heartbeat, "heartbeat", MAX_HEARTBEAT_BYTES)
