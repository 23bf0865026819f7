"""AES key files: made once (0600, hex), read back, and every problem a KeyFileError that names the key."""

import os
from pathlib import Path

import pytest

from hajiri_common.keys import KeyFileError, load_key, load_or_create_key


def test_a_key_is_created_once_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "gallery.key"
    key = load_or_create_key(path, "gallery key")
    assert len(key) == 32 and os.stat(path).st_mode & 0o777 == 0o600
    assert load_or_create_key(path, "gallery key") == key == load_key(path, "gallery key")


def test_key_file_problems_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "evidence.key"
    with pytest.raises(KeyFileError, match=f"evidence key {path}: cannot read"):
        load_key(path, "evidence key")
    load_or_create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="template key .* chmod 600"):
        load_key(path, "template key")
    os.chmod(path, 0o600)
    path.write_text("not hex\n")
    with pytest.raises(KeyFileError, match="is not hex"):
        load_key(path)
    path.write_text("abcd\n")
    with pytest.raises(KeyFileError, match="holds 2 bytes, AES-256 needs 32"):
        load_or_create_key(path)
