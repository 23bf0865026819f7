"""The sync loop: publish the kiosk outbox (oldest and newest first, alternately), at least once; settle on acks."""

import dataclasses
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
import sqlite_utils

from hajiri_common.timefmt import parse_utc_iso
from hajiri_wire import (
    AttendanceRecord,
    RecordBatch,
    WireError,
    decode_ack,
    encode_batch,
    encode_heartbeat,
    topics,
)
from hajiri_wire.messages import MAX_PAYLOAD_BYTES, Ack
from kiosk.store import (
    PENDING,
    REJECTED,
    apply_ack_counts,
    latest_model_version,
    note_sent_batch,
    open_store,
    pending_batch,
    pending_summary,
)
from provisioning.identity import DeviceIdentity, load_identity
from sync_agent.backoff import Backoff
from sync_agent.clock_offset import ClockOffset, offset_sample
from sync_agent.config import SyncConfig
from sync_agent.downlink import Downlink
from sync_agent.evidence_upload import make_uploader
from sync_agent.heartbeat import build_heartbeat
from sync_agent.key_rotation import KeyRotator
from sync_agent.mqtt import connect_async, make_client
from sync_agent.stats import SyncStats
from sync_agent.window import InflightWindow

log = logging.getLogger(__name__)


OUTBOX_STATS_INTERVAL_S = 0.5


class SyncError(RuntimeError):
    """The agent cannot run at all (store unopenable); broker trouble is never this, it is retried."""


@dataclass(frozen=True)
class _Connected:
    session_present: bool


@dataclass(frozen=True)
class _Disconnected:
    reason: str


@dataclass(frozen=True)
class _Message:
    topic: str
    payload: bytes
    recv_wall: float  # taken in the network thread on arrival: the clock offset needs the true receipt time
    recv_mono: float


class _Wake:
    """Sent by stop() so the loop notices at once instead of at the next poll."""


