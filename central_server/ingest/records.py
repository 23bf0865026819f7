"""MQTT ingest: verify and store signed record batches exactly once, then ack after the commit."""

import functools
import hashlib
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
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from central_server.attendance.rules.recompute import recompute_after_ingest
from central_server.config import ServerConfig
from central_server.db.schema import devices, records
from central_server.devices.heartbeat import ingest_heartbeat, note_unsynced
from central_server.devices.key_rotation import RetiredKeys, handle_key_rotation
from central_server.downlink.keys import DownlinkKeyError, load_or_create_signing_key
from central_server.downlink.status import record_status
from central_server.evidence.ingest import handle_evidence_message
from central_server.ingest.rejections import IngestStats, Rejection, write_rejections
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
    topics,
)
from hajiri_wire.canonical import canonical_bytes
from hajiri_wire.signing import verify_signature

log = logging.getLogger(__name__)

try:  # COPY bypasses SQLAlchemy, so its unique violations arrive as the driver's own exception
    from psycopg.errors import IntegrityError as _PgIntegrityError

    _DRIVER_INTEGRITY_ERRORS: tuple[type[Exception], ...] = (_PgIntegrityError,)
except ImportError:  # no PostgreSQL driver installed: SQLite only
    _DRIVER_INTEGRITY_ERRORS = ()

DEFAULT_REJECTIONS_KEEP = 100_000
INTEGRITY_RETRIES = 3


@dataclass
class IngestOutcome:
    """What became of one MQTT message. `ack` is None when nothing may be acked (see `batch_reason`)."""

    topic: str
    device_id: str | None
    ack: Ack | None = None
    batch_reason: str | None = None
    # (person_id, wire time) of newly stored IN/OUT records: the days whose attendance must be recomputed.
    touched: list[tuple[str, str]] = field(default_factory=list)
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
    prepared = [prepare_record(rec) for rec in batch.records]  # CPU work outside the transaction
    for attempt in range(1, INTEGRITY_RETRIES + 1):
        try:
            return _store_batch(engine, topic, payload, device_id, prepared, keep)
        except (sa.exc.IntegrityError, *_DRIVER_INTEGRITY_ERRORS):
            # Workers do not lock a device: another one may have committed one of these records (a resend)
            # or seqs between our look and our insert (PostgreSQL; SQLite writers are serialised). Nothing
            # was written; look again and those records come out duplicate or seq_conflict.
            if attempt == INTEGRITY_RETRIES:
                raise
            log.info("integrity race on a batch of %s; retrying (attempt %d)", device_id, attempt + 1)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Prepared:
    """A decoded record with the bytes ingest needs, each computed once."""

    rec: AttendanceRecord
    body: bytes  # the signed canonical body
    full: str  # canonical JSON with the signature, as stored
    digest: str  # the chain hash of the body


def prepare_record(rec: AttendanceRecord) -> Prepared:
    """One model dump gives the signed body, the stored JSON and the hash (was three dumps per record)."""
    obj = rec.model_dump(mode="json")
    full = canonical_bytes(obj).decode()
    del obj["sig"]
    body = canonical_bytes(obj)
    return Prepared(rec, body, full, hashlib.sha256(body).hexdigest())


@functools.lru_cache(maxsize=4096)
def _public_key(public_key_b64: str) -> Ed25519PublicKey:
    # Keyed by the key text itself: a re-registered device brings a new key, so nothing stale is served.
    return load_public_key(public_key_b64)


