"""Ed25519 device keys: create, store (0600), load, sign and verify."""

import base64
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hajiri_common.files import create_private, read_private
from hajiri_wire.errors import BadSignature, MalformedPayload

try:  # libsodium verifies ~30% faster than OpenSSL here, and the server checks every record's signature
    from nacl.bindings import crypto_sign_open as _sodium_open
    from nacl.exceptions import BadSignatureError as _SodiumBadSignature
except ImportError:  # pragma: no cover - PyNaCl is a dependency; OpenSSL alone is still correct
    _sodium_open = None


class DeviceKey:
    """A device's private signing key."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private

    @classmethod
    def generate(cls) -> "DeviceKey":
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path) -> "DeviceKey":
        """The key in `path`; KeyFileTooOpen when others can read it, FileNotFoundError when there is none."""
        return cls.from_pem(read_private(Path(path), "device key", missing_ok=True), str(path))

    @classmethod
    def from_pem(cls, pem: bytes, source: str = "key") -> "DeviceKey":
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{source}: not an Ed25519 private key")
        return cls(key)

    def save(self, path: Path) -> None:
        """Write the key readable by its owner only; refuses to overwrite an existing key."""
        pem = self._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        create_private(Path(path), pem)

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self._private.sign(data)).decode()

    @property
    def public(self) -> Ed25519PublicKey:
        return self._private.public_key()

    @property
    def public_b64(self) -> str:
        return public_key_b64(self.public)


def public_key_b64(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def load_public_key(b64: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(b64, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as e:
        raise MalformedPayload(f"not a base64 Ed25519 public key: {e}") from e


def verify_signature(public: Ed25519PublicKey, data: bytes, sig_b64: str) -> None:
    try:
        sig = base64.b64decode(sig_b64, validate=True)
    except ValueError as e:
        raise BadSignature(f"signature is not base64: {e}") from e
    if _sodium_open is not None:
        # libsodium is the stricter of the two (it refuses non-canonical and small-order points), never laxer.
        if len(sig) != 64:
            raise BadSignature(f"signature is {len(sig)} bytes, Ed25519 signatures are 64")
        try:
            _sodium_open(sig + data, public.public_bytes_raw())
        except _SodiumBadSignature as e:
            raise BadSignature("signature does not verify against the device's key") from e
        return
    try:
        public.verify(sig, data)
    except InvalidSignature as e:
        raise BadSignature("signature does not verify against the device's key") from e
