"""Signing key swap on disk: every state a power cut can leave still loads an identity with a usable key."""

import json
import os
import stat

import pytest

from hajiri_common.files import write_atomic
from provisioning.identity import (
    IDENTITY_FILE,
    KEY_FILE,
    PENDING_KEY_FILE,
    IdentityError,
    create_identity,
    create_pending_key,
    discard_pending_key,
    load_identity,
    pending_key,
    swap_signing_key,
)


@pytest.fixture
def device(tmp_path):
    create_identity(tmp_path, "kiosk-01", "office-1")
    return tmp_path


def test_pending_key_is_private_and_never_replaced(device):
    key = create_pending_key(device)
    assert stat.S_IMODE(os.stat(device / PENDING_KEY_FILE).st_mode) == 0o600
    assert pending_key(device).public_b64 == key.public_b64
    with pytest.raises(FileExistsError):
        create_pending_key(device)
    assert load_identity(device).public_key_b64 != key.public_b64, "a pending key is not the identity's yet"


def test_swap_makes_the_pending_key_the_identity(device):
    before = load_identity(device)
    new = create_pending_key(device)
    after = swap_signing_key(device)
    assert after.public_key_b64 == new.public_b64 != before.public_key_b64
    assert after.enc_public_key_b64 == before.enc_public_key_b64, "the X25519 key is not touched"
    assert not (device / PENDING_KEY_FILE).exists()
    assert stat.S_IMODE(os.stat(device / KEY_FILE).st_mode) == 0o600
    assert json.loads((device / IDENTITY_FILE).read_text())["public_key"] == new.public_b64
    assert swap_signing_key(device).public_key_b64 == new.public_b64, "running it again changes nothing"


def test_a_swap_cut_after_device_json_loads_the_new_key_and_finishes(device):
    new = create_pending_key(device)
    doc = json.loads((device / IDENTITY_FILE).read_text())
    doc["public_key"] = new.public_b64
    write_atomic(device / IDENTITY_FILE, json.dumps(doc).encode(), 0o644)  # power cut right after this step
    assert load_identity(device).public_key_b64 == new.public_b64
    assert (device / PENDING_KEY_FILE).exists(), "load_identity only reads"
    assert swap_signing_key(device).public_key_b64 == new.public_b64
    assert not (device / PENDING_KEY_FILE).exists()


def test_a_swap_cut_before_device_json_keeps_the_old_key(device):
    old = load_identity(device)
    create_pending_key(device)
    (device / (IDENTITY_FILE + ".tmp")).write_text("{half")  # write_atomic's temporary file, never renamed
    assert load_identity(device).public_key_b64 == old.public_key_b64


def test_a_cut_after_the_key_file_but_before_cleanup_loads(device):
    new = create_pending_key(device)
    doc = json.loads((device / IDENTITY_FILE).read_text())
    doc["public_key"] = new.public_b64
    write_atomic(device / IDENTITY_FILE, json.dumps(doc).encode(), 0o644)
    write_atomic(device / KEY_FILE, (device / PENDING_KEY_FILE).read_bytes())
    assert load_identity(device).public_key_b64 == new.public_b64
    assert swap_signing_key(device).public_key_b64 == new.public_b64


def test_discard_drops_a_refused_key_but_never_the_identitys(device):
    old = load_identity(device)
    create_pending_key(device)
    discard_pending_key(device)
    assert pending_key(device) is None and load_identity(device).public_key_b64 == old.public_key_b64
    new = create_pending_key(device)
    doc = json.loads((device / IDENTITY_FILE).read_text())
    doc["public_key"] = new.public_b64
    write_atomic(device / IDENTITY_FILE, json.dumps(doc).encode(), 0o644)
    with pytest.raises(IdentityError, match="finish the swap"):
        discard_pending_key(device)


def test_a_foreign_key_file_is_still_refused(device):
    from hajiri_wire import DeviceKey

    os.unlink(device / KEY_FILE)
    DeviceKey.generate().save(device / KEY_FILE)
    with pytest.raises(IdentityError, match="does not match"):
        load_identity(device)
