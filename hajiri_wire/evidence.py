"""Spoof evidence on the wire: a face crop sealed to the server's X25519 key and signed by the device.

Sealing: an ephemeral X25519 key agrees a secret with the server's evidence key; HKDF-SHA256 turns it into an
AES-256-GCM key. The (device_id, record_id, taken_at) triple is the AAD, so a crop cannot be moved to another
record. The device signs every other field with its Ed25519 key (the same key that signs its records), so the
server knows which kiosk took it. Only the server's private key opens the crop; the broker never sees it.
"""

import base64
import binascii
from pathlib import Path
from typing import Annotated, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import BaseModel, ConfigDict, StringConstraints

from hajiri_common.files import PrivateFileError, create_private, read_private
from hajiri_wire.canonical import canonical_bytes
from hajiri_wire.errors import PayloadTooLarge, WireError
from hajiri_wire.record import SCHEMA_VERSION, DeviceId, UtcTime, Uuid
from hajiri_wire.sealing import ALG, SealOpenError, key_id, open_bytes, raw_public, seal_bytes
from hajiri_wire.signing import DeviceKey, verify_signature
from hajiri_wire.strict_json import parse_model

SEAL_LABEL = b"hajiri/v1 evidence crop"
# A <=160 px JPEG is a few KiB; this leaves room and still refuses a flood before any parsing.
MAX_EVIDENCE_JPEG_BYTES = 48 * 1024
MAX_EVIDENCE_BYTES = 96 * 1024

B64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]*={0,2}$", max_length=MAX_EVIDENCE_BYTES)]
KeyId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]


class EvidenceKeyError(RuntimeError):
    """The evidence key file is missing, unreadable, too open, or not an X25519 key."""


class EvidenceSealError(WireError):
    """Evidence that cannot be opened with this key (wrong key, or the ciphertext was altered)."""

    reason = "evidence_undecryptable"


class UnsignedEvidence(BaseModel):
    """Every signed field of an evidence message."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    device_id: DeviceId
    record_id: Uuid
    taken_at: UtcTime
    alg: Literal["x25519-hkdf-sha256-aes256gcm"] = ALG
    server_key_id: KeyId  # which server key it was sealed to (a rotated key is named, not guessed)
    ephemeral_public: B64
    nonce: B64
    ciphertext: B64

    def body_bytes(self) -> bytes:
        return canonical_bytes(self.model_dump(mode="json", include=set(UnsignedEvidence.model_fields)))

    def aad(self) -> bytes:
        return canonical_bytes({"device_id": self.device_id, "record_id": self.record_id,
                                "taken_at": self.taken_at})


class EvidenceMessage(UnsignedEvidence):
    """Up, on dev/<id>/up/evidence: the sealed crop plus `sig`, base64 Ed25519 over `body_bytes()`."""

    sig: Annotated[str, StringConstraints(min_length=1, max_length=200)]


def evidence_public_b64(public: X25519PublicKey) -> str:
    return base64.b64encode(raw_public(public)).decode()


def load_evidence_public_key(b64: str) -> X25519PublicKey:
    """The server's evidence public key from its base64 (as printed by `EvidenceKey.public_b64`)."""
    try:
        return X25519PublicKey.from_public_bytes(base64.b64decode(b64.strip(), validate=True))
    except (ValueError, binascii.Error) as e:
        raise EvidenceKeyError(f"not a base64 X25519 public key (32 bytes): {e}") from e


class EvidenceKey:
    """The server's private evidence key (X25519), kept in a PEM file readable by its owner only."""

    def __init__(self, private: X25519PrivateKey) -> None:
        self._private = private

    @classmethod
    def generate(cls) -> "EvidenceKey":
        return cls(X25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path) -> "EvidenceKey":
        path = Path(path)
        try:
            pem = read_private(path, "evidence key")
        except PrivateFileError as e:
            raise EvidenceKeyError(str(e)) from e
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except ValueError as e:
            raise EvidenceKeyError(f"evidence key {path}: not a PEM private key: {e}") from e
        if not isinstance(key, X25519PrivateKey):
            raise EvidenceKeyError(f"evidence key {path}: not an X25519 private key")
        return cls(key)

    @classmethod
    def load_or_create(cls, path: Path) -> "EvidenceKey":
        """The key in `path`; a new one (mode 0600) when the file does not exist yet."""
        path = Path(path)
        if path.exists():
            return cls.load(path)
        key = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = key._private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        try:
            create_private(path, pem)
        except FileExistsError:  # another worker made it first: its key is the one
            return cls.load(path)
        return key

    @property
    def public(self) -> X25519PublicKey:
        return self._private.public_key()

    @property
    def public_b64(self) -> str:
        return evidence_public_b64(self.public)

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def open(self, msg: UnsignedEvidence) -> bytes:
        """The JPEG inside `msg`; EvidenceSealError when this key cannot open it or it was altered."""
        if msg.server_key_id != self.key_id:
            raise EvidenceSealError(f"evidence sealed to key {msg.server_key_id}, this server holds {self.key_id}")
        try:
            return open_bytes(base64.b64decode(msg.ephemeral_public), base64.b64decode(msg.nonce),
                              base64.b64decode(msg.ciphertext), self._private, msg.aad(), SEAL_LABEL)
        except (SealOpenError, ValueError) as e:
            raise EvidenceSealError("evidence does not decrypt: wrong key, or the crop or its ids were altered") \
                from e


def seal_evidence(jpeg: bytes, *, device_id: str, record_id: str, taken_at: str, device_key: DeviceKey,
                  server_public: X25519PublicKey) -> EvidenceMessage:
    """Encrypt `jpeg` to the server's key and sign the message with the device key."""
    if len(jpeg) > MAX_EVIDENCE_JPEG_BYTES:
        raise PayloadTooLarge(f"evidence crop: {len(jpeg)} bytes, more than the {MAX_EVIDENCE_JPEG_BYTES} allowed")
    # The AAD covers the ids, not the box, so the ids are fixed first and the box made against them.
    shell = UnsignedEvidence(device_id=device_id, record_id=record_id, taken_at=taken_at,
                             server_key_id=key_id(server_public), ephemeral_public="", nonce="", ciphertext="")
    epk, nonce, ct = seal_bytes(jpeg, server_public, shell.aad(), SEAL_LABEL)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731 - local shorthand
    body = shell.model_copy(update={"ephemeral_public": b64(epk), "nonce": b64(nonce), "ciphertext": b64(ct)})
    return EvidenceMessage(**body.model_dump(), sig=device_key.sign(body.body_bytes()))


def verify_evidence(msg: EvidenceMessage, device_public: Ed25519PublicKey) -> None:
    """BadSignature unless the device's key signed exactly these fields."""
    verify_signature(device_public, msg.body_bytes(), msg.sig)


def encode_evidence(msg: EvidenceMessage) -> bytes:
    return canonical_bytes(msg.model_dump(mode="json"))


def decode_evidence(payload: bytes) -> EvidenceMessage:
    """Strict parse; the error names what was wrong (size, JSON, schema version or field)."""
    return parse_model(payload, EvidenceMessage, "evidence", MAX_EVIDENCE_BYTES)
