"""The wire contract shared by kiosk, sync agent and central server: record schema, topics, signing."""

from hajiri_wire.errors import (
    BadSignature,
    ChainBroken,
    MalformedPayload,
    PayloadTooLarge,
    UnsupportedSchema,
    WireError,
)
from hajiri_wire.messages import (
    Ack,
    AckResult,
    RecordBatch,
    decode_ack,
    decode_batch,
    encode_ack,
    encode_batch,
)
from hajiri_wire.record import (
    EVENTS,
    GENESIS_HASH,
    SCHEMA_VERSION,
    AttendanceRecord,
    ChainProblem,
    UnsignedRecord,
    record_hash,
    sign_record,
    verify_chain,
    verify_record,
)
from hajiri_wire.signing import DeviceKey, load_public_key, public_key_b64

__all__ = [
    "EVENTS",
    "GENESIS_HASH",
    "SCHEMA_VERSION",
    "Ack",
    "AckResult",
    "AttendanceRecord",
    "BadSignature",
    "ChainBroken",
    "ChainProblem",
    "DeviceKey",
    "MalformedPayload",
    "PayloadTooLarge",
    "RecordBatch",
    "UnsignedRecord",
    "UnsupportedSchema",
    "WireError",
    "decode_ack",
    "decode_batch",
    "encode_ack",
    "encode_batch",
    "load_public_key",
    "public_key_b64",
    "record_hash",
    "sign_record",
    "verify_chain",
    "verify_record",
]
