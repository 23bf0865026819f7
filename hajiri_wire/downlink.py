"""Server -> kiosk downlink: signed envelopes (gallery, config, command, notices), sealed galleries, status reports.

Every downlink is a `DownlinkEnvelope` signed with the *server's* Ed25519 key over its canonical body (all
fields but `sig`). A kiosk applies one only when it names this kiosk, is signed by the server key it was
provisioned with, and carries a version above the one it last applied for that kind (so a replayed or older
envelope, a rollback, is refused). A gallery's templates are sealed to the kiosk's X25519 key (ephemeral ECDH,
HKDF-SHA256, AES-256-GCM): the broker and anyone holding the server's broker account see only ciphertext.
"""

import base64
import json
import time
from typing import Annotated, Any, Literal

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from hajiri_common.timefmt import utc_iso
from hajiri_wire.canonical import canonical_bytes
from hajiri_wire.errors import BadSignature, MalformedPayload, PayloadTooLarge, WireError
from hajiri_wire.record import SCHEMA_VERSION, DeviceId, PersonId, UtcTime
from hajiri_wire.sealing import ALG as SEAL_ALG
from hajiri_wire.sealing import SealOpenError, key_id, open_bytes, raw_public, seal_bytes
from hajiri_wire.signing import DeviceKey, verify_signature
from hajiri_wire.strict_json import json_object, validation_summary

KINDS = ("gallery", "config", "command", "notices")
Kind = Literal["gallery", "config", "command", "notices"]
# Under mosquitto's message_size_limit (1 MiB): about 1,350 people with one SFace template (128 float32) each.
MAX_BYTES = {"gallery": 1_000_000, "config": 64 * 1024, "command": 16 * 1024, "notices": 32 * 1024}
MAX_DOWNLINK_BYTES = max(MAX_BYTES.values())
MAX_STATUS_BYTES = 4 * 1024
KeyId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
B64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]*={0,2}$", max_length=2_000_000)]


class UnknownKind(WireError):
    """A downlink kind this code does not know (gallery, config, command, notices)."""

    reason = "unknown_kind"


class WrongDevice(WireError):
    """An envelope addressed to another device, or arriving on a topic of another kind."""

    reason = "wrong_device"


class UnknownServerKey(WireError):
    """Signed under a server key id this kiosk was not provisioned with (or it has no server key at all)."""

    reason = "unknown_key"


class StaleVersion(WireError):
    """Version not above the last applied one for its kind: a replay or a rollback."""

    reason = "stale_version"


class CannotDecrypt(WireError):
    """A sealed payload that does not open with this device's X25519 key (wrong key, tampered, no key)."""

    reason = "undecryptable"


class DownlinkEnvelope(BaseModel):
    """Down: one version of one kind for one device. `sig` covers every other field, canonically encoded."""

    model_config = ConfigDict(extra="forbid", strict=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    kind: Kind
    device_id: DeviceId
    version: Annotated[int, Field(ge=1, le=2**53)]
    issued_at: UtcTime
    key_id: KeyId
    payload: dict[str, Any]
    sig: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SealedPayload(BaseModel):
    """A payload encrypted to one device: ephemeral X25519 public key, AES-GCM nonce and ciphertext."""

    model_config = ConfigDict(extra="forbid", strict=True)

    alg: Literal["x25519-hkdf-sha256-aes256gcm"] = SEAL_ALG
    epk: B64
    nonce: B64
    ct: B64


class GalleryPerson(BaseModel):
    """One enrolled person: id, display name, one or more templates (base64 of little-endian float32)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    person_id: PersonId
    name: Annotated[str, StringConstraints(max_length=200)]
    templates: Annotated[list[B64], Field(min_length=1, max_length=50)]


class GalleryContent(BaseModel):
    """What a sealed gallery payload decrypts to: the whole gallery of that version (not a diff)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model_version: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    dim: Annotated[int, Field(ge=1, le=4096)]
    people: Annotated[list[GalleryPerson], Field(max_length=100_000)]

    def template_rows(self) -> tuple[list[str], np.ndarray, dict[str, str]]:
        """(person id per row, (rows, dim) float32 matrix, names); MalformedPayload names a bad template."""
        ids: list[str] = []
        rows: list[np.ndarray] = []
        for person in self.people:
            for i, b64 in enumerate(person.templates):
                raw = base64.b64decode(b64)
                if len(raw) != 4 * self.dim:
                    raise MalformedPayload(f"gallery: {person.person_id} template {i} has {len(raw)} bytes, "
                                           f"expected {4 * self.dim} ({self.dim} float32)")
                rows.append(np.frombuffer(raw, "<f4"))
                ids.append(person.person_id)
        matrix = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, self.dim), np.float32)
        return ids, matrix, {p.person_id: p.name for p in self.people}


