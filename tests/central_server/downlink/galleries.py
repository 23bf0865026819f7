"""Builders for the downlink tests: a gallery of random templates, a kiosk registered with its X25519 key."""

import numpy as np
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from central_server.devices.registry import register_device
from hajiri_wire import DeviceKey
from hajiri_wire.downlink import GalleryContent, GalleryPerson, template_b64, x25519_public_b64


def content(n: int = 2) -> GalleryContent:
    t = np.random.default_rng(n).normal(size=(n, 128)).astype(np.float32)
    return GalleryContent(model_version="m", dim=128, people=[
        GalleryPerson(person_id=f"emp-{i}", name=f"P{i}", templates=[template_b64(t[i])]) for i in range(n)])


def register(engine, device_id: str, enc: X25519PrivateKey | None) -> None:
    with engine.begin() as conn:
        register_device(conn, device_id, "office-1", DeviceKey.generate().public_b64, actor="test",
                        create_missing_site=True,
                        enc_public_key=None if enc is None else x25519_public_b64(enc.public_key()))
