"""A kiosk's identity on disk: device.json (ids, public key) and device_key.pem (0600, never leaves the Pi)."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from hajiri_wire import DeviceKey
from hajiri_wire.record import DeviceId, SiteId

IDENTITY_FILE = "device.json"
KEY_FILE = "device_key.pem"


class IdentityError(RuntimeError):
    """No usable identity in a device directory."""


@dataclass(frozen=True)
class DeviceIdentity:
    device_id: str
    site_id: str
    key: DeviceKey

    @property
    def public_key_b64(self) -> str:
        return self.key.public_b64


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
    doc = {"device_id": device_id, "site_id": site_id, "public_key": key.public_b64}
    (directory / IDENTITY_FILE).write_text(json.dumps(doc, indent=2) + "\n")
    return DeviceIdentity(device_id, site_id, key)


def load_identity(directory: Path) -> DeviceIdentity:
    directory = Path(directory)
    try:
        doc = json.loads((directory / IDENTITY_FILE).read_text())
        key = DeviceKey.load(directory / KEY_FILE)
    except FileNotFoundError as e:
        raise IdentityError(f"{directory}: no device identity ({e.filename} missing); run `hajiri provision`") from e
    except (ValueError, KeyError) as e:
        raise IdentityError(f"{directory}: device identity unreadable: {e}") from e
    if doc.get("public_key") != key.public_b64:
        raise IdentityError(f"{directory}: {KEY_FILE} does not match the public key in {IDENTITY_FILE}")
    _check_ids(doc["device_id"], doc["site_id"])
    return DeviceIdentity(doc["device_id"], doc["site_id"], key)
