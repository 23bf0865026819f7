"""Private key files: created owner-only and never overwritten; refused when others could read them."""

import os
import stat

import pytest

from hajiri_common.files import (
    KeyFileTooOpen,
    PrivateFileError,
    create_private,
    make_private_dir,
    precreate_private,
    read_private,
    write_atomic,
)


def test_a_private_file_is_owner_only_and_never_overwritten(tmp_path):
    path = tmp_path / "k.pem"
    create_private(path, b"secret")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        create_private(path, b"other")
    assert read_private(path, "test key") == b"secret"


def test_a_key_others_can_read_or_that_is_missing_is_refused_naming_it(tmp_path):
    path = tmp_path / "k.pem"
    create_private(path, b"secret")
    os.chmod(path, 0o640)
    with pytest.raises(PrivateFileError, match=r"test key .*k\.pem is accessible by other users \(mode 0640\); run: chmod 600 .*k\.pem"):
        read_private(path, "test key")
    with pytest.raises(PrivateFileError, match="test key .*missing.pem: cannot read"):
        read_private(tmp_path / "missing.pem", "test key")


def test_write_atomic_replaces_whole_with_the_mode_asked(tmp_path):
    path = tmp_path / "state.json"
    write_atomic(path, b"one", 0o644)
    write_atomic(path, b"two", 0o644)
    assert path.read_bytes() == b"two" and stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not (tmp_path / "state.json.tmp").exists()


def test_a_key_at_0644_is_refused_with_the_fix_and_at_0600_loads(tmp_path):
    path = tmp_path / "device_key.pem"
    create_private(path, b"secret")
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileTooOpen, match=rf"mode 0644\); run: chmod 600 {path}$"):
        read_private(path, "device key")
    os.chmod(path, 0o600)
    assert read_private(path, "device key") == b"secret"


def test_a_missing_file_can_be_told_from_a_bad_one(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_private(tmp_path / "none.pem", "device key", missing_ok=True)


def test_precreate_private_makes_an_owner_only_file_and_leaves_an_existing_one(tmp_path):
    path = tmp_path / "a.db"
    precreate_private(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_bytes() == b""
    path.write_bytes(b"data")
    os.chmod(path, 0o644)
    precreate_private(path)
    assert path.read_bytes() == b"data" and stat.S_IMODE(path.stat().st_mode) == 0o644


def test_make_private_dir_makes_each_new_folder_0700(tmp_path):
    make_private_dir(tmp_path / "a" / "b")
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    make_private_dir(tmp_path / "a" / "b")  # existing: fine
