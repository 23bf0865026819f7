"""The sync agent's settings: where the identity and outbox live, how to reach the broker, pacing and retries."""

from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from hajiri_common.config import ConfigError
from hajiri_wire.messages import MAX_BATCH_RECORDS

SEVEN_DAYS_S = 7 * 24 * 3600


class TlsConfig(BaseModel):
    """Broker TLS: the CA that signed the broker's certificate, and optionally a client certificate."""

    model_config = ConfigDict(extra="forbid")

    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> Self:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together: give both or neither")
        return self


class MqttConfig(BaseModel):
    """How the agent reaches the broker. The broker user is the device id unless `username` says otherwise."""

    model_config = ConfigDict(extra="forbid")

    host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    username: Annotated[str, Field(min_length=1)] | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    tls: TlsConfig | None = None
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 30
    # How long the broker keeps this kiosk's session (subscription + queued acks) while it is offline.
    session_expiry_s: Annotated[int, Field(ge=60, le=30 * 24 * 3600)] = SEVEN_DAYS_S
    reconnect_min_s: Annotated[float, Field(gt=0, le=600)] = 1.0
    reconnect_max_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    # Each wait is shortened by up to this fraction at random, so a site's kiosks do not reconnect in step.
    reconnect_jitter: Annotated[float, Field(ge=0, le=0.9)] = 0.5

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give password or password_file, not both")
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError(f"reconnect_min_s ({self.reconnect_min_s}) is more than "
                             f"reconnect_max_s ({self.reconnect_max_s})")
        return self

    def resolve_password(self) -> str | None:
        """The broker password, read from password_file when given; None when a client certificate is the
        credential (mqtt.tls.cert_file). Raises ConfigError naming the key."""
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is None:
            if self.tls is not None and self.tls.cert_file is not None:
                return None
            raise ConfigError("mqtt.password or mqtt.password_file is required (the broker refuses anonymous "
                              "clients), or a client certificate in mqtt.tls.cert_file / key_file")
        try:
            text = self.password_file.read_text()
        except OSError as e:
            raise ConfigError(f"mqtt.password_file: cannot read {self.password_file}: {e.strerror or e}") from e
        password = text.strip()
        if not password:
            raise ConfigError(f"mqtt.password_file: {self.password_file} is empty")
        return password


class DownlinkSettings(BaseModel):
    """Where verified downlinks land: the kiosk's gallery file (and key), and the applied config and commands."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # versions applied per kind, site_config.json and commands.jsonl (which the kiosk reads)
    state_dir: Path = Path("/var/lib/hajiri/downlink")
    # None: the kiosk config's gallery_path / key (kiosk_config), else the kiosk's defaults.
    gallery_path: Path | None = None
    gallery_key_path: Path | None = None


class SyncConfig(BaseModel):
    """Everything `hajiri sync` needs; every key has a safe default except the broker password."""

    model_config = ConfigDict(extra="forbid")

    device_dir: Path = Path("/var/lib/hajiri/device")
    store: Path = Path("/var/lib/hajiri/kiosk.db")
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    batch_size: Annotated[int, Field(ge=1, le=MAX_BATCH_RECORDS)] = 50
    max_inflight_batches: Annotated[int, Field(ge=1, le=64)] = 4
    # An unacked batch is sent again after this long (duplicates are fine: the server is idempotent).
    ack_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    poll_interval_s: Annotated[float, Field(gt=0, le=60)] = 1.0
    # A heartbeat (outbox depth, clock offset, temperature, disk, errors) goes up this often while connected.
    heartbeat_interval_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    # Every other free window slot carries the newest pending records, so a long backlog never holds up
    # today's records; the server accepts records out of order (the chain is checked by seq).
    interleave_newest: bool = True
    # The kiosk's own config file: its liveness setting goes into every heartbeat, and its spoof evidence
    # crops are sent (see sync_agent/evidence_upload.py). None: neither is reported nor sent.
    kiosk_config: Path | None = None
    downlink: DownlinkSettings = Field(default_factory=DownlinkSettings)
