"""Rejected input: in-memory counters by reason, rows in the rejections table (bounded), and their totals."""

import hashlib
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from central_server.db.schema import records, rejections
from hajiri_common.timefmt import utc_iso

log = logging.getLogger(__name__)

EXCERPT_BYTES = 512
DEFAULT_REJECTIONS_KEEP = 100_000


@dataclass(frozen=True)
class Rejection:
    """One refused batch or record: a stable reason code and a sentence saying what was wrong."""

    reason: str
    detail: str
    device_id: str | None = None
    record_id: str | None = None


class IngestStats:
    """Counters since this process started; thread-safe (the MQTT thread writes, the API reads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.batches = 0
        self.stored = 0
        self.duplicate = 0
        self.acks_sent = 0
        self.rejected: Counter[str] = Counter()

    def count(self, *, batches: int = 0, stored: int = 0, duplicate: int = 0, acks_sent: int = 0,
              rejected: list[str] | None = None) -> None:
        with self._lock:
            self.batches += batches
            self.stored += stored
            self.duplicate += duplicate
            self.acks_sent += acks_sent
            self.rejected.update(rejected or [])

    def snapshot(self) -> dict:
        with self._lock:
            return {"batches": self.batches, "stored": self.stored, "duplicate": self.duplicate,
                    "acks_sent": self.acks_sent, "rejected": dict(self.rejected)}


def _clean_text(text: str, limit: int) -> str:
    # PostgreSQL TEXT cannot hold NUL; a hostile payload must not make its own rejection unloggable.
    return text.replace("\x00", "\\x00")[:limit]


def excerpt(payload: bytes) -> str:
    return _clean_text(payload[:EXCERPT_BYTES].decode("utf-8", errors="backslashreplace"), EXCERPT_BYTES)


def write_rejections(conn: sa.Connection, topic: str, payload: bytes, items: list[Rejection], *,
                     keep: int, excerpts: dict[str, bytes] | None = None) -> None:
    """Insert one row per rejection, then drop the oldest rows beyond `keep`."""
    if not items:
        return
    now = utc_iso(time.time())
    digest = hashlib.sha256(payload).hexdigest()
    for item in items:
        log.warning("ingest rejected (%s) device=%s record=%s topic=%s: %s", item.reason, item.device_id,
                    item.record_id, topic, item.detail)
        part = (excerpts or {}).get(item.record_id or "", payload)
        conn.execute(sa.insert(rejections).values(
            received_at=now, device_id=item.device_id and _clean_text(item.device_id, 128),
            record_id=item.record_id, topic=_clean_text(topic, 512), reason=item.reason,
            detail=_clean_text(item.detail, 2000), payload_sha256=digest, payload_excerpt=excerpt(part)))
    newest = conn.execute(sa.select(sa.func.max(rejections.c.id))).scalar_one()
    conn.execute(sa.delete(rejections).where(rejections.c.id <= newest - keep))


def rejection_totals(conn: sa.Connection, latest: int) -> dict:
    """What the rejections table holds: the stored records' count, refusals by reason, the `latest` newest rows."""
    by_reason = dict(conn.execute(
        sa.select(rejections.c.reason, sa.func.count()).group_by(rejections.c.reason)).all())
    rows = conn.execute(sa.select(rejections).order_by(rejections.c.id.desc()).limit(latest)).all()
    return {
        "stored_total": conn.execute(sa.select(sa.func.count()).select_from(records)).scalar_one(),
        "rejected_total_by_reason": by_reason,
        "latest_rejections": [dict(r._mapping) for r in rows],
    }
