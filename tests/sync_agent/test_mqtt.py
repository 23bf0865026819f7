"""The agent's MQTT client: a TLS client key others can read is refused before paho loads it."""

import os

import pytest

from hajiri_common.files import KeyFileTooOpen
from provisioning.pki import create_ca, issue_client_cert
from sync_agent.config import MqttConfig
from sync_agent.mqtt import make_client


def test_a_client_key_at_0644_is_refused_and_at_0600_used(tmp_path):
    ca = create_ca(tmp_path / "pki")
    pair = issue_client_cert(ca, tmp_path / "pki", "kiosk-07")
    config = MqttConfig.model_validate({"tls": {"ca_file": ca.files.cert_file, "cert_file": pair.cert_file,
                                                "key_file": pair.key_file}})
    os.chmod(pair.key_file, 0o644)
    with pytest.raises(KeyFileTooOpen, match=f"run: chmod 600 {pair.key_file}"):
        make_client(config, "kiosk-07", "kiosk-07", None, 20)
    os.chmod(pair.key_file, 0o600)
    assert make_client(config, "kiosk-07", "kiosk-07", None, 20) is not None
