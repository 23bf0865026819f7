"""MQTT ingest: verify and store signed record batches exactly once, then ack after the commit."""

import logging
import threading
import time
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.engine import Engine

from central_server.config import ServerConfig
from central_server.db import devices, records
from central_server.rejections import IngestStats, Rejection, write_rejections
from hajiri_common.timefmt import utc_iso
from hajiri_wire import (
    GENESIS_HASH,
    Ack,
    AckResult,
    AttendanceRecord,
    WireError,
    decode_batch,
    encode_ack,
    load_public_key,
    record_hash,
    topics,
    verify_record,
)
from hajiri_wire.canonical import canonical_bytes

log = logging.getLogger(__name__)

DEFAULT_REJECTIONS_KEEP = 100_000


@dataclass
class IngestOutcome:
    """What became of one MQTT message. `ack` is None when nothing may be acked (see `batch_reason`)."""

    topic: str
    device_id: str | None
    ack: Ack | None = None
    batch_reason: str | None = None
    rejections: list[Rejection] = field(default_factory=list)

    def statuses(self) -> list[str]:
        return [r.status for r in self.ack.results] if self.ack else []

    @property
    def stored(self) -> int:
        return self.statuses().count("stored")

    @property
    def duplicate(self) -> int:
        return self.statuses().count("duplicate")


def ingest_payload(engine: Engine, topic: str, payload: bytes, *, stats: IngestStats | None = None,
                   rejections_keep: int = DEFAULT_REJECTIONS_KEEP) -> IngestOutcome:
    """Handle one message from `topic`. Never raises: bad input and DB failures become an outcome."""
    try:
        outcome = _ingest(engine, topic, payload, rejections_keep)
    except Exception as e:  # a DB failure or a bug must cost one message, never the worker
        log.exception("ingest failed for a message on %s; not acked, the kiosk will resend", topic)
        outcome = IngestOutcome(topic, topics.device_of(topic), batch_reason="server_error",
                                rejections=[Rejection("server_error", f"{type(e).__name__}: {e}")])
        _try_write_rejections(engine, topic, payload, outcome.rejections, rejections_keep)
    if stats is not None:
        stats.count(batches=1, stored=outcome.stored, duplicate=outcome.duplicate,
                    rejected=[r.reason for r in outcome.rejections])
    return outcome


def _try_write_rejections(engine: Engine, topic: str, payload: bytes, items: list[Rejection], keep: int) -> None:
    try:
        with engine.begin() as conn:
            write_rejections(conn, topic, payload, items, keep=keep)
    except Exception:
        log.exception("could not write the rejection row either (reason %s)", [r.reason for r in items])


def _reject_batch(engine: Engine, topic: str, payload: bytes, reason: str, detail: str,
                  device_id: str | None, keep: int) -> IngestOutcome:
    rejection = Rejection(reason, detail, device_id)
    with engine.begin() as conn:
        write_rejections(conn, topic, payload, [rejection], keep=keep)
    return IngestOutcome(topic, device_id, batch_reason=reason, rejections=[rejection])


def _ingest(engine: Engine, topic: str, payload: bytes, keep: int) -> IngestOutcome:
    device_id = topics.device_of(topic)
    if device_id is None or topic != topics.records(device_id):
        return _reject_batch(engine, topic, payload, "bad_topic", f"not a records topic: {topic!r}", None, keep)
    try:
        batch = decode_batch(payload)
    except WireError as e:
        return _reject_batch(engine, topic, payload, e.reason, str(e), device_id, keep)
    # The broker ACL proves who published on the topic; a batch claiming another device is a forgery.
    claimed = {batch.device_id, *(r.device_id for r in batch.records)}
    if claimed != {device_id}:
        detail = f"published on {device_id}'s topic but claims device(s) {sorted(claimed - {device_id})}"
        return _reject_batch(engine, topic, payload, "topic_mismatch", detail, device_id, keep)
    with engine.begin() as conn:
        device = conn.execute(sa.select(devices).where(devices.c.device_id == device_id)).first()
        if device is None or device.status != "active":
            reason = "unknown_device" if device is None else "revoked_device"
            detail = f"device {device_id} is {'not registered' if device is None else 'revoked'}; not stored"
            rejection = Rejection(reason, detail, device_id)
            write_rejections(conn, topic, payload, [rejection], keep=keep)
            return IngestOutcome(topic, device_id, batch_reason=reason, rejections=[rejection])
        public = load_public_key(device.public_key)
        received_at = utc_iso(time.time())
        results: list[AckResult] = []
        rejected: list[Rejection] = []
        for rec in batch.records:
            result, rejection = _store_record(conn, rec, public, received_at)
            results.append(result)
            if rejection is not None:
                rejected.append(rejection)
        excerpts = {r.record_id: canonical_bytes(r.to_wire()) for r in batch.records}
        write_rejections(conn, topic, payload, rejected, keep=keep, excerpts=excerpts)
    # Committed: only now may the kiosk be told it can stop resending.
    ack = Ack(device_id=device_id, server_time=utc_iso(time.time()), results=results)
    return IngestOutcome(topic, device_id, ack=ack, rejections=rejected)


