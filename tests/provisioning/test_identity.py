"""Device identity: created once, loaded back, refused when tampered or malformed."""

import json
import os
import stat

import pytest

from hajiri_common.files import KeyFileTooOpen
from provisioning.identity import IDENTITY_FILE, KEY_FILE, IdentityError, create_identity, load_identity


def test_create_then_load(tmp_path):
    made = create_identity(tmp_path / "d", "kiosk-07", "office-3")
    loaded = load_identity(tmp_path / "d")
    assert (loaded.device_id, loaded.site_id, loaded.public_key_b64) == ("kiosk-07", "office-3", made.public_key_b64)
    assert stat.S_IMODE((tmp_path / "d" / KEY_FILE).stat().st_mode) == 0o600


def test_refuses_to_overwrite_an_identity(tmp_path):
    create_identity(tmp_path / "d", "kiosk-07", "office-3")
    with pytest.raises(IdentityError, match="refusing to overwrite"):
        create_identity(tmp_path / "d", "kiosk-08", "office-3")


@pytest.mark.parametrize("device_id", ["Kiosk 7", "k", "kiosk/07", "kiosk-+-07"])
def test_bad_device_ids_are_refused_by_name(tmp_path, device_id):
    with pytest.raises(IdentityError, match="device_id"):
        create_identity(tmp_path / "d", device_id, "office-3")


def test_key_that_does_not_match_is_refused(tmp_path):
    create_identity(tmp_path / "a", "kiosk-07", "office-3")
    create_identity(tmp_path / "b", "kiosk-08", "office-3")
    (tmp_path / "a" / KEY_FILE).write_bytes((tmp_path / "b" / KEY_FILE).read_bytes())
    with pytest.raises(IdentityError, match="does not match"):
        load_identity(tmp_path / "a")


def test_missing_identity_names_the_file(tmp_path):
    with pytest.raises(IdentityError, match="missing"):
        load_identity(tmp_path / "nothing")


def test_corrupt_identity_json(tmp_path):
    create_identity(tmp_path / "d", "kiosk-07", "office-3")
    (tmp_path / "d" / IDENTITY_FILE).write_text("{not json")
    with pytest.raises(IdentityError, match="unreadable"):
        load_identity(tmp_path / "d")
    (tmp_path / "d" / IDENTITY_FILE).write_text(json.dumps({"device_id": "kiosk-07"}))
    with pytest.raises(IdentityError):
        load_identity(tmp_path / "d")


def test_a_device_key_others_can_read_is_refused_with_the_fix(tmp_path):
    made = create_identity(tmp_path / "d", "kiosk-07", "office-3")
    key = tmp_path / "d" / KEY_FILE
    os.chmod(key, 0o644)
    with pytest.raises(IdentityError, match=rf"mode 0644\); run: chmod 600 {key}") as e:
        load_identity(tmp_path / "d")
    assert isinstance(e.value.__cause__, KeyFileTooOpen)
    os.chmod(key, 0o600)
    assert load_identity(tmp_path / "d").public_key_b64 == made.public_key_b64
