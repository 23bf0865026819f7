"""A kiosk's identity on disk: device.json (ids, public key) and device_key.pem (0600, never leaves the Pi)."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pydantic import TypeAdapter, ValidationError

from hajiri_common.files import create_private, read_private, write_atomic
from hajiri_wire import DeviceKey, load_public_key
from hajiri_wire.downlink import key_id, x25519_public_b64
from hajiri_wire.errors import MalformedPayload
from hajiri_wire.record import DeviceId, SiteId

IDENTITY_FILE = "device.json"
KEY_FILE = "device_key.pem"
# The X25519 key downlinked galleries are sealed to (0600, like the signing key), and the server's public
# signing key that every downlink must verify against (public, written at provisioning).
ENC_KEY_FILE = "device_x25519.pem"
# Key rotation (sync_agent/key_rotation.py): the new signing key waits here (0600) until the server accepts it.
PENDING_KEY_FILE = "device_key.next.pem"
SERVER_KEY_FILE = "server_key.pub"


class IdentityError(RuntimeError):
    """No usable identity in a device directory."""


@dataclass(frozen=True)
class DeviceIdentity:
    device_id: str
    site_id: str
    key: DeviceKey
    # None for a kiosk provisioned before downlinks existed: `hajiri provision --add-enc-key` adds one.
    enc_key: X25519PrivateKey | None = None

    @property
    def public_key_b64(self) -> str:
        return self.key.public_b64

    @property
    def enc_public_key_b64(self) -> str | None:
        return None if self.enc_key is None else x25519_public_b64(self.enc_key.public_key())


def _check_ids(device_id: str, site_id: str) -> None:
    # Validate with the wire contract's own field rules, so an id that could never travel is refused here.
    for name, kind, value in (("device_id", DeviceId, device_id), ("site_id", SiteId, site_id)):
        try:
            TypeAdapter(kind).validate_python(value)
        except ValidationError as e:
            raise IdentityError(f"{name} {value!r} is not allowed: {e.errors()[0]['msg']}") from e


def create_identity(directory: Path, device_id: str, site_id: str) -> DeviceIdentity:
    """Make a new keypair and identity; refuses to replace an existing one (a kiosk keeps its key for life)."""
    _check_ids(device_id, site_id)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    if (directory / KEY_FILE).exists() or (directory / IDENTITY_FILE).exists():
        raise IdentityError(f"{directory} already holds a device identity; refusing to overwrite it")
    key = DeviceKey.generate()
    key.save(directory / KEY_FILE)
    enc_key = _create_enc_key(directory)
    doc = {"device_id": device_id, "site_id": site_id, "public_key": key.public_b64,
           "enc_public_key": x25519_public_b64(enc_key.public_key())}
    (directory / IDENTITY_FILE).write_text(json.dumps(doc, indent=2) + "\n")
    return DeviceIdentity(device_id, site_id, key, enc_key)


def load_identity(directory: Path) -> DeviceIdentity:
    directory = Path(directory)
    try:
        doc = json.loads((directory / IDENTITY_FILE).read_text())
        key = DeviceKey.load(directory / KEY_FILE)
        if doc.get("public_key") != key.public_b64:
            key = _key_mid_rotation(directory, doc, key)
    except FileNotFoundError as e:
        raise IdentityError(f"{directory}: no device identity ({e.filename} missing); run `hajiri provision`") from e
    except (ValueError, KeyError) as e:
        raise IdentityError(f"{directory}: device identity unreadable: {e}") from e
    if doc.get("public_key") != key.public_b64:
        raise IdentityError(f"{directory}: {KEY_FILE} does not match the public key in {IDENTITY_FILE}")
    _check_ids(doc["device_id"], doc["site_id"])
    return DeviceIdentity(doc["device_id"], doc["site_id"], key, _load_enc_key(directory, doc))


def _create_enc_key(directory: Path) -> X25519PrivateKey:
    enc_key = X25519PrivateKey.generate()
    pem = enc_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    create_private(directory / ENC_KEY_FILE, pem)
    return enc_key


def _load_enc_key(directory: Path, doc: dict) -> X25519PrivateKey | None:
    """The X25519 key, or None when an older identity has none (not created here: see add_enc_key)."""
    path = directory / ENC_KEY_FILE
    if not path.exists():
        return None
    try:
        enc_key = serialization.load_pem_private_key(read_private(path, "device X25519 key"), password=None)
    except ValueError as e:
        raise IdentityError(f"{path}: unreadable: {e}") from e
    if not isinstance(enc_key, X25519PrivateKey):
        raise IdentityError(f"{path}: not an X25519 private key")
    if doc.get("enc_public_key") != x25519_public_b64(enc_key.public_key()):
        raise IdentityError(f"{directory}: {ENC_KEY_FILE} does not match enc_public_key in {IDENTITY_FILE}")
    return enc_key


def add_enc_key(directory: Path) -> DeviceIdentity:
    """Give an identity made before downlinks its X25519 key; its public half must then be registered centrally.

    Not done silently by load_identity: a key nobody registered would make every gallery undecryptable without
    saying why, and kiosk and sync agent both load the identity, possibly at the same moment.
    """
    directory = Path(directory)
    identity = load_identity(directory)
    if identity.enc_key is not None:
        raise IdentityError(f"{directory} already has an X25519 key ({ENC_KEY_FILE}); refusing to replace it")
    enc_key = _create_enc_key(directory)
    doc = json.loads((directory / IDENTITY_FILE).read_text())
    doc["enc_public_key"] = x25519_public_b64(enc_key.public_key())
    tmp = directory / (IDENTITY_FILE + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, directory / IDENTITY_FILE)
    return DeviceIdentity(identity.device_id, identity.site_id, identity.key, enc_key)


def install_server_key(directory: Path, public_b64: str) -> str:
    """Write the server's public signing key (base64 raw Ed25519) into the device dir; returns its key id."""
    try:
        public = load_public_key(public_b64.strip())
    except MalformedPayload as e:
        raise IdentityError(f"server key: {e}") from e
    tmp = Path(directory) / (SERVER_KEY_FILE + ".tmp")
    tmp.write_text(public_b64.strip() + "\n")
    os.replace(tmp, Path(directory) / SERVER_KEY_FILE)
    return key_id(public)