def template_b64(embedding: np.ndarray) -> str:
    """One template as it travels inside a gallery: base64 of its little-endian float32 values."""
    return base64.b64encode(np.asarray(embedding, "<f4").reshape(-1).tobytes()).decode()


class ShiftTime(BaseModel):
    """A shift the kiosk shows and uses to pick IN/OUT: HH:MM local start and end."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    start: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
    end: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class SiteConfig(BaseModel):
    """Site settings pushed to kiosks; the ranges are hajiri_wire.site_config.SiteSettings' (both sides check)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    match_threshold: float | None = None
    match_margin: float | None = None
    debounce_minutes: float | None = None
    direction: Literal["in", "out", "toggle"] | None = None
    liveness_threshold: float | None = None
    shifts: Annotated[list[ShiftTime], Field(max_length=16)] = Field(default_factory=list)

    def kiosk_overrides(self) -> dict[str, Any]:
        """The keys of kiosk.config.KioskConfig this config sets (liveness nested as there)."""
        out: dict[str, Any] = {k: getattr(self, k) for k in ("match_threshold", "match_margin", "debounce_minutes",
                                                            "direction") if getattr(self, k) is not None}
        if self.liveness_threshold is not None:
            out["liveness"] = {"threshold": self.liveness_threshold}
        return out


class Command(BaseModel):
    """An instruction to the kiosk: resend what the server lacks, rotate a key, reload gallery and config."""

    model_config = ConfigDict(extra="forbid", strict=True)

    command: Literal["resync", "rotate_key", "reload"]
    note: Annotated[str, StringConstraints(max_length=200)] = ""


# A kiosk screen shows a few lines, not a circular: the text is cut to this many characters on the server.
NOTICE_TEXT_CHARS = 600
MAX_KIOSK_NOTICES = 20


class KioskNotice(BaseModel):
    """One group notice as a kiosk shows it: who it went to, its title and (possibly shortened) text."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: Annotated[int, Field(ge=1, le=2**53)]
    audience: Literal["site", "district", "all"]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    text: Annotated[str, StringConstraints(max_length=NOTICE_TEXT_CHARS)]
    created_at: UtcTime


class NoticeList(BaseModel):
    """The notices payload: the newest notices reaching the kiosk's site, newest first (the whole list)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    notices: Annotated[list[KioskNotice], Field(max_length=MAX_KIOSK_NOTICES)]


