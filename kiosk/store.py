"""The kiosk's SQLite record store, which is also the sync outbox: signed, hash-chained, durable on commit."""

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from hajiri_common.files import precreate_private
from hajiri_common.timefmt import utc_iso
from hajiri_wire import GENESIS_HASH, AttendanceRecord, UnsignedRecord, record_hash, sign_record
from hajiri_wire.ids import uuid7
from hajiri_wire.messages import Ack
from provisioning.identity import DeviceIdentity

PENDING, ACKED, REJECTED = "pending", "acked", "rejected"


class StoreError(RuntimeError):
    """The record store cannot take a write (disk full, read-only, corrupt)."""


@dataclass(frozen=True)
class Observation:
    """What the pipeline decided about one passer-by; the store turns it into a signed record."""

    person_id: str | None
    event: str
    wall_time: float
    boot_id: str
    mono_ns: int
    clock_synced: bool
    match_score: float | None
    liveness_score: float | None
    model_version: str


def open_store(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed, 0600) the store with WAL and synchronous=FULL: a committed record survives power
    loss."""
    if str(path) != ":memory:":  # names and times of the staff: owner-only, and so are its -wal and -shm
        precreate_private(Path(path))
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=30000")
    _migrate(db)
    return db


def _migrate(db: sqlite_utils.Database) -> None:
    if "records" not in db.table_names():
        db["records"].create(
            {
                "record_id": str, "seq": int, "hash": str, "body": str, "person_id": str, "event": str,
                "wall_time": str, "status": str, "sent_count": int, "acked_at": str, "reject_reason": str,
            },
            pk="record_id",
            not_null={"seq", "hash", "body", "event", "wall_time", "status"},
            defaults={"status": PENDING, "sent_count": 0},
        )
        db["records"].create_index(["seq"], unique=True)
        db["records"].create_index(["status", "seq"])


def append_record(db: sqlite_utils.Database, identity: DeviceIdentity, obs: Observation) -> AttendanceRecord:
    """Sign `obs` as the next link of this device's chain and commit it (fsync'd) before returning."""
    conn = db.conn
    try:
        conn.execute("BEGIN IMMEDIATE")  # one writer at a time: seq and prev_hash must not race
        try:
            row = conn.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev_hash = (row[0] + 1, row[1]) if row else (1, GENESIS_HASH)
            body = UnsignedRecord(
                record_id=uuid7(int(obs.wall_time * 1000)),
                device_id=identity.device_id,
                site_id=identity.site_id,
                seq=seq,
                person_id=obs.person_id,
                event=obs.event,
                wall_time=utc_iso(obs.wall_time),
                boot_id=obs.boot_id,
                mono_ns=obs.mono_ns,
                clock_synced=obs.clock_synced,
                match_score=None if obs.match_score is None else round(float(obs.match_score), 4),
                liveness_score=None if obs.liveness_score is None else round(float(obs.liveness_score), 4),
                model_version=obs.model_version,
                prev_hash=prev_hash,
            )
            record = sign_record(body, identity.key)
            conn.execute(
                "INSERT INTO records (record_id, seq, hash, body, person_id, event, wall_time, status, sent_count)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (record.record_id, seq, record_hash(record), json.dumps(record.to_wire()), record.person_id,
                 record.event, record.wall_time, PENDING),
            )
            conn.execute("COMMIT")
        except BaseException:
            # On SQLITE_FULL SQLite has already rolled back; a second ROLLBACK would hide the real cause.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.OperationalError as e:
        # Disk full, read-only media, I/O error: say so; what was committed before is untouched.
        raise StoreError(f"record store cannot take a write: {e}") from e
    return record


def pending_records(db: sqlite_utils.Database, limit: int) -> list[AttendanceRecord]:
    """The oldest unacknowledged records, in seq order."""
    rows = db.execute(
        "SELECT body FROM records WHERE status = ? ORDER BY seq LIMIT ?", (PENDING, limit)
    ).fetchall()
    return [AttendanceRecord.model_validate(json.loads(r[0])) for r in rows]


def note_sent(db: sqlite_utils.Database, record_ids: list[str]) -> None:
    with db.conn:
        db.conn.executemany("UPDATE records SET sent_count = sent_count + 1 WHERE record_id = ?",
                            [(r,) for r in record_ids])


def apply_ack(db: sqlite_utils.Database, ack: Ack) -> int:
    """Mark what the server committed (stored or duplicate) as acked; rejected ones keep their reason.
    Returns how many records changed state."""
    return sum(apply_ack_counts(db, ack).values())


def status_counts(db: sqlite_utils.Database) -> dict[str, int]:
    counts = {PENDING: 0, ACKED: 0, REJECTED: 0}
    for status, n in db.execute("SELECT status, count(*) FROM records GROUP BY status").fetchall():
        counts[status] = n
    return counts


def all_records(db: sqlite_utils.Database) -> list[AttendanceRecord]:
    rows = db.execute("SELECT body FROM records ORDER BY seq").fetchall()
    return [AttendanceRecord.model_validate(json.loads(r[0])) for r in rows]


def pending_batch(db: sqlite_utils.Database, limit: int, exclude: set[str] | frozenset[str] = frozenset(),
                  *, newest: bool = False) -> list[AttendanceRecord]:
    """Up to `limit` pending records not in `exclude`, in seq order: the oldest, or with newest=True the newest.

    Rows in `exclude` (already in flight) are skipped before their JSON is parsed, which is most of the cost.
    """
    order = "DESC" if newest else "ASC"
    # Ids first (small rows), bodies only for the chosen ones: the in-flight rows skipped can be thousands.
    rows = db.execute(f"SELECT seq, record_id FROM records WHERE status = ? ORDER BY seq {order} LIMIT ?",
                      (PENDING, limit + len(exclude))).fetchall()
    seqs = sorted(seq for seq, record_id in rows if record_id not in exclude)
    seqs = seqs[-limit:] if newest else seqs[:limit]
    if not seqs:
        return []
    marks = ",".join("?" * len(seqs))
    bodies = db.execute(f"SELECT body FROM records WHERE seq IN ({marks}) ORDER BY seq", seqs).fetchall()
    return [AttendanceRecord.model_validate(json.loads(b[0])) for b in bodies]


def pending_summary(db: sqlite_utils.Database) -> tuple[int, str | None]:
    """How many records wait to be acked, and the wall time of the oldest of them (None when none wait)."""
    depth = db.execute("SELECT count(*) FROM records WHERE status = ?", (PENDING,)).fetchone()[0]
    row = db.execute("SELECT wall_time FROM records WHERE status = ? ORDER BY seq LIMIT 1", (PENDING,)).fetchone()
    return depth, None if row is None else row[0]


def apply_ack_counts(db: sqlite_utils.Database, ack: Ack) -> dict[str, int]:
    """apply_ack, saying how many records moved pending -> acked and pending -> rejected (resends count 0)."""
    now = utc_iso(time.time())
    moved = {ACKED: 0, REJECTED: 0}
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        for res in ack.results:
            if res.status == "rejected":
                cur = conn.execute(
                    "UPDATE records SET status = ?, reject_reason = ? WHERE record_id = ? AND status = ?",
                    (REJECTED, res.reason, res.record_id, PENDING))
                moved[REJECTED] += cur.rowcount
            else:
                cur = conn.execute(
                    "UPDATE records SET status = ?, acked_at = ? WHERE record_id = ? AND status = ?",
                    (ACKED, now, res.record_id, PENDING))
                moved[ACKED] += cur.rowcount
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return moved


def latest_model_version(db: sqlite_utils.Database) -> str | None:
    """The model version of the newest record, for the heartbeat."""
    row = db.execute("SELECT body FROM records ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else json.loads(row[0]).get("model_version")


def note_sent_batch(db: sqlite_utils.Database, record_ids: list[str]) -> None:
    """note_sent in one statement (the agent calls it on every publish)."""
    if not record_ids:
        return
    marks = ",".join("?" * len(record_ids))
    with db.conn:
        db.conn.execute(f"UPDATE records SET sent_count = sent_count + 1 WHERE record_id IN ({marks})", record_ids)
