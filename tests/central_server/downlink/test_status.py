"""Kiosk reports on downlinks (SQLite and PostgreSQL): kept per kind, and a foreign retained message put right."""

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from central_server.devices.registry import register_device
from central_server.downlink.keys import load_or_create_signing_key
from central_server.downlink.status import ROUTE, record_status
from central_server.downlink.versions import device_downlink, make_gallery
from central_server.ingest.handling import Context, Publish, run_one
from hajiri_wire import DeviceKey, topics
from hajiri_wire.downlink import (
    DownlinkStatus,
    GalleryContent,
    GalleryPerson,
    encode_status,
    template_b64,
    x25519_public_b64,
)


@pytest.fixture
def server_key(tmp_path) -> DeviceKey:
    return load_or_create_signing_key(tmp_path / "keys" / "signing.pem")


def content(n: int = 2) -> GalleryContent:
    t = np.random.default_rng(n).normal(size=(n, 128)).astype(np.float32)
    return GalleryContent(model_version="m", dim=128, people=[
        GalleryPerson(person_id=f"emp-{i}", name=f"P{i}", templates=[template_b64(t[i])]) for i in range(n)])


def register(engine, device_id: str, enc: X25519PrivateKey) -> None:
    with engine.begin() as conn:
        register_device(conn, device_id, "office-1", DeviceKey.generate().public_b64, actor="test",
                        create_missing_site=True, enc_public_key=x25519_public_b64(enc.public_key()))


def status(kind, version, outcome, reason=None, current=None) -> bytes:
    return encode_status(DownlinkStatus(device_id="kiosk-01", kind=kind, version=version, outcome=outcome,
                                        reason=reason, detail="d", current_version=current,
                                        at="2026-11-25T09:00:00.000Z"))


def test_reports_are_kept_per_kind_and_a_foreign_retained_message_is_put_right(engine, server_key):
    register(engine, "kiosk-01", X25519PrivateKey.generate())
    with engine.begin() as conn:
        stored = make_gallery(conn, server_key, ["kiosk-01"], content(), actor="t")[0]
    topic = topics.downlink_status("kiosk-01")
    assert record_status(engine, topic, status("gallery", 1, "applied")) == []
    again = record_status(engine, topic, status("gallery", 7, "refused", "bad_signature", current=1))
    assert again == [(stored.topic, stored.envelope)]  # someone replaced the retained gallery: publish ours
    assert record_status(engine, topic, status("gallery", 1, "refused", "stale_version", current=1)) == []
    assert record_status(engine, topics.downlink_status("kiosk-02"), status("gallery", 1, "applied")) == [], \
        "a report claiming another device is ignored"
    assert record_status(engine, topic, b"{bad") == []
    with engine.begin() as conn:
        row = device_downlink(conn, "kiosk-01")["reported"]["gallery"]
    assert row["applied_version"] == 1 and row["refused_count"] == 2
    assert (row["refused_version"], row["refused_reason"]) == (1, "stale_version")


def test_the_servers_own_message_goes_back_retained(engine, server_key):
    register(engine, "kiosk-01", X25519PrivateKey.generate())
    with engine.begin() as conn:
        stored = make_gallery(conn, server_key, ["kiosk-01"], content(), actor="t")[0]
    handled = run_one(Context(engine), ROUTE, topics.downlink_status("kiosk-01"),
                      status("gallery", 9, "refused", "unknown_key", current=1))
    assert handled.publish == [Publish(stored.topic, stored.envelope, qos=1, retain=True)]
    assert handled.rejections == [] and handled.touched == []
