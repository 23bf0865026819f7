"""Downlink envelopes: signed by the server, refused when forged, replayed, rolled back, misaddressed or oversized."""

import base64
import json

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hajiri_wire import BadSignature, DeviceKey, MalformedPayload, PayloadTooLarge, topics
from hajiri_wire.canonical import canonical_bytes
from hajiri_wire.downlink import (
    MAX_BYTES,
    CannotDecrypt,
    DownlinkStatus,
    GalleryContent,
    GalleryPerson,
    SealedPayload,
    StaleVersion,
    UnknownKind,
    UnknownServerKey,
    WrongDevice,
    decode_envelope,
    decode_gallery_content,
    decode_status,
    encode_envelope,
    encode_gallery_content,
    encode_status,
    key_id,
    open_sealed,
    parse_payload,
    seal,
    seal_aad,
    sign_envelope,
    template_b64,
    verify_envelope,
)

DEVICE = "kiosk-01"


@pytest.fixture(scope="module")
def server() -> DeviceKey:
    return DeviceKey.generate()


def verify(payload: bytes, server: DeviceKey, *, last: int | None = None, device: str = DEVICE,
           topic_kind: str | None = None):
    env = decode_envelope(payload, topic_kind)
    verify_envelope(env, server_key=server.public, device_id=device, last_version=last, topic_kind=topic_kind)
    return env


def config_envelope(server: DeviceKey, version: int = 1, device: str = DEVICE) -> bytes:
    return encode_envelope(sign_envelope("config", device, version, {"match_threshold": 0.5}, server))


def test_a_signed_envelope_verifies_and_round_trips(server):
    env = verify(config_envelope(server, 3), server, last=2, topic_kind="config")
    assert (env.kind, env.device_id, env.version, env.key_id) == ("config", DEVICE, 3, key_id(server.public))
    assert parse_payload(env).kiosk_overrides() == {"match_threshold": 0.5}


def test_a_changed_field_breaks_the_signature(server):
    obj = json.loads(config_envelope(server, 5))
    obj["payload"]["match_threshold"] = 0.1  # an attacker lowers the threshold
    with pytest.raises(BadSignature):
        verify(canonical_bytes(obj), server)
    obj = json.loads(config_envelope(server, 5))
    obj["version"] = 6
    with pytest.raises(BadSignature):
        verify(canonical_bytes(obj), server)


def test_a_forgery_signed_with_another_key_is_refused_even_claiming_the_server_key_id(server):
    attacker = DeviceKey.generate()
    forged = json.loads(encode_envelope(sign_envelope("config", DEVICE, 99, {"match_threshold": 0.1}, attacker)))
    with pytest.raises(UnknownServerKey):
        verify(canonical_bytes(forged), server)
    forged["key_id"] = key_id(server.public)
    with pytest.raises(BadSignature):
        verify(canonical_bytes(forged), server)
    del forged["sig"]
    with pytest.raises(MalformedPayload, match="sig"):
        verify(canonical_bytes(forged), server)


@pytest.mark.parametrize("last", [5, 6])
def test_replay_and_rollback_are_refused(server, last):
    with pytest.raises(StaleVersion, match="replay or rollback") as e:
        verify(config_envelope(server, 5), server, last=last)
    assert e.value.reason == "stale_version"


def test_an_envelope_for_another_device_is_refused(server):
    with pytest.raises(WrongDevice, match="kiosk-02") as e:
        verify(config_envelope(server, 1, device="kiosk-02"), server)
    assert e.value.reason == "wrong_device"


def test_an_envelope_on_the_wrong_kinds_topic_is_refused(server):
    with pytest.raises(WrongDevice) as e:
        verify(config_envelope(server), server, topic_kind="command")
    assert e.value.reason == "wrong_topic"


def test_unknown_kind_and_no_server_key(server):
    obj = json.loads(config_envelope(server))
    obj["kind"] = "firmware"
    with pytest.raises(UnknownKind, match="firmware"):
        decode_envelope(canonical_bytes(obj))
    with pytest.raises(UnknownKind):
        sign_envelope("firmware", DEVICE, 1, {}, server)
    env = decode_envelope(config_envelope(server))
    with pytest.raises(UnknownServerKey, match="server_key.pub"):
        verify_envelope(env, server_key=None, device_id=DEVICE, last_version=None)


def test_oversized_envelopes_are_refused_before_parsing(server):
    with pytest.raises(PayloadTooLarge):
        decode_envelope(b" " * (MAX_BYTES["gallery"] + 1))
    big = encode_envelope(sign_envelope("command", DEVICE, 1, {"command": "reload", "note": ""}, server))
    padded = big[:-1] + b" " * MAX_BYTES["command"] + b"}"  # still valid JSON, over the command cap
    with pytest.raises(PayloadTooLarge):
        decode_envelope(padded, "command")
    with pytest.raises(PayloadTooLarge, match="command"):
        decode_envelope(padded)  # the kind's cap applies even when the topic was not given


