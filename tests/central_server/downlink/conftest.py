"""Downlink fixtures: the server's signing key in the test's folder."""

import pytest

from central_server.downlink.keys import load_or_create_signing_key
from hajiri_wire import DeviceKey


@pytest.fixture
def server_key(tmp_path) -> DeviceKey:
    return load_or_create_signing_key(tmp_path / "keys" / "signing.pem")
