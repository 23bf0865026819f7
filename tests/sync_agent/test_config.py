"""Sync agent config: defaults, bounds, cross-field rules and errors that name the key."""

import pytest

from hajiri_common.config import ConfigError, load_config, parse_config
from hajiri_wire.messages import MAX_BATCH_RECORDS
from sync_agent.config import SyncConfig


def test_defaults_are_valid_and_keep_a_week_long_session():
    config = load_config(SyncConfig, None)
    assert config.mqtt.session_expiry_s == 7 * 24 * 3600
    assert 1 <= config.batch_size <= MAX_BATCH_RECORDS
    assert config.mqtt.username is None  # the device id is used


def test_toml_file_is_read(tmp_path):
    path = tmp_path / "sync.toml"
    path.write_text('store = "/data/kiosk.db"\nbatch_size = 20\n[mqtt]\nhost = "broker.lan"\nport = 8883\n'
                    'password = "s3cret"\n[mqtt.tls]\nca_file = "/etc/hajiri/ca.pem"\n')
    config = load_config(SyncConfig, path)
    assert (config.batch_size, config.mqtt.host, config.mqtt.port) == (20, "broker.lan", 8883)
    assert str(config.mqtt.tls.ca_file) == "/etc/hajiri/ca.pem"
    assert config.mqtt.resolve_password() == "s3cret"
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize(("data", "key", "words"), [
    ({"batch_size": MAX_BATCH_RECORDS + 1}, "batch_size", "less than or equal"),
    ({"batch_size": 0}, "batch_size", "greater than or equal"),
    ({"max_inflight_batches": 0}, "max_inflight_batches", "greater than or equal"),
    ({"ack_timeout_s": 0}, "ack_timeout_s", "greater than"),
    ({"mqtt": {"port": 70000}}, "mqtt.port", "less than or equal"),
    ({"mqtt": {"hots": "x"}}, "mqtt.hots", "unknown key"),
    ({"bogus": 1}, "bogus", "unknown key"),
    ({"mqtt": {"password": "a", "password_file": "/p"}}, "mqtt", "not both"),
    ({"mqtt": {"reconnect_min_s": 10, "reconnect_max_s": 5}}, "mqtt", "reconnect_min_s"),
    ({"mqtt": {"tls": {"ca_file": "/ca", "cert_file": "/c"}}}, "mqtt.tls", "cert_file and key_file"),
    ({"mqtt": {"reconnect_jitter": 1.0}}, "mqtt.reconnect_jitter", "less than or equal"),
    ({"heartbeat_interval_s": 0}, "heartbeat_interval_s", "greater than"),
    ({"heartbeat_interval_s": 7200}, "heartbeat_interval_s", "less than or equal"),
    ({"interleave_newest": "sometimes"}, "interleave_newest", "boolean"),
])
def test_bad_values_name_the_key(data, key, words):
    with pytest.raises(ConfigError) as err:
        parse_config(SyncConfig, data, "sync.toml")
    assert f"  {key}: " in str(err.value) and words in str(err.value)


def test_password_file_is_read_and_trimmed(tmp_path):
    (tmp_path / "pw").write_text("from-file\n")
    config = parse_config(SyncConfig, {"mqtt": {"password_file": str(tmp_path / "pw")}})
    assert config.mqtt.resolve_password() == "from-file"


@pytest.mark.parametrize(("setup", "words"), [
    (None, "mqtt.password or mqtt.password_file is required"),
    ("missing", "mqtt.password_file: cannot read"),
    ("", "mqtt.password_file:"),
])
def test_missing_password_is_a_named_error(tmp_path, setup, words):
    mqtt = {}
    if setup is not None:
        if setup != "missing":
            (tmp_path / "pw").write_text(setup)
        mqtt["password_file"] = str(tmp_path / "pw")
    config = parse_config(SyncConfig, {"mqtt": mqtt})
    with pytest.raises(ConfigError, match=words):
        config.mqtt.resolve_password()
