"""Kiosk heartbeats: keep the latest per device, anchor each boot's monotonic clock, re-base unsynced records.

Clock truth: a kiosk without a real-time clock writes records with `clock_synced = false` and a wall time that
may be days off, but every record also carries (boot_id, mono_ns). When a heartbeat of that boot arrives, the
server pairs the heartbeat's mono_ns with its own receive time (less half the kiosk's measured ack round trip):
an anchor. Then corrected_time = anchor wall time + (record mono_ns - anchor mono_ns). The signed fields are
never changed; the corrected time is stored beside the record in record_times.
"""

import logging
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from central_server.db.schema import clock_anchors, device_heartbeats, record_times, records
from central_server.evidence.liveness_policy import note_liveness_policy
from central_server.ingest.guard import Refused, Uplink, active_device
from central_server.ingest.handling import Context, Handled, Route, run_one
from central_server.ingest.rejections import DEFAULT_REJECTIONS_KEEP, IngestStats, Rejection
from hajiri_common.timefmt import parse_utc_iso, utc_iso
from hajiri_wire import AttendanceRecord, Heartbeat

log = logging.getLogger(__name__)

# A device with no heartbeat for this long is shown as silent (computed when read, never stored).
DEFAULT_SILENT_AFTER_S = 300.0
# Without an RTT estimate the receive time is trusted to within this.
UNKNOWN_RTT_UNCERTAINTY_MS = 2000
# A heartbeat whose own (offset-corrected) clock disagrees with its receive time by more than this sat in a
# queue somewhere: its receive time says nothing about when it was sent, so it anchors nothing.
STALE_HEARTBEAT_MS = 30_000
# A new anchor replaces the old one only when it is better by this much (a re-base rewrites the boot's rows).
ANCHOR_IMPROVEMENT_MS = 50


@dataclass(frozen=True)
class Anchor:
    """At the kiosk's monotonic `mono_ns` (of one boot) true time was `wall_unix_ms`, give or take."""

    mono_ns: int
    wall_unix_ms: int
    uncertainty_ms: int

    def correct(self, mono_ns: int) -> str:
        return utc_iso((self.wall_unix_ms + (mono_ns - self.mono_ns) / 1e6) / 1000)


@dataclass
class HeartbeatOutcome:
    """What became of one heartbeat message."""

    device_id: str | None
    heartbeat: Heartbeat | None = None
    rejection: Rejection | None = None
    anchored: bool = False
    rebased: int = 0
    # (person_id, time) of IN/OUT records whose time was re-based: their old and new days need recomputing.
    touched: list[tuple[str, str]] = field(default_factory=list)


def anchor_from(hb: Heartbeat, received_unix_ms: int) -> Anchor | None:
    """The anchor this heartbeat gives, or None when its receive time cannot be trusted as its send time."""
    if hb.clock_rtt_s is None:
        wall, uncertainty = received_unix_ms, UNKNOWN_RTT_UNCERTAINTY_MS
    else:
        half = int(hb.clock_rtt_s * 500)
        wall, uncertainty = received_unix_ms - half, max(half, 1)
    if hb.clock_offset_s is not None:
        kiosk_view = parse_utc_iso(hb.sent_at).timestamp() * 1000 + hb.clock_offset_s * 1000
        if abs(kiosk_view - wall) > STALE_HEARTBEAT_MS:
            return None
    return Anchor(hb.mono_ns, int(wall), int(uncertainty))


def ingest_heartbeat(engine: Engine, topic: str, payload: bytes, *, stats: IngestStats | None = None,
                     rejections_keep: int = DEFAULT_REJECTIONS_KEEP,
                     received_unix_ms: int | None = None) -> HeartbeatOutcome:
    """Handle one heartbeat message. Never raises: bad input and DB failures become an outcome."""
    return run_one(Context(engine, stats, rejections_keep), ROUTE, topic, payload,
                   received_unix_ms=received_unix_ms).report


def handle_heartbeat(ctx: Context, uplink: Uplink) -> Handled:
    """The heartbeat route: keep the latest, anchor the boot's clock, re-base its unsynced records."""
    device_id, hb, received = uplink.device_id, uplink.message, uplink.received_unix_ms
    with ctx.engine.begin() as conn:
        active_device(conn, uplink)
        _upsert(conn, device_heartbeats, ["device_id"], {
            "device_id": device_id, "received_at": utc_iso(received / 1000), "received_unix_ms": received,
            "sent_at": hb.sent_at, "boot_id": hb.boot_id, "body": uplink.payload.decode()})
        note_liveness_policy(conn, device_id, hb)  # a liveness on/off change is logged and audited
        outcome = HeartbeatOutcome(device_id, heartbeat=hb)
        anchor = anchor_from(hb, received)
        if anchor is None:
            log.info("heartbeat from %s arrived late (its clock says otherwise); not used as a clock anchor",
                     device_id)
        elif _better_anchor(conn, device_id, hb.boot_id, anchor):
            _upsert(conn, clock_anchors, ["device_id", "boot_id"], {
                "device_id": device_id, "boot_id": hb.boot_id, "mono_ns": anchor.mono_ns,
                "wall_unix_ms": anchor.wall_unix_ms, "uncertainty_ms": anchor.uncertainty_ms,
                "source": "heartbeat", "updated_at": utc_iso(received / 1000)})
            outcome.anchored = True
            outcome.rebased = rebase_boot(conn, device_id, hb.boot_id, anchor)
            if outcome.rebased:
                outcome.touched = rebased_attendance(conn, device_id, hb.boot_id)
    return Handled(report=outcome, touched=outcome.touched)