def _store_batch(engine: Engine, topic: str, payload: bytes, device_id: str, prepared: list[Prepared],
                 keep: int) -> IngestOutcome:
    with engine.connect() as conn:
        with conn.begin():
            # Read per batch, not cached: a revocation takes effect at the next batch.
            device = conn.execute(sa.select(devices.c.status, devices.c.public_key)
                                  .where(devices.c.device_id == device_id)).first()
            if device is None or device.status != "active":
                reason = "unknown_device" if device is None else "revoked_device"
                detail = f"device {device_id} is {'not registered' if device is None else 'revoked'}; not stored"
                rejection = Rejection(reason, detail, device_id)
                write_rejections(conn, topic, payload, [rejection], keep=keep)
                return IngestOutcome(topic, device_id, batch_reason=reason, rejections=[rejection])
            public = _public_key(device.public_key)
            results, rejected, rows = _judge_batch(conn, device_id, prepared, public,
                                                   RetiredKeys(conn, device_id))
            corrected: dict[str, str] = {}
            if rows:
                received_at = utc_iso(time.time())
                for row in rows:
                    row["received_at"] = received_at
                insert_rows(conn, rows)
                stored = {row["record_id"] for row in rows}
                corrected = note_unsynced(conn, device_id, [p.rec for p in prepared if p.rec.record_id in stored])
            excerpts = {p.rec.record_id: p.full.encode() for p in prepared}
            write_rejections(conn, topic, payload, rejected, keep=keep, excerpts=excerpts)
        # Committed. Same connection, next transaction: no second pool checkout (and ping) per batch.
        if rows and conn.dialect.name == "postgresql":
            seqs = {r["seq"] for r in rows}
            # A batch may hold several runs (the agent interleaves oldest and newest): each run's end has a
            # successor that another worker may have stored meanwhile.
            settle_links(conn, device_id, [r["seq"] for r in rows if r["chain_ok"] is None],
                         [s + 1 for s in seqs if s + 1 not in seqs])
    # Only now may the kiosk be told it can stop resending.
    ack = Ack(device_id=device_id, server_time=utc_iso(time.time()), results=results)
    return IngestOutcome(topic, device_id, ack=ack, rejections=rejected, touched=touched_days(rows, corrected))


def touched_days(rows: list[dict], corrected: dict[str, str]) -> list[tuple[str, str]]:
    """(person_id, time) of the stored IN/OUT rows: the signed time, and the corrected one where a boot anchor
    re-based the record as it was stored (the day rules count it on that day, so that day must be recomputed)."""
    attendance = [r for r in rows if r["person_id"] and r["event"] in ("IN", "OUT")]
    touched = [(r["person_id"], r["wall_time"]) for r in attendance]
    return touched + [(r["person_id"], corrected[r["record_id"]]) for r in attendance if r["record_id"] in corrected]


def settle_links(conn: sa.Connection, device_id: str, unknown: list[int], successors: list[int]) -> int:
    """After a commit, settle links left unknown because a neighbour was in another worker's transaction.

    Workers do not lock a device: two batches of one kiosk may commit side by side on PostgreSQL, each blind
    to the other. Each runs this after its own commit, so the later of the two sees both and settles the
    links between them. (SQLite's BEGIN IMMEDIATE serialises writers: nothing to settle there.)
    `unknown`: seqs just stored without a known link; `successors`: the seq after each run just stored.
    """
    wanted = sorted({*unknown, *successors})
    with conn.begin():
        rows = conn.execute(sa.select(records.c.seq, records.c.record_id, records.c.prev_hash, records.c.hash,
                                      records.c.chain_ok).where(
            records.c.device_id == device_id,
            records.c.seq.in_(sorted({*wanted, *(s - 1 for s in wanted)})))).all()
        by_seq = {r.seq: r for r in rows}
        settled = 0
        for seq in wanted:
            row, prev = by_seq.get(seq), by_seq.get(seq - 1)
            if row is None or prev is None or row.chain_ok is not None:
                continue
            ok = row.prev_hash == prev.hash
            conn.execute(sa.update(records).where(records.c.record_id == row.record_id,
                                                  records.c.chain_ok.is_(None)).values(
                chain_ok=ok, chain_note=None if ok else f"prev_hash does not match the stored seq {seq - 1}"))
            settled += 1
    return settled


@dataclass(frozen=True)
class _Stored:
    record_id: str
    hash: str
    chain_ok: bool | None = None
    prev_hash: str | None = None


# A batch's seqs are normally one short run; a wider spread is looked up seq by seq instead of as a range.
MAX_SEQ_SPAN = 10_000


