"""The X25519 gallery key and the server's public key in a device identity: created, loaded, added, refused."""

import json
import stat
import subprocess
import sys

import pytest

from hajiri_wire import DeviceKey
from hajiri_wire.downlink import key_id
from provisioning.identity import (
    ENC_KEY_FILE,
    IDENTITY_FILE,
    SERVER_KEY_FILE,
    IdentityError,
    add_enc_key,
    create_identity,
    install_server_key,
    load_identity,
    load_server_key,
)


def test_a_new_identity_has_a_private_x25519_key_and_publishes_its_public_half(tmp_path):
    made = create_identity(tmp_path / "d", "kiosk-07", "office-3")
    assert stat.S_IMODE((tmp_path / "d" / ENC_KEY_FILE).stat().st_mode) == 0o600
    doc = json.loads((tmp_path / "d" / IDENTITY_FILE).read_text())
    assert doc["enc_public_key"] == made.enc_public_key_b64 == load_identity(tmp_path / "d").enc_public_key_b64


def test_an_identity_from_before_downlinks_still_loads_and_can_be_given_a_key_once(tmp_path):
    create_identity(tmp_path / "d", "kiosk-07", "office-3")
    (tmp_path / "d" / ENC_KEY_FILE).unlink()  # as provisioned before this change
    doc = json.loads((tmp_path / "d" / IDENTITY_FILE).read_text())
    del doc["enc_public_key"]
    (tmp_path / "d" / IDENTITY_FILE).write_text(json.dumps(doc))
    old = load_identity(tmp_path / "d")
    assert old.enc_key is None and old.enc_public_key_b64 is None
    added = add_enc_key(tmp_path / "d")
    assert added.public_key_b64 == old.public_key_b64  # the signing key is untouched
    assert load_identity(tmp_path / "d").enc_public_key_b64 == added.enc_public_key_b64
    with pytest.raises(IdentityError, match="already has an X25519 key"):
        add_enc_key(tmp_path / "d")


def test_a_swapped_x25519_key_is_refused(tmp_path):
    create_identity(tmp_path / "a", "kiosk-07", "office-3")
    create_identity(tmp_path / "b", "kiosk-08", "office-3")
    (tmp_path / "a" / ENC_KEY_FILE).write_bytes((tmp_path / "b" / ENC_KEY_FILE).read_bytes())
    with pytest.raises(IdentityError, match="enc_public_key"):
        load_identity(tmp_path / "a")


def test_server_key_install_and_load(tmp_path):
    create_identity(tmp_path / "d", "kiosk-07", "office-3")
    assert load_server_key(tmp_path / "d") is None
    server = DeviceKey.generate()
    assert install_server_key(tmp_path / "d", server.public_b64 + "\n") == key_id(server.public)
    assert key_id(load_server_key(tmp_path / "d")) == key_id(server.public)
    with pytest.raises(IdentityError, match="server key"):
        install_server_key(tmp_path / "d", "not-a-key")
    (tmp_path / "d" / SERVER_KEY_FILE).write_text("garbage")
    with pytest.raises(IdentityError, match=SERVER_KEY_FILE):
        load_server_key(tmp_path / "d")


def test_provision_cli_installs_the_server_key_and_prints_both_public_keys(tmp_path):
    server = DeviceKey.generate()
    (tmp_path / "server.pub").write_text(server.public_b64 + "\n")
    out = subprocess.run([sys.executable, "-m", "hajiri_cli", "provision", "--device-id", "kiosk-07", "--site-id",
                          "office-3", "--dir", str(tmp_path / "d"), "--server-key", str(tmp_path / "server.pub")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    assert printed["server_key_id"] == key_id(server.public)
    assert printed["enc_public_key"] == load_identity(tmp_path / "d").enc_public_key_b64
    again = subprocess.run([sys.executable, "-m", "hajiri_cli", "provision", "--device-id", "kiosk-08", "--site-id",
                            "office-3", "--dir", str(tmp_path / "d"), "--add-enc-key"],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "kiosk-07" in again.stderr