def test_bad_payloads_are_named(server):
    env = decode_envelope(encode_envelope(sign_envelope("config", DEVICE, 1, {"match_treshold": 0.5}, server)))
    with pytest.raises(MalformedPayload, match="match_treshold"):
        parse_payload(env)
    env = decode_envelope(encode_envelope(sign_envelope("command", DEVICE, 1, {"command": "format_disk"}, server)))
    with pytest.raises(MalformedPayload, match="command"):
        parse_payload(env)


def gallery_content(rng: np.random.Generator, people: int = 3, dim: int = 128) -> tuple[GalleryContent, np.ndarray]:
    templates = rng.normal(size=(people, dim)).astype(np.float32)
    content = GalleryContent(model_version="sface-2021dec", dim=dim, people=[
        GalleryPerson(person_id=f"emp-{i}", name=f"Person {i}", templates=[template_b64(templates[i])])
        for i in range(people)])
    return content, templates


def test_a_sealed_gallery_opens_only_with_the_devices_key_and_hides_the_templates(server):
    device_key, other_key = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    content, templates = gallery_content(np.random.default_rng(1))
    plain = encode_gallery_content(content)
    sealed = seal(plain, device_key.public_key(), seal_aad(DEVICE, 4))
    env = sign_envelope("gallery", DEVICE, 4, sealed.model_dump(), server)
    wire = encode_envelope(env)
    for row in templates:
        raw = row.astype("<f4").tobytes()
        assert raw not in wire and base64.b64encode(raw) not in wire and raw[:16] not in wire
    assert b"emp-0" not in wire and b"Person 0" not in wire  # ids and names are sealed too

    got = parse_payload(verify(wire, server, last=3, topic_kind="gallery"))
    assert isinstance(got, SealedPayload)
    opened = decode_gallery_content(open_sealed(got, device_key, seal_aad(DEVICE, 4)))
    ids, matrix, names = opened.template_rows()
    assert ids == ["emp-0", "emp-1", "emp-2"] and names["emp-1"] == "Person 1"
    np.testing.assert_array_equal(matrix, templates)
    with pytest.raises(CannotDecrypt):
        open_sealed(got, other_key, seal_aad(DEVICE, 4))
    with pytest.raises(CannotDecrypt):  # lifted into another version's envelope
        open_sealed(got, device_key, seal_aad(DEVICE, 5))


def test_a_template_of_the_wrong_size_is_named():
    content = GalleryContent(model_version="m", dim=128, people=[
        GalleryPerson(person_id="emp-1", name="A", templates=[template_b64(np.ones(64, np.float32))])])
    with pytest.raises(MalformedPayload, match="emp-1 template 0"):
        content.template_rows()


def test_status_round_trip_and_strictness():
    status = DownlinkStatus(device_id=DEVICE, kind="gallery", version=3, outcome="refused", reason="bad_signature",
                            detail="x", current_version=2, at="2026-11-25T09:00:00.000Z")
    assert decode_status(encode_status(status)) == status
    obj = json.loads(encode_status(status))
    obj["extra"] = 1
    with pytest.raises(MalformedPayload, match="extra"):
        decode_status(canonical_bytes(obj))


def test_downlink_topics_and_the_acl():
    assert topics.downlink("gallery", DEVICE) == topics.GALLERY.format(device_id=DEVICE)
    assert topics.downlink("command", DEVICE).endswith("/down/commands")
    for kind in ("gallery", "config", "command"):
        assert topics.downlink_kind_of(topics.downlink(kind, DEVICE)) == kind
    assert topics.downlink_kind_of(topics.acks(DEVICE)) is None
    with pytest.raises(ValueError, match="unknown downlink kind"):
        topics.downlink("firmware", DEVICE)
    # The status uplink sits under up/, which the device's ACL pattern already lets it write.
    assert topics.downlink_status(DEVICE).startswith(f"{topics.PREFIX}/dev/{DEVICE}/up/")
    assert f"pattern write {topics.PREFIX}/dev/%u/up/#" in topics.broker_acl_patterns()


def test_a_gallery_payload_that_does_not_add_up_is_named():
    content, _ = gallery_content(np.random.default_rng(2), people=2)
    plain = encode_gallery_content(content)
    assert decode_gallery_content(plain) == content
    with pytest.raises(MalformedPayload, match="bad magic"):
        decode_gallery_content(b"{" + plain[1:])
    with pytest.raises(MalformedPayload, match="do not match 2 templates"):
        decode_gallery_content(plain[:-4])
    with pytest.raises(MalformedPayload, match="unreadable header"):
        decode_gallery_content(plain[:5] + (3).to_bytes(4, "big") + b"{x}")
