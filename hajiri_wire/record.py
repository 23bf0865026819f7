"""The attendance record: schema, canonical body, per-device hash chain, Ed25519 signature."""

import hashlib
from dataclasses import dataclass
from typing import Annotated, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hajiri_wire.canonical import canonical_bytes
from hajiri_wire.errors import BadSignature
from hajiri_wire.signing import DeviceKey, verify_signature

SCHEMA_VERSION = 1
GENESIS_HASH = "0" * 64
EVENTS = ("IN", "OUT", "UNKNOWN", "SPOOF")

DeviceId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")]
SiteId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
PersonId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")]
Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# UTC, millisecond precision, always with the Z: one spelling per instant keeps the canonical bytes stable.
UtcTime = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
Score = Annotated[float, Field(ge=-1.0, le=1.0)]


class UnsignedRecord(BaseModel):
    """Every signed field of a record. The kiosk fills it; `sign_record` turns it into an AttendanceRecord."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    record_id: Uuid
    device_id: DeviceId
    site_id: SiteId
    seq: Annotated[int, Field(ge=1)]
    person_id: PersonId | None
    event: Literal["IN", "OUT", "UNKNOWN", "SPOOF"]
    wall_time: UtcTime
    boot_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    mono_ns: Annotated[int, Field(ge=0)]
    clock_synced: bool
    match_score: Score | None
    liveness_score: Score | None
    model_version: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    prev_hash: Hex64

    def body_bytes(self) -> bytes:
        """The canonical bytes that are hashed (chain) and signed."""
        return canonical_bytes(self.model_dump(mode="json", include=set(UnsignedRecord.model_fields)))


class AttendanceRecord(UnsignedRecord):
    """A signed record as it travels: the body plus `sig`, base64 Ed25519 over `body_bytes()`."""

    sig: Annotated[str, StringConstraints(min_length=1, max_length=200)]

    def to_wire(self) -> dict:
        return self.model_dump(mode="json")


def record_hash(record: UnsignedRecord) -> str:
    """The link the next record of the same device carries as prev_hash."""
    return hashlib.sha256(record.body_bytes()).hexdigest()


def sign_record(body: UnsignedRecord, key: DeviceKey) -> AttendanceRecord:
    return AttendanceRecord(**body.model_dump(), sig=key.sign(body.body_bytes()))


def verify_record(record: AttendanceRecord, public: Ed25519PublicKey) -> None:
    """Raises BadSignature unless `record` was signed by the holder of `public`."""
    if not isinstance(record, AttendanceRecord):
        raise BadSignature("not a signed record")
    verify_signature(public, record.body_bytes(), record.sig)


@dataclass(frozen=True)
class ChainProblem:
    """One break in a device's chain: a missing seq, a record out of order, or a hash that does not link."""

    seq: int
    record_id: str
    kind: Literal["gap", "order", "hash_mismatch", "duplicate_seq", "bad_genesis"]
    detail: str


def verify_chain(records: list[UnsignedRecord], *, start_hash: str | None = None) -> list[ChainProblem]:
    """Check records of one device, in the order given, against the hash chain and seq numbers.

    An empty list means the chain is whole. `start_hash` is the hash of the record before the first one
    given (None: the first one must be seq 1 and link to GENESIS_HASH).
    """
    problems: list[ChainProblem] = []
    prev_hash = GENESIS_HASH if start_hash is None else start_hash
    prev_seq: int | None = None
    for rec in records:
        if prev_seq is None:
            if start_hash is None and rec.seq != 1:
                problems.append(ChainProblem(rec.seq, rec.record_id, "bad_genesis",
                                             f"first record is seq {rec.seq}, not seq 1"))
        elif rec.seq == prev_seq:
            problems.append(ChainProblem(rec.seq, rec.record_id, "duplicate_seq", f"seq {rec.seq} twice"))
        elif rec.seq < prev_seq:
            problems.append(ChainProblem(rec.seq, rec.record_id, "order",
                                         f"seq {rec.seq} comes after seq {prev_seq}"))
        elif rec.seq > prev_seq + 1:
            problems.append(ChainProblem(rec.seq, rec.record_id, "gap",
                                         f"seq {prev_seq + 1}..{rec.seq - 1} missing"))
        if rec.prev_hash != prev_hash:
            before = "genesis" if prev_seq is None and start_hash is None else f"the record before (seq {prev_seq})"
            problems.append(ChainProblem(rec.seq, rec.record_id, "hash_mismatch",
                                         f"prev_hash does not link to {before}"))
        prev_hash, prev_seq = record_hash(rec), rec.seq
    return problems