def load_server_key(directory: Path) -> Ed25519PublicKey | None:
    """The server key downlinks are verified with; None when none was installed at provisioning."""
    path = Path(directory) / SERVER_KEY_FILE
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise IdentityError(f"{path}: cannot read: {e.strerror or e}") from e
    try:
        return load_public_key(text)
    except MalformedPayload as e:
        raise IdentityError(f"{path}: {e}") from e


# ---- signing key rotation ---------------------------------------------------------------------------------
# The swap changes two files, each replaced atomically, in this order: device.json (public_key := new), then
# device_key.pem (:= the pending key), then the pending file is removed. The pending key is on disk (fsync'd)
# before any of it. So a power cut leaves either the old pair, or device.json naming the pending key (which
# load_identity then uses, in memory only: readers never write, the sync agent finishes the swap), or the new
# pair. No state is without a usable key that matches device.json.


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _key_mid_rotation(directory: Path, doc: dict, key: DeviceKey) -> DeviceKey:
    """device.json already names the pending key (a swap stopped half way): that key is the identity's."""
    try:
        pending = DeviceKey.load(directory / PENDING_KEY_FILE)
    except FileNotFoundError:
        # The swap may have finished between our two reads: read the key file once more.
        return DeviceKey.load(directory / KEY_FILE)
    return pending if pending.public_b64 == doc.get("public_key") else key


def pending_key(directory: Path) -> DeviceKey | None:
    """The rotation key waiting for the server's answer, if any."""
    try:
        return DeviceKey.load(Path(directory) / PENDING_KEY_FILE)
    except FileNotFoundError:
        return None
    except ValueError as e:
        raise IdentityError(f"{Path(directory) / PENDING_KEY_FILE}: unreadable: {e}") from e


def create_pending_key(directory: Path) -> DeviceKey:
    """A new signing key for a rotation, durable (0600, fsync'd, O_EXCL) before anyone is told of it."""
    directory = Path(directory)
    key = DeviceKey.generate()
    path = directory / PENDING_KEY_FILE
    key.save(path)  # O_EXCL: refuses to replace a pending key a request may already carry
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(directory)
    return key


def discard_pending_key(directory: Path) -> None:
    """Drop a pending key the server refused (never one device.json names: that one is the identity's)."""
    directory = Path(directory)
    key = pending_key(directory)
    if key is None:
        return
    doc = json.loads((directory / IDENTITY_FILE).read_text())
    if doc.get("public_key") == key.public_b64:
        raise IdentityError(f"{directory}: {PENDING_KEY_FILE} is the identity's key; finish the swap instead")
    (directory / PENDING_KEY_FILE).unlink()
    _fsync_dir(directory)


def swap_signing_key(directory: Path) -> DeviceIdentity:
    """Make the pending key the device's signing key (see the order above); safe to run again after a crash."""
    directory = Path(directory)
    key = pending_key(directory)
    if key is None:
        return load_identity(directory)  # nothing pending: done already
    doc = json.loads((directory / IDENTITY_FILE).read_text())
    if doc.get("public_key") != key.public_b64:
        doc["public_key"] = key.public_b64
        write_atomic(directory / IDENTITY_FILE, (json.dumps(doc, indent=2) + "\n").encode(), 0o644)
    write_atomic(directory / KEY_FILE, (directory / PENDING_KEY_FILE).read_bytes(), 0o600)
    (directory / PENDING_KEY_FILE).unlink()
    _fsync_dir(directory)
    return load_identity(directory)
