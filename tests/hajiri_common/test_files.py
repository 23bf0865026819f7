"""Private key files: created owner-only and never overwritten; refused when others could read them."""

import os
import stat

import pytest

from hajiri_common.files import PrivateFileError, create_private, read_private, write_atomic


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
    with pytest.raises(PrivateFileError, match=r"test key .*k\.pem is accessible by other users \(mode 640\)"):
        read_private(path, "test key")
    with pytest.raises(PrivateFileError, match="test key .*missing.pem: cannot read"):
        read_private(tmp_path / "missing.pem", "test key")


def test_write_atomic_replaces_whole_with_the_mode_asked(tmp_path):
    path = tmp_path / "state.json"
    write_atomic(path, b"one", 0o644)
    write_atomic(path, b"two", 0o644)
    assert path.read_bytes() == b"two" and stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not (tmp_path / "state.json.tmp").exists()
