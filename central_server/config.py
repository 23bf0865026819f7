"""The central server's config: database, HTTP listener, MQTT ingest account, bootstrap admin token."""

import os
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from central_server.http.limits import Network, parse_networks
from hajiri_common.config import ConfigError, load_config
from hajiri_common.files import read_private
from hajiri_wire.topics import SERVER_USER

ADMIN_TOKEN_ENV = "HAJIRI_ADMIN_TOKEN"
MQTT_PASSWORD_ENV = "HAJIRI_MQTT_PASSWORD"
MIN_TOKEN_CHARS = 24

Host = Annotated[str, StringConstraints(min_length=1, max_length=253)]
Port = Annotated[int, Field(ge=1, le=65535)]


class HttpConfig(BaseModel):
    """Where the API and dashboard listen."""

    model_config = ConfigDict(extra="forbid")

    host: Host = "127.0.0.1"
    port: Port = 8080
    # /docs and /openapi.json are public by nature in FastAPI; off unless asked for (development).
    api_docs: bool = False
    # Behind a TLS-terminating proxy the app sees http://: this marks the session cookie Secure anyway.
    secure_cookies: bool = False
    # The web app's language for people who have not chosen one ("hi" or "en").
    language: Annotated[str, StringConstraints(pattern=r"^(hi|en)$")] = "en"
    # Bodies over this are refused with 413 before they are read or authenticated. The largest legitimate
    # one is 10 enrolment photos (up to 1.4 MB of base64 each, about 14 MB): 16 MiB leaves room for JSON.
    max_body_bytes: Annotated[int, Field(ge=64 * 1024, le=256 * 1024 * 1024)] = 16 * 1024 * 1024
    # Reverse proxies (IP or CIDR) whose X-Forwarded-For is believed; from any other peer it is ignored.
    trusted_proxies: Annotated[list[str], Field(max_length=100)] = []

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, values: list[str]) -> list[str]:
        parse_networks(values)
        return values

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)


class MqttConfig(BaseModel):
    """The ingest worker's broker connection: a persistent MQTTv5 session as the server account."""

    model_config = ConfigDict(extra="forbid")

    host: Host = "127.0.0.1"
    port: Port = 1883
    username: Annotated[str, StringConstraints(min_length=1, max_length=128)] = SERVER_USER
    password: str | None = None
    # Fixed, not random: the broker keeps the session (and its queued QoS 1 messages) under this id.
    client_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = "hajiri-central-ingest"
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 30
    # How long the broker keeps queueing for the server while it is down (default one week).
    session_expiry_s: Annotated[int, Field(ge=60, le=4_294_967_295)] = 7 * 24 * 3600
    reconnect_min_s: Annotated[int, Field(ge=1, le=60)] = 1
    reconnect_max_s: Annotated[int, Field(ge=1, le=600)] = 30
    tls: bool = False
    ca_file: Path | None = None
    # A client certificate (CN = the server's broker user) instead of, or beside, the password.
    cert_file: Path | None = None
    key_file: Path | None = None

    @model_validator(mode="after")
    def _check(self) -> "MqttConfig":
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError(f"reconnect_max_s ({self.reconnect_max_s}) is below reconnect_min_s "
                             f"({self.reconnect_min_s})")
        if (self.ca_file is not None or self.cert_file is not None) and not self.tls:
            raise ValueError("ca_file / cert_file is set but tls is false; set tls = true to use it")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together: give both or neither")
        return self

    def tls_arguments(self) -> dict:
        """paho's tls_set arguments, the same for ingest and downlink publishing (the broker may require the
        certificate of both); a client key others can read is refused (KeyFileTooOpen) before it is used."""
        if self.key_file is not None:
            read_private(self.key_file, "MQTT client key")
        return {"ca_certs": None if self.ca_file is None else str(self.ca_file),
                "certfile": None if self.cert_file is None else str(self.cert_file),
                "keyfile": None if self.key_file is None else str(self.key_file)}