def refused_heartbeat(_ctx: Context, _topic: str, refused: Refused) -> Handled:
    return Handled(report=HeartbeatOutcome(refused.rejection.device_id, rejection=refused.rejection))


def rebased_attendance(conn: sa.Connection, device_id: str, boot_id: str) -> list[tuple[str, str]]:
    """IN/OUT records of one boot with both their signed and corrected times (a day may move)."""
    rows = conn.execute(
        sa.select(records.c.person_id, records.c.wall_time, record_times.c.corrected_wall_time)
        .join(record_times, record_times.c.record_id == records.c.record_id)
        .where(record_times.c.device_id == device_id, record_times.c.boot_id == boot_id,
               records.c.person_id.is_not(None), records.c.event.in_(("IN", "OUT")))).all()
    touched = [(r.person_id, r.wall_time) for r in rows]
    touched += [(r.person_id, r.corrected_wall_time) for r in rows if r.corrected_wall_time]
    return touched


def _upsert(conn: sa.Connection, table: sa.Table, keys: list[str], row: dict) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**row)
    conn.execute(stmt.on_conflict_do_update(index_elements=keys,
                                            set_={k: v for k, v in row.items() if k not in keys}))


def load_anchors(conn: sa.Connection, device_id: str) -> dict[str, Anchor]:
    rows = conn.execute(sa.select(clock_anchors).where(clock_anchors.c.device_id == device_id))
    return {r.boot_id: Anchor(r.mono_ns, r.wall_unix_ms, r.uncertainty_ms) for r in rows}


def _better_anchor(conn: sa.Connection, device_id: str, boot_id: str, anchor: Anchor) -> bool:
    old = load_anchors(conn, device_id).get(boot_id)
    return old is None or anchor.uncertainty_ms + ANCHOR_IMPROVEMENT_MS < old.uncertainty_ms


def rebase_boot(conn: sa.Connection, device_id: str, boot_id: str, anchor: Anchor) -> int:
    """Correct every unsynced record of one boot from `anchor`; returns how many rows were corrected."""
    rows = conn.execute(sa.select(record_times.c.record_id, record_times.c.mono_ns).where(
        record_times.c.device_id == device_id, record_times.c.boot_id == boot_id)).all()
    if not rows:
        return 0
    now = utc_iso(time.time())
    stmt = (sa.update(record_times).where(record_times.c.record_id == sa.bindparam("rid"))
            .values(corrected_wall_time=sa.bindparam("t"), time_corrected=True, corrected_at=now))
    conn.execute(stmt, [{"rid": r.record_id, "t": anchor.correct(r.mono_ns)} for r in rows])
    log.info("re-based %d unsynced record(s) of %s boot %s", len(rows), device_id, boot_id)
    return len(rows)


def note_unsynced(conn: sa.Connection, device_id: str, recs: list[AttendanceRecord]) -> dict[str, str]:
    """Remember newly stored unsynced records, corrected at once when their boot already has an anchor.

    Returns the corrected time by record id of those corrected now: their days must be recomputed too."""
    unsynced = [r for r in recs if not r.clock_synced]
    if not unsynced:
        return {}
    anchors = load_anchors(conn, device_id)
    now = utc_iso(time.time())
    rows = []
    for r in unsynced:
        anchor = anchors.get(r.boot_id)
        rows.append({"record_id": r.record_id, "device_id": device_id, "boot_id": r.boot_id,
                     "mono_ns": r.mono_ns, "corrected_wall_time": anchor.correct(r.mono_ns) if anchor else None,
                     "time_corrected": anchor is not None, "corrected_at": now if anchor else None})
    conn.execute(sa.insert(record_times), rows)
    return {row["record_id"]: row["corrected_wall_time"] for row in rows if row["corrected_wall_time"]}


def device_health(row: sa.Row | None, now_unix_ms: int, silent_after_s: float) -> dict:
    """The heartbeat fields an operator looks at, with `silent` computed now."""
    if row is None:
        return {"last_heartbeat_at": None, "heartbeat_age_s": None, "silent": True, "heartbeat": None}
    age = max(0.0, (now_unix_ms - row.received_unix_ms) / 1000)
    return {"last_heartbeat_at": row.received_at, "heartbeat_age_s": round(age, 3),
            "silent": age > silent_after_s, "heartbeat": Heartbeat.model_validate_json(row.body).model_dump()}


def latest_heartbeats(conn: sa.Connection, device_id: str | None = None) -> dict[str, sa.Row]:
    query = sa.select(device_heartbeats)
    if device_id is not None:
        query = query.where(device_heartbeats.c.device_id == device_id)
    return {r.device_id: r for r in conn.execute(query)}


ROUTE = Route("heartbeat", handle_heartbeat, refused_heartbeat)
