"""Device key rotation on the wire: the kiosk's request (signed by its old and new keys) and the server's answer.

The request goes up on `up/key_rotation`; `sig_old` proves the registered device asks, `sig_new` proves it holds
the new private key. The answer comes down on `down/key_rotation_ack`, signed by the server's downlink key: the
kiosk swaps its signing key only on an answer it can verify, so a forged "accepted" cannot make it sign with a
key the server does not know.
"""

from typing import Annotated, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hajiri_wire.canonical import canonical_bytes
from hajiri_wire.errors import MalformedPayload
from hajiri_wire.record import SCHEMA_VERSION, DeviceId, UtcTime
from hajiri_wire.signing import DeviceKey, load_public_key, verify_signature
from hajiri_wire.strict_json import parse_model

MAX_ROTATION_BYTES = 4 * 1024
# Domain separation: a rotation signature can never be mistaken for a record, envelope or evidence signature.
REQUEST_PURPOSE = "hajiri.key_rotation.request.v1"
ANSWER_PURPOSE = "hajiri.key_rotation.answer.v1"

PublicKeyB64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{43}=$")]
SigB64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{86}==$")]


class KeyRotation(BaseModel):
    """Up: "replace my registered key with `new_public_key`", asked by the `rotate_key` command `requested_version`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    device_id: DeviceId
    new_public_key: PublicKeyB64
    requested_version: Annotated[int, Field(ge=1)]
    at: UtcTime
    sig_old: SigB64
    sig_new: SigB64

    def body(self) -> bytes:
        """The bytes both signatures cover."""
        obj = self.model_dump(mode="json", exclude={"sig_old", "sig_new"})
        return canonical_bytes({**obj, "purpose": REQUEST_PURPOSE})


class KeyRotationAnswer(BaseModel):
    """Down: the server's verdict on one request (`accepted` means devices.public_key is now the new key)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    device_id: DeviceId
    new_public_key: PublicKeyB64
    requested_version: Annotated[int, Field(ge=1)]
    outcome: Literal["accepted", "refused"]
    reason: Annotated[str, StringConstraints(max_length=64)] | None = None
    detail: Annotated[str, StringConstraints(max_length=500)] | None = None
    server_time: UtcTime
    sig: SigB64 | None = None  # by the server's downlink key, over everything else

    def body(self) -> bytes:
        obj = self.model_dump(mode="json", exclude={"sig"})
        return canonical_bytes({**obj, "purpose": ANSWER_PURPOSE})


def sign_rotation(device_id: str, old_key: DeviceKey, new_key: DeviceKey, requested_version: int,
                  at: str) -> KeyRotation:
    blank = "A" * 86 + "=="
    unsigned = KeyRotation(device_id=device_id, new_public_key=new_key.public_b64,
                           requested_version=requested_version, at=at, sig_old=blank, sig_new=blank)
    body = unsigned.body()
    return unsigned.model_copy(update={"sig_old": old_key.sign(body), "sig_new": new_key.sign(body)})


def verify_rotation(msg: KeyRotation, old_public: Ed25519PublicKey) -> None:
    """Raise BadSignature unless the old key signed it and the new key (the one named) did too."""
    body = msg.body()
    verify_signature(old_public, body, msg.sig_old)
    verify_signature(load_public_key(msg.new_public_key), body, msg.sig_new)


def sign_answer(answer: KeyRotationAnswer, server_key: DeviceKey) -> KeyRotationAnswer:
    return answer.model_copy(update={"sig": server_key.sign(answer.body())})


def verify_answer(answer: KeyRotationAnswer, server_public: Ed25519PublicKey) -> None:
    if answer.sig is None:
        raise MalformedPayload("key rotation answer: unsigned", reason="unsigned")
    verify_signature(server_public, answer.body(), answer.sig)


def encode_rotation(msg: KeyRotation | KeyRotationAnswer) -> bytes:
    return canonical_bytes(msg.model_dump(mode="json"))


def decode_rotation(payload: bytes) -> KeyRotation:
    return parse_model(payload, KeyRotation, "key rotation", MAX_ROTATION_BYTES)


def decode_answer(payload: bytes) -> KeyRotationAnswer:
    return parse_model(payload, KeyRotationAnswer, "key rotation answer", MAX_ROTATION_BYTES)
