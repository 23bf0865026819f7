"""Publish downlink envelopes: QoS 1, retained (the broker keeps each device's latest per kind), PUBACK awaited;
store-then-publish for the API (versions committed first, marked published once the broker acked them)."""

import logging
import secrets
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.engine import Engine

from central_server.config import MqttConfig
from central_server.downlink.keys import DownlinkKeyError
from central_server.downlink.versions import (
    DownlinkError,
    Stored,
    make_notices,
    mark_published,
    notice_devices,
    target_devices,
)
from central_server.errors import Conflict, Invalid
from hajiri_common.files import PrivateFileError
from hajiri_wire import DeviceKey, WireError

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
        try:
            client.tls_set(**config.tls_arguments())  # with the client certificate when the broker requires one
        except PrivateFileError as e:
            raise PublishError(str(e)) from e
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


class PublishRaced(Conflict):
    """Two publishes for the same devices took the same version number; the caller tries again."""


Build = Callable[[sa.Connection, DeviceKey, list[str]], list[Stored]]


def store_versions(engine: Engine, key: DeviceKey, site_id: str | None, device_ids: list[str] | None,
                   build: Build) -> list[Stored]:
    """Build and commit a version for each target device (the site's active devices, or those named)."""
    try:
        with engine.begin() as conn:
            return build(conn, key, target_devices(conn, site_id, device_ids))
    # NoTargets (404), NoEncKey (409) and DownlinkError (422) carry their status; the wire layer knows no HTTP.
    except WireError as e:
        raise Invalid(str(e)) from e
    except sa.exc.IntegrityError as e:
        raise PublishRaced("another publish for these devices ran at the same time; try again") from e


def publish_stored(engine: Engine, config: MqttConfig, stored: list[Stored]) -> dict:
    """After the commit: put each version on its retained topic, then note which went out. A broker that is
    down is reported, not raised: the versions stay stored and go out on republish."""
    error = None
    try:
        publish_retained(config, [(s.topic, s.envelope) for s in stored])
    except PublishError as e:
        error = str(e)
    else:
        with engine.begin() as conn:
            mark_published(conn, [s.id for s in stored])
    return {"items": [{"device_id": s.device_id, "kind": s.kind, "version": s.version, "published": error is None}
                      for s in stored], "error": error}


def deliver_notices(engine: Engine, config: MqttConfig, key_of: Callable[[], DeviceKey], notice: dict) -> dict:
    """Best effort, after the notice is committed: each reached kiosk's notices envelope, retained at QoS 1. A
    broker that is down costs only this: the envelope is derived from the notices table, so a republish (or the
    next notice) sends it later."""
    with engine.connect() as conn:
        targets = notice_devices(conn, notice)
    if not targets:
        return {"devices": 0, "published": False}
    try:
        key = key_of()
        with engine.connect() as conn:
            stored = make_notices(conn, key, targets)
        publish_retained(config, [(s.topic, s.envelope) for s in stored])
    except (DownlinkKeyError, DownlinkError, WireError, PublishError) as e:
        log.warning("notice %s is stored but not yet on %d kiosk(s): %s", notice["id"], len(targets), e)
        return {"devices": len(targets), "published": False, "error": str(e)}
    return {"devices": len(targets), "published": True}
