"""Sealed boxes for one recipient: ephemeral X25519 ECDH, HKDF-SHA256, AES-256-GCM.

Galleries travel sealed to a kiosk's X25519 key (server -> kiosk) and evidence crops sealed to the server's
evidence key (kiosk -> server). A fresh ephemeral key per message gives a fresh AES key; the HKDF salt binds
both public keys and `label` says which use it is, so a box made for one purpose never opens as another. The
caller's AAD binds the box to its ids (device, version or record), so it cannot be lifted into another message.
"""

import hashlib
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALG = "x25519-hkdf-sha256-aes256gcm"
NONCE_BYTES = 12


class SealOpenError(ValueError):
    """A box that does not open with this key: sealed to another key, or altered (ciphertext, ids or key)."""


def raw_public(public: X25519PublicKey | Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: X25519PublicKey | Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 8 bytes of the sha256 of its raw bytes, in hex."""
    return hashlib.sha256(raw_public(public)).hexdigest()[:16]


def _aes_key(shared: bytes, epk: bytes, recipient: bytes, label: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + recipient, info=label).derive(shared)
    return AESGCM(key)


def seal_bytes(plaintext: bytes, recipient: X25519PublicKey, aad: bytes, label: bytes
               ) -> tuple[bytes, bytes, bytes]:
    """(ephemeral public key, nonce, ciphertext): only the holder of `recipient`'s private key opens it."""
    ephemeral = X25519PrivateKey.generate()
    epk = raw_public(ephemeral.public_key())
    nonce = secrets.token_bytes(NONCE_BYTES)
    aes = _aes_key(ephemeral.exchange(recipient), epk, raw_public(recipient), label)
    return epk, nonce, aes.encrypt(nonce, plaintext, aad)


def open_bytes(epk: bytes, nonce: bytes, ciphertext: bytes, private: X25519PrivateKey, aad: bytes,
               label: bytes) -> bytes:
    """The plaintext of a box sealed with seal_bytes; SealOpenError when it does not open."""
    try:
        ephemeral = X25519PublicKey.from_public_bytes(epk)
        aes = _aes_key(private.exchange(ephemeral), epk, raw_public(private.public_key()), label)
        return aes.decrypt(nonce, ciphertext, aad)
    except (InvalidTag, ValueError) as e:
        raise SealOpenError(str(e) or "authentication failed") from e
