"""The site CA: its key is refused when others can read it, and a missing CA is named as such."""

import os

import pytest

from provisioning.pki import PkiError, create_ca, load_ca


def test_a_ca_key_others_can_read_is_refused_and_at_0600_loads(tmp_path):
    create_ca(tmp_path / "pki")
    key = tmp_path / "pki" / "ca.key"
    os.chmod(key, 0o644)
    with pytest.raises(PkiError, match=rf"mode 0644\); run: chmod 600 {key}"):
        load_ca(tmp_path / "pki")
    os.chmod(key, 0o600)
    assert load_ca(tmp_path / "pki").files.key_file == key


def test_a_missing_ca_key_says_so(tmp_path):
    create_ca(tmp_path / "pki")
    (tmp_path / "pki" / "ca.key").unlink()
    with pytest.raises(PkiError, match="no CA"):
        load_ca(tmp_path / "pki")