def _existing(conn: sa.Connection, device_id: str, prepared: list[Prepared]) -> tuple[dict, dict]:
    """What the DB already holds that this batch touches: rows by record id, and by seq (seq-1..seq+1).

    One query for both: the batch's record ids (any device) or this device's seq range around the batch.
    """
    ids = [p.rec.record_id for p in prepared]
    seqs = [p.rec.seq for p in prepared]
    lo, hi = min(seqs) - 1, max(seqs) + 1
    if hi - lo <= MAX_SEQ_SPAN:
        near = sa.and_(records.c.device_id == device_id, records.c.seq.between(lo, hi))
    else:
        wanted = sorted({s for seq in seqs for s in (seq - 1, seq, seq + 1)})
        near = sa.and_(records.c.device_id == device_id, records.c.seq.in_(wanted))
    if conn.dialect.name == "postgresql":
        # = ANY(array) is one bind parameter, not one per id: cheaper to build, send and plan.
        same_id = records.c.record_id == sa.func.any(sa.bindparam("ids", ids, type_=postgresql.ARRAY(sa.Text)))
    else:
        same_id = records.c.record_id.in_(ids)
    rows = conn.execute(sa.select(records.c.record_id, records.c.device_id, records.c.seq, records.c.hash,
                                  records.c.chain_ok, records.c.prev_hash).where(sa.or_(same_id, near))).all()
    by_id = {r.record_id: r.hash for r in rows}
    by_seq = {r.seq: _Stored(r.record_id, r.hash, r.chain_ok, r.prev_hash) for r in rows
              if r.device_id == device_id and lo <= r.seq <= hi}
    return by_id, by_seq


def insert_rows(conn: sa.Connection, rows: list[dict]) -> None:
    """The batch's new rows in one go: COPY on PostgreSQL (about twice executemany's speed), else executemany."""
    if conn.dialect.name != "postgresql":
        conn.execute(sa.insert(records), rows)
        return
    columns = [c.name for c in records.columns]
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY records ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _judge_batch(conn: sa.Connection, device_id: str, prepared: list[Prepared], public: Ed25519PublicKey,
                 retired: RetiredKeys | None = None) -> tuple[list[AckResult], list[Rejection], list[dict]]:
    """Decide each record (stored / duplicate / rejected) with two lookups for the whole batch."""
    by_id, by_seq = _existing(conn, device_id, prepared)
    new_by_id: dict[str, str] = {}
    new_by_seq: dict[int, _Stored] = {}
    results: list[AckResult] = []
    rejected: list[Rejection] = []
    accepted: list[Prepared] = []
    for p in prepared:
        rec = p.rec
        reason, detail = _refusal(p, public, by_id, by_seq, new_by_id, new_by_seq, retired)
        if reason == "duplicate":
            results.append(AckResult(record_id=rec.record_id, status="duplicate"))
        elif reason is not None:
            results.append(AckResult(record_id=rec.record_id, status="rejected", reason=reason))
            rejected.append(Rejection(reason, detail, rec.device_id, rec.record_id))
        else:
            results.append(AckResult(record_id=rec.record_id, status="stored"))
            new_by_id[rec.record_id] = p.digest
            new_by_seq[rec.seq] = _Stored(rec.record_id, p.digest, prev_hash=rec.prev_hash)
            accepted.append(p)
    known = {**by_seq, **new_by_seq}
    rows = []
    for p in accepted:
        chain_ok, chain_note = _link(p.rec, known.get(p.rec.seq - 1))
        if chain_ok is False:
            log.warning("chain broken at %s seq %d: %s (stored anyway)", device_id, p.rec.seq, chain_note)
        rows.append(_row(p, chain_ok, chain_note))
    _relink_stored(conn, device_id, by_seq, new_by_seq)
    return results, rejected, rows


def _refusal(p: Prepared, public: Ed25519PublicKey, by_id: dict, by_seq: dict, new_by_id: dict,
             new_by_seq: dict, retired: RetiredKeys | None = None) -> tuple[str | None, str]:
    """None when `p` is new and good; "duplicate"; or a rejection reason and what was wrong."""
    rec = p.rec
    try:
        verify_signature(public, p.body, rec.sig)
    except WireError as e:
        # Signed before a key rotation (the outbox backlog)? Only then are the device's old keys read.
        if retired is None or not retired.verifies(p.body, rec.sig):
            return "bad_signature", f"seq {rec.seq}: {e}"
    stored_hash = by_id.get(rec.record_id, new_by_id.get(rec.record_id))
    if stored_hash is not None:
        if stored_hash == p.digest:
            return "duplicate", ""
        return "record_id_conflict", f"record id {rec.record_id} is stored with a different body"
    same_seq = by_seq.get(rec.seq) or new_by_seq.get(rec.seq)
    if same_seq is not None:
        return "seq_conflict", (f"seq {rec.seq} is already stored as record {same_seq.record_id}; "
                                f"a second record with that seq is a replay or forgery")
    return None, ""


