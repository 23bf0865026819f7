"""Downlink versions in the central DB (SQLite and PostgreSQL): numbering, latest, targets, keys, limits."""

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from central_server.devices.registry import BadPublicKey, register_device, revoke_device
from central_server.downlink.keys import DownlinkKeyError, load_or_create_signing_key
from central_server.downlink.versions import (
    DownlinkError,
    NoEncKey,
    NoTargets,
    device_downlink,
    latest_versions,
    make_command,
    make_config,
    make_gallery,
    mark_published,
    target_devices,
)
from hajiri_wire import DeviceKey
from hajiri_wire.downlink import (
    Command,
    GalleryContent,
    GalleryPerson,
    SiteConfig,
    decode_envelope,
    decode_gallery_content,
    open_sealed,
    parse_payload,
    seal_aad,
    template_b64,
    verify_envelope,
)
from tests.central_server.downlink.galleries import content, register


def test_versions_count_per_device_and_kind_and_each_gallery_is_sealed_to_its_device(engine, server_key):
    k1, k2 = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    register(engine, "kiosk-01", k1)
    register(engine, "kiosk-02", k2)
    with engine.begin() as conn:
        targets = target_devices(conn, "office-1", None)
        assert targets == ["kiosk-01", "kiosk-02"]
        first = make_gallery(conn, server_key, targets, content(), actor="t")
        second = make_gallery(conn, server_key, ["kiosk-01"], content(3), actor="t")
        cfg = make_config(conn, server_key, ["kiosk-01"], SiteConfig(match_threshold=0.5), actor="t")
        cmd = make_command(conn, server_key, targets, Command(command="resync"), actor="t")
    assert [(s.device_id, s.version) for s in first] == [("kiosk-01", 1), ("kiosk-02", 1)]
    assert second[0].version == 2 and cfg[0].version == 1 and [c.version for c in cmd] == [1, 1]
    env = decode_envelope(second[0].envelope, "gallery")
    verify_envelope(env, server_key=server_key.public, device_id="kiosk-01", last_version=1, topic_kind="gallery")
    plain = open_sealed(parse_payload(env), k1, seal_aad("kiosk-01", 2))
    assert [p.person_id for p in decode_gallery_content(plain).people] == ["emp-0", "emp-1", "emp-2"]
    with engine.begin() as conn:
        latest = {s.kind: s.version for s in latest_versions(conn, "kiosk-01")}
        assert latest == {"gallery": 2, "config": 1, "command": 1}
        mark_published(conn, [second[0].id])
        view = device_downlink(conn, "kiosk-01")
    assert view["issued"]["gallery"]["published_at"] and view["issued"]["config"]["published_at"] is None


def test_targets_and_bad_input_are_named(engine, server_key):
    register(engine, "kiosk-01", None)
    register(engine, "kiosk-02", X25519PrivateKey.generate())
    with engine.begin() as conn:
        revoke_device(conn, "kiosk-02", actor="t")
    with engine.begin() as conn:
        with pytest.raises(NoTargets, match="kiosk-02"):
            target_devices(conn, None, ["kiosk-01", "kiosk-02"])
        with pytest.raises(NoTargets, match="office-9"):
            target_devices(conn, "office-9", None)
        with pytest.raises(DownlinkError, match="exactly one"):
            target_devices(conn, "office-1", ["kiosk-01"])
        with pytest.raises(NoEncKey, match="kiosk-01"):
            make_gallery(conn, server_key, ["kiosk-01"], content(), actor="t")
        with pytest.raises(DownlinkError, match="match_margin"):
            make_config(conn, server_key, ["kiosk-01"], SiteConfig(match_threshold=0.3, match_margin=0.4), actor="t")
        zero = GalleryContent(model_version="m", dim=128, people=[
            GalleryPerson(person_id="emp-0", name="Z", templates=[template_b64(np.zeros(128, np.float32))])])
        with pytest.raises(DownlinkError, match="emp-0"):
            make_gallery(conn, server_key, ["kiosk-01"], zero, actor="t")
        with pytest.raises(BadPublicKey, match="X25519"):
            register_device(conn, "kiosk-03", "office-1", DeviceKey.generate().public_b64, actor="t",
                            enc_public_key="bm90LWEta2V5")


def test_signing_key_file_is_private_and_stable(tmp_path):
    path = tmp_path / "k" / "signing.pem"
    first = load_or_create_signing_key(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_or_create_signing_key(path).public_b64 == first.public_b64
    path.chmod(0o644)
    with pytest.raises(DownlinkKeyError, match="chmod 600"):
        load_or_create_signing_key(path)


def test_a_gallery_too_big_for_one_message_is_refused_before_it_is_stored(sqlite_engine, server_key):
    register(sqlite_engine, "kiosk-01", X25519PrivateKey.generate())
    with sqlite_engine.begin() as conn:
        with pytest.raises(DownlinkError, match="more than the 1000000"):
            make_gallery(conn, server_key, ["kiosk-01"], content(1500), actor="t")
        assert latest_versions(conn, "kiosk-01") == []
        assert make_gallery(conn, server_key, ["kiosk-01"], content(1200), actor="t")[0].version == 1
