"""ServerConfig: defaults, bounds, URL handling and secrets from the environment."""

import pytest

from central_server.config import ServerConfig, load_server_config, sqlalchemy_url
from hajiri_common.config import ConfigError


def test_defaults_and_postgres_url():
    config = load_server_config(None, env={})
    assert config.database_url == "sqlite:///./var/central.db"
    assert config.mqtt.username == "central-ingest" and config.ingest.enabled
    assert sqlalchemy_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert sqlalchemy_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("toml,key", [
    ("[http]\nport = 70000\n", "http.port"),
    ("database_url = 'mysql://x'\n", "database_url"),
    ("timezone = 'Mars/Olympus'\n", "timezone"),
    ("[mqtt]\nca_file = '/etc/ca.pem'\n", "mqtt"),
    ("[mqtt]\nreconnect_min_s = 10\nreconnect_max_s = 5\n", "mqtt"),
    ("[ingest]\nrejections_keep = 1\n", "ingest.rejections_keep"),
    ("bootstrap_admin_token = 'short'\n", "bootstrap_admin_token"),
    ("colour = 'blue'\n", "colour"),
])
def test_bad_values_name_the_key(tmp_path, toml, key):
    path = tmp_path / "server.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_server_config(path, env={})


def test_secrets_from_the_environment(tmp_path):
    token = "t" * 32
    config = load_server_config(None, env={"HAJIRI_ADMIN_TOKEN": token, "HAJIRI_MQTT_PASSWORD": "pw"})
    assert config.bootstrap_admin_token == token and config.mqtt.password == "pw"
    with pytest.raises(ConfigError, match="HAJIRI_ADMIN_TOKEN"):
        load_server_config(None, env={"HAJIRI_ADMIN_TOKEN": "short"})


def test_file_values_are_used(tmp_path):
    path = tmp_path / "server.toml"
    path.write_text("database_url = 'postgresql://postgres@db/hajiri'\n[mqtt]\nport = 8883\ntls = true\n")
    config = load_server_config(path, env={})
    assert isinstance(config, ServerConfig)
    assert config.sqlalchemy_url.startswith("postgresql+psycopg://") and config.mqtt.tls and config.mqtt.port == 8883