def _link(rec: AttendanceRecord, prev: _Stored | None) -> tuple[bool | None, str | None]:
    """Does rec.prev_hash link to the record before it? None when that one has not arrived yet."""
    if rec.seq == 1:
        if rec.prev_hash == GENESIS_HASH:
            return True, None
        return False, "seq 1 does not link to the genesis hash"
    if prev is None:
        return None, f"seq {rec.seq - 1} not received yet"
    if prev.hash != rec.prev_hash:
        return False, f"prev_hash does not match the stored seq {rec.seq - 1}"
    return True, None


def _relink_stored(conn: sa.Connection, device_id: str, by_seq: dict, new_by_seq: dict) -> None:
    """A late record settles the link of a stored one after it, which was stored with chain_ok unknown."""
    for seq, new in new_by_seq.items():
        nxt = by_seq.get(seq + 1)
        if nxt is None or nxt.chain_ok is not None:
            continue
        ok = nxt.prev_hash == new.hash
        conn.execute(sa.update(records).where(records.c.record_id == nxt.record_id).values(
            chain_ok=ok, chain_note=None if ok else f"prev_hash does not match the stored seq {seq}"))


def _row(p: Prepared, chain_ok: bool | None, chain_note: str | None) -> dict:
    rec = p.rec
    return {
        "record_id": rec.record_id, "device_id": rec.device_id, "site_id": rec.site_id, "seq": rec.seq,
        "person_id": rec.person_id, "event": rec.event, "wall_time": rec.wall_time, "boot_id": rec.boot_id,
        "mono_ns": rec.mono_ns, "clock_synced": rec.clock_synced, "match_score": rec.match_score,
        "liveness_score": rec.liveness_score, "model_version": rec.model_version, "prev_hash": rec.prev_hash,
        "hash": p.digest, "sig": rec.sig, "body": p.full, "chain_ok": chain_ok, "chain_note": chain_note,
    }


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
            client.tls_set(ca_certs=str(m.ca_file) if m.ca_file else None,
                           certfile=str(m.cert_file) if m.cert_file else None,
                           keyfile=str(m.key_file) if m.key_file else None)
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
        # Records and heartbeats both through the shared group: N workers split the load, each message once.
        client.subscribe([(topics.RECORDS_SHARED, 1), (topics.HEARTBEAT_SHARED, 0), (topics.EVIDENCE_SHARED, 1),
                          (topics.DOWNLINK_STATUS_SHARED, 1), (topics.KEY_ROTATION_SHARED, 1)])

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
            if topics.device_of(msg.topic) is not None and msg.topic.endswith("/up/heartbeat"):
                beat = ingest_heartbeat(self.engine, msg.topic, msg.payload, stats=self.stats,
                                        rejections_keep=ingest.rejections_keep)
                self._recompute_days(beat.touched)
                return
            if topics.device_of(msg.topic) is not None and msg.topic.endswith("/up/downlink_status"):
                # A kiosk refused a retained downlink that is not ours: put the server's latest back.
                for topic, envelope in record_status(self.engine, msg.topic, msg.payload):
                    client.publish(topic, envelope, qos=1, retain=True)
                return
            if topics.device_of(msg.topic) is not None and msg.topic.endswith("/up/key_rotation"):
                self._rotate_key(client, msg.topic, msg.payload)
                return
            if topics.device_of(msg.topic) is not None and msg.topic.endswith("/up/evidence"):
                handle_evidence_message(client, self.engine, self.config, msg.topic, msg.payload, self.stats)
                return
            outcome = ingest_payload(self.engine, msg.topic, msg.payload, stats=self.stats,
                                     rejections_keep=ingest.rejections_keep)
            if outcome.ack is not None:
                client.publish(topics.acks(outcome.ack.device_id), encode_ack(outcome.ack), qos=1)
                self.stats.count(acks_sent=1)
            self._recompute_days(outcome.touched)
        except Exception:  # paho would end its loop on an exception from a callback
            log.exception("unexpected error handling a message on %s", msg.topic)

    def _rotate_key(self, client: mqtt.Client, topic: str, payload: bytes) -> None:
        """A kiosk's key rotation request (central_server/key_rotation.py); the answer is signed like a downlink."""
        try:
            server_key = load_or_create_signing_key(self.config.downlink_key_path)
        except DownlinkKeyError as e:
            log.error("key rotation on %s: %s; not answered (the kiosk resends)", topic, e)
            server_key = None
        answer = handle_key_rotation(self.engine, topic, payload, server_key, stats=self.stats,
                                     keep=self.config.ingest.rejections_keep)
        if answer is not None:
            client.publish(answer[0], answer[1], qos=1)

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