def _store_record(conn: sa.Connection, rec: AttendanceRecord, public: Ed25519PublicKey,
                  received_at: str) -> tuple[AckResult, Rejection | None]:
    def reject(reason: str, detail: str) -> tuple[AckResult, Rejection]:
        return (AckResult(record_id=rec.record_id, status="rejected", reason=reason),
                Rejection(reason, detail, rec.device_id, rec.record_id))

    try:
        verify_record(rec, public)
    except WireError as e:
        return reject("bad_signature", f"seq {rec.seq}: {e}")
    digest = record_hash(rec)
    same_id = conn.execute(sa.select(records.c.hash, records.c.sig).where(records.c.record_id == rec.record_id)).first()
    if same_id is not None:
        if same_id.hash == digest:
            return AckResult(record_id=rec.record_id, status="duplicate"), None
        return reject("record_id_conflict", f"record id {rec.record_id} is stored with a different body")
    same_seq = conn.execute(sa.select(records.c.record_id).where(
        records.c.device_id == rec.device_id, records.c.seq == rec.seq)).first()
    if same_seq is not None:
        return reject("seq_conflict", f"seq {rec.seq} is already stored as record {same_seq.record_id}; "
                                      f"a second record with that seq is a replay or forgery")
    chain_ok, chain_note = _check_link(conn, rec)
    conn.execute(sa.insert(records).values(
        record_id=rec.record_id, device_id=rec.device_id, site_id=rec.site_id, seq=rec.seq,
        person_id=rec.person_id, event=rec.event, wall_time=rec.wall_time, boot_id=rec.boot_id,
        mono_ns=rec.mono_ns, clock_synced=rec.clock_synced, match_score=rec.match_score,
        liveness_score=rec.liveness_score, model_version=rec.model_version, prev_hash=rec.prev_hash,
        hash=digest, sig=rec.sig, body=canonical_bytes(rec.to_wire()).decode(), received_at=received_at,
        chain_ok=chain_ok, chain_note=chain_note))
    _relink_next(conn, rec, digest)
    if chain_ok is False:
        log.warning("chain broken at %s seq %d: %s (stored anyway)", rec.device_id, rec.seq, chain_note)
    return AckResult(record_id=rec.record_id, status="stored"), None


def _check_link(conn: sa.Connection, rec: AttendanceRecord) -> tuple[bool | None, str | None]:
    """Does rec.prev_hash link to the stored record before it? None when that one has not arrived yet."""
    if rec.seq == 1:
        if rec.prev_hash == GENESIS_HASH:
            return True, None
        return False, "seq 1 does not link to the genesis hash"
    prev = conn.execute(sa.select(records.c.hash).where(
        records.c.device_id == rec.device_id, records.c.seq == rec.seq - 1)).first()
    if prev is None:
        return None, f"seq {rec.seq - 1} not received yet"
    if prev.hash != rec.prev_hash:
        return False, f"prev_hash does not match the stored seq {rec.seq - 1}"
    return True, None


def _relink_next(conn: sa.Connection, rec: AttendanceRecord, digest: str) -> None:
    """A late record settles the link of the one after it, which was stored with chain_ok unknown."""
    nxt = conn.execute(sa.select(records.c.record_id, records.c.prev_hash).where(
        records.c.device_id == rec.device_id, records.c.seq == rec.seq + 1, records.c.chain_ok.is_(None))).first()
    if nxt is None:
        return
    ok = nxt.prev_hash == digest
    conn.execute(sa.update(records).where(records.c.record_id == nxt.record_id).values(
        chain_ok=ok, chain_note=None if ok else f"prev_hash does not match the stored seq {rec.seq}"))


class IngestWorker:
    """The paho MQTT loop in a thread: a persistent MQTTv5 session on the shared records subscription."""

    def __init__(self, config: ServerConfig, engine: Engine, *, stats: IngestStats | None = None) -> None:
        self.config = config
        self.engine = engine
        self.stats = stats if stats is not None else IngestStats()
        self.subscribed = threading.Event()
        self._client: mqtt.Client | None = None

    def start(self) -> None:
        """Connect in the background; paho retries (with backoff) until the broker is there."""
        if self._client is not None:
            raise RuntimeError("ingest worker already started")
        m = self.config.mqtt
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=m.client_id, protocol=mqtt.MQTTv5)
        client.username_pw_set(m.username, m.password)
        if m.tls:
            client.tls_set(ca_certs=str(m.ca_file) if m.ca_file else None)
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
        client.subscribe(topics.RECORDS_SHARED, qos=1)

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
            ingest = self.config.ingest
            outcome = ingest_payload(self.engine, msg.topic, msg.payload, stats=self.stats,
                                     rejections_keep=ingest.rejections_keep)
            if outcome.ack is not None:
                client.publish(topics.acks(outcome.ack.device_id), encode_ack(outcome.ack), qos=1)
                self.stats.count(acks_sent=1)
        except Exception:  # paho would end its loop on an exception from a callback
            log.exception("unexpected error handling a message on %s", msg.topic)