class DownlinkStatus(BaseModel):
    """Up: what the kiosk did with one downlink message. Not signed: the broker ACL vouches for the device."""

    model_config = ConfigDict(extra="forbid", strict=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    device_id: DeviceId
    kind: Kind | None  # None: the message was too broken to say
    version: Annotated[int, Field(ge=1)] | None
    outcome: Literal["applied", "refused"]
    reason: Annotated[str, StringConstraints(max_length=64)] | None = None
    detail: Annotated[str, StringConstraints(max_length=500)] | None = None
    current_version: Annotated[int, Field(ge=1)] | None = None  # the version of this kind in effect now
    at: UtcTime


# ---- keys ------------------------------------------------------------------------------------------------


def x25519_public_b64(public: X25519PublicKey) -> str:
    return base64.b64encode(raw_public(public)).decode()


def load_x25519_public(b64: str) -> X25519PublicKey:
    try:
        return X25519PublicKey.from_public_bytes(base64.b64decode(b64, validate=True))
    except ValueError as e:
        raise MalformedPayload(f"not a base64 X25519 public key: {e}") from e


# ---- sealing (hajiri_wire.sealing) --------------------------------------------------------------------------

SEAL_LABEL = b"hajiri/v1 downlink gallery"


def seal(plaintext: bytes, recipient: X25519PublicKey, aad: bytes) -> SealedPayload:
    """Encrypt to `recipient` with a fresh ephemeral key: only the holder of its private key can open it."""
    epk, nonce, ct = seal_bytes(plaintext, recipient, aad, SEAL_LABEL)
    b64 = base64.b64encode
    return SealedPayload(epk=b64(epk).decode(), nonce=b64(nonce).decode(), ct=b64(ct).decode())


def open_sealed(sealed: SealedPayload, private: X25519PrivateKey, aad: bytes) -> bytes:
    """Decrypt a sealed payload; CannotDecrypt when it was sealed to another key or altered."""
    try:
        return open_bytes(base64.b64decode(sealed.epk), base64.b64decode(sealed.nonce),
                          base64.b64decode(sealed.ct), private, aad, SEAL_LABEL)
    except (SealOpenError, ValueError) as e:
        raise CannotDecrypt("sealed payload does not open with this device's X25519 key "
                            "(sealed to another key, or altered)") from e


def seal_aad(device_id: str, version: int) -> bytes:
    """Binds a ciphertext to its device and version: it cannot be lifted into another envelope."""
    return f"hajiri/v1 gallery|{device_id}|{version}".encode()


# ---- envelopes --------------------------------------------------------------------------------------------


def _signed_body(env: DownlinkEnvelope) -> bytes:
    return canonical_bytes(env.model_dump(mode="json", exclude={"sig"}))


def sign_envelope(kind: str, device_id: str, version: int, payload: dict[str, Any], key: DeviceKey,
                  *, issued_at: float | None = None) -> DownlinkEnvelope:
    """A signed envelope; `key` is the server's Ed25519 signing key."""
    if kind not in KINDS:
        raise UnknownKind(f"downlink kind {kind!r} is not one of {', '.join(KINDS)}")
    body = {"schema_version": SCHEMA_VERSION, "kind": kind, "device_id": device_id, "version": version,
            "issued_at": utc_iso(time.time() if issued_at is None else issued_at), "key_id": key_id(key.public),
            "payload": payload}
    # Round-trip through JSON so the signed bytes are exactly what the kiosk will re-encode.
    body = json.loads(canonical_bytes(body))
    return DownlinkEnvelope.model_validate({**body, "sig": key.sign(canonical_bytes(body))})


def encode_envelope(env: DownlinkEnvelope) -> bytes:
    return canonical_bytes(env.model_dump(mode="json"))


def decode_envelope(payload: bytes, topic_kind: str | None = None) -> DownlinkEnvelope:
    """Parse strictly; the size cap is the topic's kind's (checked before parsing) when it is known."""
    limit = MAX_BYTES.get(topic_kind or "", MAX_DOWNLINK_BYTES)
    obj = json_object(payload, "downlink", limit)
    if obj.get("kind") not in KINDS:
        raise UnknownKind(f"downlink: kind {obj.get('kind')!r} is not one of {', '.join(KINDS)}")
    if len(payload) > MAX_BYTES[obj["kind"]]:
        raise PayloadTooLarge(f"downlink {obj['kind']}: {len(payload)} bytes, more than the "
                              f"{MAX_BYTES[obj['kind']]} allowed")
    try:
        return DownlinkEnvelope.model_validate(obj)
    except ValidationError as e:
        raise MalformedPayload(f"downlink: {validation_summary(e)}") from e


def verify_envelope(env: DownlinkEnvelope, *, server_key: Ed25519PublicKey | None, device_id: str,
                    last_version: int | None, topic_kind: str | None = None) -> None:
    """Refuse (with a named error) anything a kiosk must not apply; returns only for a good, newer envelope."""
    if topic_kind is not None and env.kind != topic_kind:
        raise WrongDevice(f"a {env.kind} envelope arrived on the {topic_kind} topic", reason="wrong_topic")
    if env.device_id != device_id:
        raise WrongDevice(f"envelope is addressed to {env.device_id!r}, this device is {device_id!r}")
    if server_key is None:
        raise UnknownServerKey("this kiosk has no server public key (server_key.pub); "
                               "run `hajiri provision --server-key ...` to install it")
    if env.key_id != key_id(server_key):
        raise UnknownServerKey(f"signed with server key {env.key_id}, this kiosk trusts {key_id(server_key)}")
    try:
        verify_signature(server_key, _signed_body(env), env.sig)
    except BadSignature as e:
        raise BadSignature(f"{env.kind} v{env.version}: signature does not verify against the server key") from e
    if last_version is not None and env.version <= last_version:
        raise StaleVersion(f"{env.kind} v{env.version} is not newer than the applied v{last_version} "
                           "(replay or rollback)")


def parse_payload(env: DownlinkEnvelope) -> SealedPayload | SiteConfig | Command | NoticeList:
    """The envelope's payload as its kind's model; MalformedPayload names the bad field."""
    model = {"gallery": SealedPayload, "config": SiteConfig, "command": Command, "notices": NoticeList}[env.kind]
    try:
        return model.model_validate(env.payload)
    except ValidationError as e:
        raise MalformedPayload(f"downlink {env.kind} payload: {validation_summary(e)}") from e


GALLERY_MAGIC = b"HJDG\x01"


def encode_gallery_content(content: GalleryContent) -> bytes:
    """Binary, not JSON: the templates go in as raw float32 (base64 only once, around the ciphertext), which
    fits about 1,350 people under the broker's 1 MiB limit instead of about 990."""
    ids, matrix, _ = content.template_rows()
    meta = canonical_bytes({"model_version": content.model_version, "dim": content.dim,
                            "people": [[p.person_id, p.name, len(p.templates)] for p in content.people]})
    return GALLERY_MAGIC + len(meta).to_bytes(4, "big") + meta + matrix.astype("<f4").tobytes()


def decode_gallery_content(plain: bytes) -> GalleryContent:
    """The inverse of encode_gallery_content; MalformedPayload names what does not add up."""
    if not plain.startswith(GALLERY_MAGIC) or len(plain) < len(GALLERY_MAGIC) + 4:
        raise MalformedPayload("gallery content: not a Hajiri gallery payload (bad magic)")
    start = len(GALLERY_MAGIC) + 4
    n = int.from_bytes(plain[len(GALLERY_MAGIC):start], "big")
    try:
        meta = json.loads(plain[start:start + n])
        dim, people = int(meta["dim"]), meta["people"]
        counts = [int(c) for _, _, c in people]
    except (ValueError, KeyError, TypeError) as e:
        raise MalformedPayload(f"gallery content: unreadable header ({e})") from e
    block = plain[start + n:]
    if dim < 1 or min(counts, default=1) < 1 or len(block) != 4 * dim * sum(counts):
        raise MalformedPayload(f"gallery content: {len(block)} template bytes do not match {sum(counts)} "
                               f"templates of {dim} float32")
    rows = np.frombuffer(block, "<f4").reshape(-1, dim)
    out, row = [], 0
    for (person_id, name, _), count in zip(people, counts, strict=True):
        out.append({"person_id": person_id, "name": name,
                    "templates": [template_b64(rows[row + i]) for i in range(count)]})
        row += count
    try:
        return GalleryContent.model_validate({"model_version": meta.get("model_version"), "dim": dim,
                                              "people": out})
    except ValidationError as e:
        raise MalformedPayload(f"gallery content: {validation_summary(e)}") from e


def encode_status(status: DownlinkStatus) -> bytes:
    return canonical_bytes(status.model_dump(mode="json"))


def decode_status(payload: bytes) -> DownlinkStatus:
    obj = json_object(payload, "downlink status", MAX_STATUS_BYTES)
    try:
        return DownlinkStatus.model_validate(obj)
    except ValidationError as e:
        raise MalformedPayload(f"downlink status: {validation_summary(e)}") from e
