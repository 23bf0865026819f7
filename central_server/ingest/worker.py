"""The ingest worker: a paho MQTTv5 session on the shared uplink subscriptions, each message dispatched by kind."""

import logging
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.engine import Engine

from central_server.attendance.rules.recompute import recompute_after_ingest
from central_server.config import ServerConfig
from central_server.downlink.keys import DownlinkKeyError, load_or_create_signing_key
from central_server.evidence.ingest import server_evidence_key
from central_server.ingest.handling import Context, Handled
from central_server.ingest.rejections import IngestStats
from central_server.ingest.routes import dispatch
from hajiri_wire import DeviceKey, topics

log = logging.getLogger(__name__)

# Every uplink through the shared group: N workers split the load, each message once. Heartbeats at QoS 0.
SUBSCRIPTIONS = [(topics.RECORDS_SHARED, 1), (topics.HEARTBEAT_SHARED, 0), (topics.EVIDENCE_SHARED, 1),
                 (topics.DOWNLINK_STATUS_SHARED, 1), (topics.KEY_ROTATION_SHARED, 1)]


class IngestWorker:
    """The paho MQTT loop in a thread: a persistent MQTTv5 session on the shared uplink subscriptions."""

    def __init__(self, config: ServerConfig, engine: Engine, *, stats: IngestStats | None = None) -> None:
        self.config = config
        self.engine = engine
        self.stats = stats if stats is not None else IngestStats()
        self.subscribed = threading.Event()
        self._client: mqtt.Client | None = None
        self._ctx = Context(engine, self.stats, config.ingest.rejections_keep,
                            evidence_key=lambda: server_evidence_key(config), signing_key=self._signing_key)

    def start(self) -> None:
        """Connect in the background; paho retries (with backoff) until the broker is there."""
        if self._client is not None:
            raise RuntimeError("ingest worker already started")
        m = self.config.mqtt
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=m.client_id, protocol=mqtt.MQTTv5)
        client.username_pw_set(m.username, m.password)
        if m.tls:
            client.tls_set(**m.tls_arguments())
        client.reconnect_delay_set(m.reconnect_min_s, m.reconnect_max_s)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)
        # The broker keeps our session and queues QoS 1 records for this long while the server is down.
        props.SessionExpiryInterval = m.session_expiry_s
        client.connect_async(m.host, m.port, keepalive=m.keepalive_s, clean_start=False, properties=props)
        client.loop_start()
        self._client = client
        log.info("ingest worker connecting to %s:%d as %s", m.host, m.port, m.username)

    def stop(self) -> None:
        """Disconnect cleanly; the broker keeps the session, so records sent meanwhile wait for us."""
        client, self._client = self._client, None
        if client is None:
            return
        client.disconnect()
        client.loop_stop()
        self.subscribed.clear()

    def wait_subscribed(self, timeout: float) -> bool:
        return self.subscribed.wait(timeout)

    def _on_connect(self, client: mqtt.Client, _userdata, flags, reason_code, _props) -> None:
        if reason_code.is_failure:
            log.error("broker refused the ingest connection: %s (will retry)", reason_code)
            return
        log.info("ingest connected (session present: %s); subscribing %s", flags.session_present,
                 topics.RECORDS_SHARED)
        client.subscribe(SUBSCRIPTIONS)

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _props) -> None:
        if any(rc.is_failure for rc in reason_codes):
            log.error("broker refused the records subscription: %s", reason_codes)
            return
        self.subscribed.set()

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _props) -> None:
        self.subscribed.clear()
        if reason_code != 0:
            log.warning("ingest disconnected from the broker: %s (reconnecting)", reason_code)

    def _on_message(self, client: mqtt.Client, _userdata, msg: mqtt.MQTTMessage) -> None:
        try:
            handled = dispatch(self._ctx, msg.topic, msg.payload)
            self._publish(client, handled)  # only now, after the commit, may the kiosk stop resending
            self._recompute_days(handled.touched)
        except Exception:  # paho would end its loop on an exception from a callback
            log.exception("unexpected error handling a message on %s", msg.topic)

    def _publish(self, client: mqtt.Client, handled: Handled) -> None:
        for out in handled.publish:
            client.publish(out.topic, out.payload, qos=out.qos, retain=out.retain)
            if out.ack:
                self.stats.count(acks_sent=1)

    def _signing_key(self) -> DeviceKey | None:
        """The downlink signing key, which signs key rotation answers; None (and logged) when unreadable."""
        try:
            return load_or_create_signing_key(self.config.downlink_key_path)
        except DownlinkKeyError as e:
            log.error("downlink signing key: %s; key rotation not answered (the kiosk resends)", e)
            return None

    def _recompute_days(self, touched: list[tuple[str, str]]) -> None:
        """After the ack (never delaying it): recompute the attendance days these records fall on, however
        late they came. A failure here loses nothing: the records are stored and a read recomputes the day."""
        if not touched:
            return
        try:
            recompute_after_ingest(self.engine, touched, self.config.timezone)
        except Exception:
            log.exception("could not recompute %d attendance day(s) after ingest; they will be recomputed on read",
                          len(touched))
