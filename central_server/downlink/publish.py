"""Publish downlink envelopes: QoS 1, retained (the broker keeps each device's latest per kind), PUBACK awaited."""

import logging
import secrets
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from central_server.config import MqttConfig

log = logging.getLogger(__name__)
PUBLISH_TIMEOUT_S = 10.0


class PublishError(RuntimeError):
    """The broker could not be reached or did not accept a downlink; it stays stored, unpublished."""


def publish_retained(config: MqttConfig, items: list[tuple[str, bytes]], timeout: float = PUBLISH_TIMEOUT_S) -> None:
    """Publish each (topic, payload) retained at QoS 1 on a short-lived connection; returns once all are acked.

    Admin publishes are rare (a few a day), so a connection per request is simpler and safer than sharing the
    ingest worker's: nothing here can stall ingest, and a broker that is down costs only this request.
    """
    if not items:
        return
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hajiri-downlink-{secrets.token_hex(4)}",
                         protocol=mqtt.MQTTv5)
    client.username_pw_set(config.username, config.password)
    if config.tls:
        client.tls_set(ca_certs=str(config.ca_file) if config.ca_file else None)
    connected = threading.Event()
    refused: list[str] = []
    acked: dict[int, object] = {}
    done = threading.Condition()

    def on_connect(_c, _u, _f, reason_code, _p) -> None:
        if reason_code.is_failure:
            refused.append(str(reason_code))
        connected.set()

    def on_publish(_c, _u, mid, reason_code, _p) -> None:
        with done:
            acked[mid] = reason_code
            done.notify_all()

    client.on_connect = on_connect
    client.on_publish = on_publish
    try:
        client.connect(config.host, config.port, keepalive=config.keepalive_s)
    except OSError as e:
        raise PublishError(f"cannot reach the broker {config.host}:{config.port}: {e}") from e
    client.loop_start()
    try:
        if not connected.wait(timeout) or refused:
            raise PublishError(f"broker refused the downlink connection as {config.username}: "
                               f"{refused[0] if refused else 'no answer'}")
        mids = []
        for topic, payload in items:
            info = client.publish(topic, payload, qos=1, retain=True)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise PublishError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
            mids.append((info.mid, topic))
        with done:
            if not done.wait_for(lambda: all(m in acked for m, _ in mids), timeout):
                raise PublishError(f"the broker did not acknowledge {len(mids)} downlink(s) within {timeout}s")
        failed = [(t, acked[m]) for m, t in mids if getattr(acked[m], "is_failure", False)]
        if failed:
            raise PublishError(f"the broker refused {failed[0][0]}: {failed[0][1]}")
    finally:
        client.disconnect()
        client.loop_stop()
