"""A stand-in for the central ingest worker in sync tests: a real MQTT client that verifies batches and acks them."""

import threading
import time
import uuid
from collections.abc import Callable

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from paho.mqtt.enums import CallbackAPIVersion

from hajiri_common.timefmt import utc_iso
from hajiri_wire import (
    Ack,
    AckResult,
    AttendanceRecord,
    WireError,
    decode_batch,
    encode_ack,
    topics,
    verify_record,
)
from hajiri_wire.topics import SERVER_USER


def wait_until(cond: Callable[[], bool], timeout: float = 15.0, interval: float = 0.05, what: str = "") -> None:
    """Poll `cond` until true; fail loudly (naming what was awaited) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(interval)
    if cond():
        return
    raise AssertionError(f"timed out after {timeout}s waiting for {what or cond}")


class AckPeer:
    """Subscribes to every device's records as `central-ingest`, checks each signature, acks what it takes.

    `reject(record)` returns a reason to reject a record, or None. `ack_if(record)` False leaves a record
    unanswered. While `paused`, batches are received and held; `release()` acks everything held.
    Like the real server it is idempotent: a record seen before is acked as "duplicate".
    """

    def __init__(self, host: str, port: int, password: str, public_keys: dict[str, Ed25519PublicKey], *,
                 reject: Callable[[AttendanceRecord], str | None] | None = None,
                 ack_if: Callable[[AttendanceRecord], bool] | None = None,
                 subscription: str = topics.RECORDS_ALL, paused: bool = False) -> None:
        self.public_keys = public_keys
        self.reject = reject
        self.ack_if = ack_if
        self.subscription = subscription
        self.paused = paused
        self.lock = threading.Lock()
        self.stored: dict[str, AttendanceRecord] = {}
        self.received: list[str] = []  # every record id that arrived, resends included
        self.held: list[tuple[str, list[AttendanceRecord]]] = []
        self.acks_sent = 0
        self.subscriptions = 0  # one per (re)connect
        self.bad_batches: list[str] = []
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-ingest-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        self.client.username_pw_set(SERVER_USER, password)
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self._host, self._port = host, port

    def start(self, timeout: float = 10.0) -> "AckPeer":
        self.client.connect_async(self._host, self._port, keepalive=10)
        self.client.loop_start()
        if not self._subscribed.wait(timeout):
            raise AssertionError(f"ack peer did not subscribe within {timeout}s")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def release(self) -> None:
        """Ack everything held while paused, and ack at once from now on."""
        with self.lock:
            self.paused = False
            held, self.held = self.held, []
        for device_id, records in held:
            self._answer(device_id, records)

    def forget_held(self) -> None:
        """Drop what was held unanswered (as a server that crashed before committing would) and ack from now on."""
        with self.lock:
            self.paused = False
            self.held = []

    def publish_raw(self, device_id: str, payload: bytes) -> None:
        """Put any bytes on a device's ack topic, as a broken or hostile server might."""
        info = self.client.publish(topics.acks(device_id), payload, qos=1)
        info.wait_for_publish(5)

    def _on_connect(self, client: mqtt.Client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            client.subscribe(self.subscription, qos=1)

    def _on_subscribe(self, client: mqtt.Client, userdata, mid, reason_codes, properties) -> None:
        if all(not rc.is_failure for rc in reason_codes):
            with self.lock:
                self.subscriptions += 1
            self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata, msg: mqtt.MQTTMessage) -> None:
        try:
            batch = decode_batch(msg.payload)
        except WireError as e:
            self.bad_batches.append(str(e))
            return
        if topics.device_of(msg.topic) != batch.device_id:
            self.bad_batches.append(f"{msg.topic}: batch claims device {batch.device_id}")
            return
        with self.lock:
            self.received.extend(r.record_id for r in batch.records)
            if self.paused:
                self.held.append((batch.device_id, list(batch.records)))
                return
        self._answer(batch.device_id, list(batch.records))

    def _answer(self, device_id: str, records: list[AttendanceRecord]) -> None:
        results = [self._judge(device_id, r) for r in records if self.ack_if is None or self.ack_if(r)]
        if not results:
            return
        ack = Ack(device_id=device_id, server_time=utc_iso(time.time()), results=results)
        self.client.publish(topics.acks(device_id), encode_ack(ack), qos=1)
        with self.lock:
            self.acks_sent += 1

    def _judge(self, device_id: str, record: AttendanceRecord) -> AckResult:
        key = self.public_keys.get(device_id)
        if key is None or record.device_id != device_id:
            return AckResult(record_id=record.record_id, status="rejected", reason="unknown_device")
        try:
            verify_record(record, key)
        except WireError as e:
            return AckResult(record_id=record.record_id, status="rejected", reason=e.reason)
        reason = self.reject(record) if self.reject else None
        if reason is not None:
            return AckResult(record_id=record.record_id, status="rejected", reason=reason)
        with self.lock:
            seen = record.record_id in self.stored
            self.stored[record.record_id] = record
        return AckResult(record_id=record.record_id, status="duplicate" if seen else "stored")