class IngestConfig(BaseModel):
    """The MQTT ingest worker and its rejection log."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # Rows kept in the rejections table; the oldest go first so a flood cannot fill the disk.
    rejections_keep: Annotated[int, Field(ge=100, le=10_000_000)] = 100_000
    # How many of the latest rejections GET /api/v1/ingest/stats shows.
    recent_rejections: Annotated[int, Field(ge=1, le=1000)] = 50


class AccessConfig(BaseModel):
    """Password login (throttle, token lifetime) and the field-inspection repeat-village flag."""

    model_config = ConfigDict(extra="forbid")

    # Failed logins allowed per username and per client address within the window before a 429.
    max_failures_per_user: Annotated[int, Field(ge=1, le=100)] = 5
    # Higher per address: a whole office may sit behind one NAT address.
    max_failures_per_ip: Annotated[int, Field(ge=1, le=10_000)] = 20
    failure_window_s: Annotated[int, Field(ge=60, le=86_400)] = 15 * 60
    login_token_ttl_s: Annotated[int, Field(ge=60, le=7 * 86_400)] = 8 * 3600
    # An officer's visit is flagged repeat_village when it is more than this many visits to one village ...
    repeat_village_visits: Annotated[int, Field(ge=1, le=1000)] = 3
    # ... within this many days.
    repeat_village_days: Annotated[int, Field(ge=1, le=366)] = 30


class DaysConfig(BaseModel):
    """The day settler: how often past shifts' days are stored as final, and how far back it looks."""

    model_config = ConfigDict(extra="forbid")

    settle: bool = True
    settle_every_s: Annotated[int, Field(ge=10, le=86_400)] = 600
    look_back_days: Annotated[int, Field(ge=0, le=7)] = 2


class ServerConfig(BaseModel):
    """Everything `hajiri server` needs; a TOML file's keys over these defaults."""

    model_config = ConfigDict(extra="forbid")

    database_url: Annotated[str, StringConstraints(min_length=1)] = "sqlite:///./var/central.db"
    # The office's local day decides what "today" and ?date= mean.
    timezone: str = "Asia/Kolkata"
    bootstrap_admin_token: str | None = None
    http: HttpConfig = HttpConfig()
    mqtt: MqttConfig = MqttConfig()
    ingest: IngestConfig = IngestConfig()
    access: AccessConfig = AccessConfig()
    days: DaysConfig = DaysConfig()
    # AES-256 key (hex, mode 0600, created on first enrolment) for the central face templates. Default:
    # templates.key beside a SQLite database, else ./var/templates.key. Never in the repo.
    template_key_file: Path | None = None
    # Ed25519 key (PEM, mode 0600, created on first use) that signs every downlink to the kiosks. Default:
    # downlink_signing_key.pem beside a SQLite database, else ./var/downlink_signing_key.pem. Never in the repo.
    downlink_key_file: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        if not url.startswith(("sqlite://", "postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:// or postgresql:// (e.g. sqlite:///./var/central.db)")
        return url

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Asia/Kolkata)") from e
        return name

    @field_validator("bootstrap_admin_token")
    @classmethod
    def _check_token(cls, token: str | None) -> str | None:
        if token is not None and len(token) < MIN_TOKEN_CHARS:
            raise ValueError(f"too short: at least {MIN_TOKEN_CHARS} characters")
        return token

    @property
    def sqlalchemy_url(self) -> str:
        return sqlalchemy_url(self.database_url)

    @property
    def templates_key_path(self) -> Path:
        """Where the template key lives: the configured file, else the server's data dir."""
        if self.template_key_file is not None:
            return self.template_key_file
        if self.database_url.startswith("sqlite:///") and self.database_url != "sqlite:///:memory:":
            return Path(self.database_url[len("sqlite:///"):]).parent / "templates.key"
        return Path("var") / "templates.key"

    @property
    def downlink_key_path(self) -> Path:
        """Where the downlink signing key lives: the configured file, else the server's data dir."""
        if self.downlink_key_file is not None:
            return self.downlink_key_file
        return self.templates_key_path.parent / "downlink_signing_key.pem"


def sqlalchemy_url(url: str) -> str:
    """postgresql:// and postgres:// mean psycopg 3 (SQLAlchemy's default would be psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_server_config(path: Path | None, *, env: dict[str, str] | None = None) -> ServerConfig:
    """The config file (or defaults), then secrets from the environment so they need not sit in a file."""
    env = os.environ if env is None else env
    config = load_config(ServerConfig, path)
    updates: dict = {}
    if env.get(ADMIN_TOKEN_ENV):
        if len(env[ADMIN_TOKEN_ENV]) < MIN_TOKEN_CHARS:
            raise ConfigError(f"{ADMIN_TOKEN_ENV}: too short, at least {MIN_TOKEN_CHARS} characters")
        updates["bootstrap_admin_token"] = env[ADMIN_TOKEN_ENV]
    if env.get(MQTT_PASSWORD_ENV):
        config = config.model_copy(update={"mqtt": config.mqtt.model_copy(update={"password": env[MQTT_PASSWORD_ENV]})})
    return config.model_copy(update=updates) if updates else config