def fit_batch(device_id: str, records: list[AttendanceRecord],
              limit: int = MAX_PAYLOAD_BYTES) -> tuple[list[AttendanceRecord], bytes]:
    """A prefix of `records` whose encoded batch fits `limit` bytes (halving until it does), and its payload."""
    n = len(records)
    while True:
        payload = encode_batch(RecordBatch(device_id=device_id, records=records[:n]))
        if len(payload) <= limit or n == 1:
            return records[:n], payload
        n = max(1, n // 2)


class SyncAgent:
    """Moves signed records from the kiosk store to the broker and applies the server's acks to the store."""

    def __init__(self, config: SyncConfig, identity: DeviceIdentity | None = None, *,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.config = config
        # The kiosk's own idea of the time (no RTC: it may be days off); compared with the server's in acks.
        self._wall_clock = wall_clock
        self.identity = identity or load_identity(config.device_dir)
        self.device_id = self.identity.device_id
        self._password = config.mqtt.resolve_password()  # fail now, naming the key, not later in a thread
        self._events: queue.Queue = queue.Queue()
        self._window = InflightWindow(config.max_inflight_batches, config.ack_timeout_s)
        m = config.mqtt
        self._backoff = Backoff(m.reconnect_min_s, m.reconnect_max_s, m.reconnect_jitter)
        self._failed_attempts = 0
        self._connected = False  # as the loop thread sees it, from the events
        self._session_up = False  # as the network thread sees it
        self._stopping = False
        self._stats = SyncStats()
        self._stats_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._crash: BaseException | None = None
        self._clock = ClockOffset()
        self._next_heartbeat = 0.0
        self._newest_turn = False
        self._next_outbox_stats = 0.0
        # Spoof evidence crops and the liveness flag, from the kiosk's own config (None: not configured).
        self._evidence = make_uploader(config.kiosk_config, self.identity, config.ack_timeout_s)
        # A rotate_key command's request, resent until the server's signed answer (sync_agent/key_rotation.py).
        self.rotation = KeyRotator(config.device_dir, self.identity, resend_s=config.ack_timeout_s,
                                   on_swap=self._use_identity, on_error=self._error)
        # Signed gallery, config and commands from the server (sync_agent/downlink.py).
        self.downlink = Downlink(config, self.identity, on_error=self._error, on_resync=self._window.expire_all,
                                 on_rotate_key=self.rotation.begin)

    # ---- public API -------------------------------------------------------------------------------------

    def stats(self) -> SyncStats:
        with self._stats_lock:
            return self._stats

    def start(self) -> None:
        """Run in a background thread until stop()."""
        if self._thread is not None:
            raise RuntimeError("sync agent already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._thread_main, name=f"hajiri-sync-{self.device_id}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the background thread; re-raises what made it die, if anything did."""
        self._stop.set()
        self._events.put(_Wake())
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError(f"sync agent did not stop within {timeout}s")
            self._thread = None
        if self._crash is not None:
            raise self._crash

    def run(self, stop: threading.Event) -> None:
        """Sync until `stop` is set. The broker may be down at start or at any time; that is retried."""
        db = self._open_store()
        try:
            client = make_client(self.config.mqtt, self.device_id, self.config.mqtt.username or self.device_id,
                                 self._password, self.config.max_inflight_batches)
        except (OSError, ValueError) as e:  # ssl.SSLError is an OSError
            db.close()
            raise SyncError(f"mqtt.tls: cannot set up TLS: {e}") from e
        self._stopping = False
        self._wire_callbacks(client)
        connect_async(client, self.config.mqtt)
        client.loop_start()
        log.info("sync agent for %s: broker %s:%d, store %s", self.device_id, self.config.mqtt.host,
                 self.config.mqtt.port, self.config.store)
        try:
            while not stop.is_set():
                self._handle_events(db, timeout=self.config.poll_interval_s)
                if stop.is_set():
                    break
                self._step(db, client)
        finally:
            self._stopping = True
            client.disconnect()
            client.loop_stop()
            db.close()
            self._update(connected=False)
            log.info("sync agent stopped: %s", self.stats())

    def _use_identity(self, identity: DeviceIdentity) -> None:
        """After a key rotation: whatever this process signs (spoof evidence) is signed with the new key."""
        self.identity = identity
        self.downlink.identity = identity
        if self._evidence is not None:
            self._evidence.identity = identity

    # ---- loop -------------------------------------------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            self.run(self._stop)
        except BaseException as e:  # noqa: BLE001 - kept and re-raised by stop(); the thread must not vanish
            log.exception("sync agent died")
            self._crash = e

    def _open_store(self) -> sqlite_utils.Database:
        try:
            db = open_store(self.config.store)
            # The agent writes only marks (sent, acked) that a resend re-derives: they need not wait for an
            # fsync each. In WAL mode the kiosk writer's own FULL commits still sync everything before them,
            # so a power cut can at most undo a few marks here, which costs duplicates the server absorbs.
            db.execute("PRAGMA synchronous=NORMAL")
            return db
        except sqlite3.Error as e:
            raise SyncError(f"store: cannot open the kiosk record store {self.config.store}: {e}") from e

    def _step(self, db: sqlite_utils.Database, client: mqtt.Client) -> None:
        # A busy or briefly unreadable store must not kill the agent: note it, try again next round.
        try:
            self._pump(db, client)
            self._refresh_outbox_stats(db)
            self.downlink.send_reports(client)
            if self._connected:
                self.rotation.pump(client)
            if self._evidence is not None and self._connected and self.stats().queue_depth == 0:
                self._evidence.pump(client)  # low priority: only while no record waits
            self._maybe_heartbeat(db, client)
        except sqlite3.Error as e:
            self._error(f"store error: {e}")

    def _handle_events(self, db: sqlite_utils.Database, timeout: float) -> None:
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            self._handle(db, event)
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return

    def _handle(self, db: sqlite_utils.Database, event: Any) -> None:
        if isinstance(event, _Connected):
            self._connected = True
            if not event.session_present:
                # The broker has no session for us: whatever it held (queued acks, unacked publishes) is gone.
                self._window.expire_all()
                if self._evidence is not None:
                    self._evidence.forget_inflight()
        elif isinstance(event, _Disconnected):
            self._connected = False
        elif isinstance(event, _Message) and self.downlink.wants(event.topic):
            self.downlink.handle(event.topic, event.payload)
        elif isinstance(event, _Message) and event.topic == topics.key_rotation_answer(self.device_id):
            self.rotation.handle_answer(event.payload)
        elif isinstance(event, _Message) and event.topic == topics.evidence_acks(self.device_id):
            if self._evidence is not None:
                self._evidence.handle_ack(event.payload)
        elif isinstance(event, _Message):
            try:
                self._handle_ack_payload(db, event)
            except sqlite3.Error as e:
                # Not applied: the batch stays in flight and its resend will earn another ack.
                self._error(f"store error while applying an ack: {e}")

    def _pump(self, db: sqlite_utils.Database, client: mqtt.Client) -> None:
        """Resend overdue batches, then fill the window with the oldest records not in flight."""
        if not self._connected:
            return
        now = time.monotonic()
        for batch in self._window.due(now):
            _, payload = fit_batch(self.device_id, batch.records)
            self._publish(db, client, batch.records, payload)
            self._window.mark_resent(batch, now)
            self._count(batches_resent=1)
            log.info("resending seq %d..%d (attempt %d): no ack within %.1fs", batch.first_seq,
                     batch.records[-1].seq, batch.attempts, self.config.ack_timeout_s)
        if not self._window.free_slots():
            return
        in_flight = self._window.record_ids()
        while self._window.free_slots():
            # Alternate the oldest and the newest pending records: a week's backlog drains from both ends
            # and a record written now waits for one free slot, not for the whole backlog.
            newest = self.config.interleave_newest and self._newest_turn
            fresh = pending_batch(db, self.config.batch_size, in_flight, newest=newest)
            if not fresh:
                break
            self._newest_turn = not self._newest_turn
            records, payload = fit_batch(self.device_id, fresh)
            self._publish(db, client, records, payload)
            self._window.add(records, now)
            in_flight.update(r.record_id for r in records)

    def _publish(self, db: sqlite_utils.Database, client: mqtt.Client, records: list[AttendanceRecord],
                 payload: bytes) -> None:
        info = client.publish(topics.records(self.device_id), payload, qos=1)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            # Left in the window all the same: the ack timeout sends it again.
            self._error(f"publish of seq {records[0].seq}..{records[-1].seq} failed: {mqtt.error_string(info.rc)}")
        note_sent_batch(db, [r.record_id for r in records])
        self._count(batches_published=1, records_published=len(records))

    # ---- acks -------------------------------------------------------------------------------------------

    def _handle_ack_payload(self, db: sqlite_utils.Database, message: _Message) -> None:
        try:
            ack = decode_ack(message.payload)
        except WireError as e:
            self._count(malformed_acks=1)
            self._error(f"ignored a malformed ack ({e.reason}): {e}")
            return
        if ack.device_id != self.device_id:
            self._count(malformed_acks=1)
            self._error(f"ignored an ack addressed to {ack.device_id!r}, not {self.device_id!r}")
            return
        self._note_clock(ack, message)
        self._apply(db, ack)

    def _note_clock(self, ack: Ack, message: _Message) -> None:
        """An ack answering a batch sent once is a time exchange with the server (a resent one is ambiguous)."""
        batch = self._window.batch_of(ack.results[0].record_id) if ack.results else None
        if batch is None or batch.attempts != 1:
            return
        sample = offset_sample(parse_utc_iso(ack.server_time).timestamp(), batch.sent_at, message.recv_mono,
                               message.recv_wall)
        self._clock.add(sample)
        best = self._clock.best()
        self._update(clock_offset_s=round(best.offset_s, 4), clock_rtt_s=round(best.rtt_s, 4))

    def _apply(self, db: sqlite_utils.Database, ack: Ack) -> None:
        ids = [r.record_id for r in ack.results]
        moved = apply_ack_counts(db, ack)
        acked, rejected = moved["acked"], moved[REJECTED]
        for r in ack.results:
            if r.status == "rejected":
                log.warning("server rejected record %s: %s", r.record_id, r.reason)
        done = self._window.settle(set(ids))
        self._count(acks_received=1, records_acked=acked, records_rejected=rejected)
        self._update(inflight_batches=len(self._window))
        log.debug("ack: %d acked, %d rejected, %d already settled; %d batch(es) done, %d in flight",
                  acked, rejected, len(ids) - acked - rejected, done, len(self._window))

    # ---- paho callbacks (network thread): only hand events to the loop, never touch the store ------------

    def _wire_callbacks(self, client: mqtt.Client) -> None:
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                    properties: Any) -> None:
        if reason_code.is_failure:
            self._error(f"broker refused the connection: {reason_code} (check mqtt.username / mqtt.password)")
            return
        # Subscribe on every connect: a broker that lost its state (crash before autosave) forgot it.
        client.subscribe(topics.acks(self.device_id), qos=1)
        client.subscribe(topics.evidence_acks(self.device_id), qos=1)
        client.subscribe(topics.key_rotation_answer(self.device_id), qos=1)
        if self.downlink.subscriptions():
            client.subscribe(self.downlink.subscriptions())
        log.info("connected to %s:%d as %s (session %s%s)", self.config.mqtt.host, self.config.mqtt.port,
                 self.device_id, "resumed" if flags.session_present else "new",
                 f", after {self._failed_attempts} failed attempt(s)" if self._failed_attempts else "")
        self._backoff.reset()
        self._failed_attempts = 0
        self._session_up = True
        with self._stats_lock:
            self._stats = dataclasses.replace(self._stats, connected=True, connects=self._stats.connects + 1)
        self._events.put(_Connected(bool(flags.session_present)))

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        delay = self._next_delay(client)
        was_connected, self._session_up = self._session_up, False
        if self._stopping:
            log.info("disconnected from broker")
        elif was_connected:
            self._error(f"disconnected from broker: {reason_code}; reconnecting in {delay:.1f}s")
        else:
            # The end of a refused attempt: the refusal, already reported, is the news.
            log.debug("connection attempt ended (%s); retrying in %.1fs", reason_code, delay)
        self._update(connected=False)
        self._events.put(_Disconnected(str(reason_code)))

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        delay = self._next_delay(client)
        self._failed_attempts += 1
        message = (f"cannot reach broker {self.config.mqtt.host}:{self.config.mqtt.port}; "
                   f"retrying in {delay:.1f}s")
        with self._stats_lock:
            self._stats = dataclasses.replace(self._stats, last_error=message)
        # Say it once per outage, not on every attempt.
        log.log(logging.WARNING if self._failed_attempts == 1 else logging.DEBUG, message)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._events.put(_Message(msg.topic, bytes(msg.payload), self._wall_clock(), time.monotonic()))

    def _next_delay(self, client: mqtt.Client) -> float:
        # paho waits reconnect_delay's min before the next try; setting min = max = our jittered value
        # makes that wait ours.
        delay = self._backoff.next_delay()
        client.reconnect_delay_set(delay, delay)
        return delay

    # ---- stats ------------------------------------------------------------------------------------------

    def _refresh_outbox_stats(self, db: sqlite_utils.Database) -> None:
        # count(*) over a long backlog is not free: a few times a second is plenty for health reporting.
        now = time.monotonic()
        if now < self._next_outbox_stats:
            return
        self._next_outbox_stats = now + OUTBOX_STATS_INTERVAL_S
        depth, oldest = pending_summary(db)
        age = None if oldest is None else max(0.0, self._wall_clock() - parse_utc_iso(oldest).timestamp())
        self._update(queue_depth=depth, oldest_unsent_age_s=age, inflight_batches=len(self._window))

    def _maybe_heartbeat(self, db: sqlite_utils.Database, client: mqtt.Client) -> None:
        """Every heartbeat_interval_s while connected; QoS 0, so a stale one is never delivered late."""
        now = time.monotonic()
        if not self._connected or now < self._next_heartbeat:
            return
        self._next_heartbeat = now + self.config.heartbeat_interval_s
        hb = build_heartbeat(self.device_id, self.stats(), self._clock.best(), self.config.store,
                             latest_model_version(db), now=self._wall_clock(),
                             facts=None if self._evidence is None else self._evidence.heartbeat_facts())
        info = client.publish(topics.heartbeat(self.device_id), encode_heartbeat(hb), qos=0)
        if info.rc == mqtt.MQTT_ERR_SUCCESS:
            self._count(heartbeats_sent=1)

    def _count(self, **increments: int) -> None:
        with self._stats_lock:
            changes = {k: getattr(self._stats, k) + v for k, v in increments.items()}
            self._stats = dataclasses.replace(self._stats, **changes)

    def _update(self, **values: Any) -> None:
        with self._stats_lock:
            self._stats = dataclasses.replace(self._stats, **values)

    def _error(self, message: str) -> None:
        log.warning("%s", message)
        self._update(last_error=message)


def pending_ids(db: sqlite_utils.Database, record_ids: list[str]) -> set[str]:
    """Which of `record_ids` are still pending, so an ack's effect can be counted exactly once."""
    found: set[str] = set()
    for i in range(0, len(record_ids), 500):
        chunk = record_ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(f"SELECT record_id FROM records WHERE status = ? AND record_id IN ({marks})",
                          (PENDING, *chunk)).fetchall()
        found.update(r[0] for r in rows)
    return found
