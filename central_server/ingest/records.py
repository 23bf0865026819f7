"""MQTT ingest: verify and store signed record batches exactly once, then ack after the commit."""

import functools
import hashlib
import logging
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from central_server.db.schema import records
from central_server.devices.heartbeat import note_unsynced
from central_server.devices.key_rotation import RetiredKeys
from central_server.ingest.guard import Refused, Uplink, active_device
from central_server.ingest.handling import Context, Handled, Publish, Route, run_one
from central_server.ingest.rejections import DEFAULT_REJECTIONS_KEEP, IngestStats, Rejection, write_rejections
from hajiri_common.timefmt import utc_iso
from hajiri_wire import (
    GENESIS_HASH,
    Ack,
    AckResult,
    AttendanceRecord,
    WireError,
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
    """Handle one message from a records topic. Never raises: bad input and DB failures become an outcome."""
    return run_one(Context(engine, stats, rejections_keep), ROUTE, topic, payload).report


def handle_records(ctx: Context, uplink: Uplink) -> Handled:
    """The records route: verify and store the batch once; the ack (after the commit) is what to publish."""
    prepared = [prepare_record(rec) for rec in uplink.message.records]  # CPU work outside the transaction
    outcome = _store_with_retries(ctx.engine, uplink, prepared, ctx.rejections_keep)
    publish = [] if outcome.ack is None else [Publish(topics.acks(uplink.device_id), encode_ack(outcome.ack),
                                                      ack=True)]
    return Handled(report=outcome, publish=publish, touched=outcome.touched, rejections=outcome.rejections,
                   batches=1, stored=outcome.stored, duplicate=outcome.duplicate)


def refused_records(_ctx: Context, topic: str, refused: Refused) -> Handled:
    """A refused batch: counted as a batch, nothing in it acked."""
    rejection = refused.rejection
    device_id = refused.uplink.device_id if refused.uplink is not None else rejection.device_id
    return Handled(report=IngestOutcome(topic, device_id, batch_reason=rejection.reason, rejections=[rejection]),
                   batches=1)


def _store_with_retries(engine: Engine, uplink: Uplink, prepared: list["Prepared"], keep: int) -> IngestOutcome:
    for attempt in range(1, INTEGRITY_RETRIES + 1):
        try:
            return _store_batch(engine, uplink, prepared, keep)
        except (sa.exc.IntegrityError, *_DRIVER_INTEGRITY_ERRORS):
            # Workers do not lock a device: another one may have committed one of these records (a resend)
            # or seqs between our look and our insert (PostgreSQL; SQLite writers are serialised). Nothing
            # was written; look again and those records come out duplicate or seq_conflict.
            if attempt == INTEGRITY_RETRIES:
                raise
            log.info("integrity race on a batch of %s; retrying (attempt %d)", uplink.device_id, attempt + 1)
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


def _store_batch(engine: Engine, uplink: Uplink, prepared: list[Prepared], keep: int) -> IngestOutcome:
    topic, payload, device_id = uplink.topic, uplink.payload, uplink.device_id
    with engine.connect() as conn:
        with conn.begin():
            # Read per batch, not cached: a revocation takes effect at the next batch.
            device = active_device(conn, uplink)
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


ROUTE = Route("records", handle_records, refused_records, on_error="store")
