"""Build the agent's paho-mqtt client: MQTT v5, persistent session, credentials, optional TLS."""

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hajiri_common.files import read_private
from sync_agent.config import MqttConfig


def make_client(config: MqttConfig, client_id: str, username: str, password: str | None,
                max_inflight: int) -> mqtt.Client:
    """A client whose id is the device id, so the broker keeps one session per kiosk across reconnects.

    With a client certificate and no password, the broker takes the user from the certificate."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)
    if config.tls is not None:
        if config.tls.key_file is not None:  # ssl would load a key anyone can read without a word
            read_private(config.tls.key_file, "MQTT client key")
        client.tls_set(ca_certs=str(config.tls.ca_file),
                       certfile=None if config.tls.cert_file is None else str(config.tls.cert_file),
                       keyfile=None if config.tls.key_file is None else str(config.tls.key_file))
    client.max_inflight_messages_set(max(20, max_inflight))
    client.max_queued_messages_set(0)  # unbounded here: the agent's own window bounds what it hands over
    client.reconnect_delay_set(config.reconnect_min_s, config.reconnect_min_s)
    return client


def connect_properties(session_expiry_s: int) -> Properties:
    """CONNECT properties: keep the session (subscription and queued acks) while the kiosk is offline."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = session_expiry_s
    return props


def connect_async(client: mqtt.Client, config: MqttConfig) -> None:
    """Start connecting in the background: a broker that is down now is retried, never an error."""
    client.connect_async(config.host, config.port, keepalive=config.keepalive_s, clean_start=False,
                         properties=connect_properties(config.session_expiry_s))
