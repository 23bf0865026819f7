"""The signature file served beside each frozen report file, and its check.

A signature file is JSON: site_id, month, format, file_sha256, signature (base64), key_id, public_key (base64),
algorithm ("ed25519"), closed_at and closed_by. The Ed25519 signature is over the canonical JSON (sorted keys, no
spaces, ASCII: hajiri_wire.canonical) of every field but "signature", so the file's hash and what it claims to be
(which site, month and format, closed when and by whom, under which key) are signed together: changing any of
them, or one byte of the file, fails the check. key_id is the first 16 hex digits of the sha256 of the raw public
key (hajiri_wire key_id), the same name the kiosks know the server's downlink key by."""

import base64
import hashlib
import json

from hajiri_wire.canonical import canonical_bytes
from hajiri_wire.errors import BadSignature, MalformedPayload
from hajiri_wire.sealing import key_id
from hajiri_wire.signing import DeviceKey, load_public_key, public_key_b64, verify_signature

ALGORITHM = "ed25519"
FIELDS = ("site_id", "month", "format", "file_sha256", "signature", "key_id", "public_key", "algorithm",
          "closed_at", "closed_by")


def file_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def signed_message(sig: dict) -> bytes:
    """The bytes the signature is over: the canonical JSON of every field of the signature file but "signature"."""
    return canonical_bytes({k: v for k, v in sig.items() if k != "signature"})


def sign_report_file(key: DeviceKey, content: bytes, *, site_id: str, month: str, fmt: str, closed_at: str,
                     closed_by: str) -> dict:
    """The signature file (as a dict) of one frozen report file, signed by the server's key."""
    sig = {"site_id": site_id, "month": month, "format": fmt, "file_sha256": file_sha256(content),
           "key_id": key_id(key.public), "public_key": key.public_b64, "algorithm": ALGORITHM,
           "closed_at": closed_at, "closed_by": closed_by}
    return {**sig, "signature": key.sign(signed_message(sig))}


def signature_file_bytes(sig: dict) -> bytes:
    """The signature file as served: indented JSON with sorted keys, ending in a newline."""
    return (json.dumps(sig, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode()


def check_signature_file(content: bytes, sig: object, trusted_public_key: str | None = None) -> str | None:
    """Why `content` and `sig` (a parsed signature file) do not verify, or None when they do. With
    trusted_public_key (base64), the file must also be signed by that key: without it the check proves only
    that the file is the one the included key signed, not that the server holds that key."""
    if not isinstance(sig, dict):
        return "the signature file is not a JSON object"
    if set(sig) != set(FIELDS):
        missing, extra = sorted(set(FIELDS) - set(sig)), sorted(set(sig) - set(FIELDS))
        return f"the signature file's fields are wrong (missing: {missing}, unexpected: {extra})"
    if not all(isinstance(sig[k], str) for k in FIELDS):
        return "every field of the signature file must be a string"
    if sig["algorithm"] != ALGORITHM:
        return f"algorithm {sig['algorithm']!r} is not {ALGORITHM}"
    if file_sha256(content) != sig["file_sha256"]:
        return "the file's sha256 is not the signed one: the file was changed"
    try:
        public = load_public_key(sig["public_key"])
    except MalformedPayload as e:
        return f"public_key: {e}"
    if key_id(public) != sig["key_id"]:
        return f"key_id {sig['key_id']} does not name public_key (its key_id is {key_id(public)})"
    if trusted_public_key is not None and public_key_b64(public) != _normal_b64(trusted_public_key):
        return f"signed by key {sig['key_id']}, not by the trusted key"
    try:
        verify_signature(public, signed_message(sig), sig["signature"])
    except BadSignature as e:
        return f"the signature does not verify: {e}"
    return None


def verify_signature_file(content: bytes, sig: dict, trusted_public_key: str | None = None) -> bool:
    """Whether the signature file `sig` signs exactly `content` (see check_signature_file)."""
    return check_signature_file(content, sig, trusted_public_key) is None


def _normal_b64(value: str) -> str:
    try:
        return base64.b64encode(base64.b64decode(value.strip(), validate=True)).decode()
    except ValueError:
        return value
