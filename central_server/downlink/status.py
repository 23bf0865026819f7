"""Kiosk reports on downlinks (applied / refused, per kind): kept per device, and a foreign retained message undone."""

import logging
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from central_server.db.schema import downlink_status
from central_server.downlink.versions import latest_versions
from central_server.ingest.guard import Refused, Uplink
from central_server.ingest.handling import Context, Handled, Publish, Route, run_one
from hajiri_common.timefmt import utc_iso
from hajiri_wire.downlink import DownlinkStatus

log = logging.getLogger(__name__)

# Refusals that mean the retained message on the device's topic is not the server's own: someone else (holding
# the server's broker account) replaced it. The server then puts its latest version back.
FOREIGN_REASONS = frozenset({"bad_signature", "unknown_key", "wrong_device", "wrong_topic", "unknown_kind",
                             "malformed", "schema_version", "too_large"})


def _upsert(conn: sa.Connection, status: DownlinkStatus, kind: str) -> None:
    now = utc_iso(time.time())
    key = (downlink_status.c.device_id == status.device_id) & (downlink_status.c.kind == kind)
    row = conn.execute(sa.select(downlink_status).where(key)).first()
    if status.outcome == "applied":
        values = {"applied_version": status.version, "applied_at": status.at}
    else:
        values = {"refused_version": status.version, "refused_reason": status.reason,
                  "refused_detail": status.detail, "refused_at": status.at,
                  "refused_count": (row.refused_count if row else 0) + 1}
    known = row is not None and row.applied_version is not None
    if status.outcome == "refused" and status.current_version is not None and not known:
        values["applied_version"] = status.current_version
    if row is None:
        conn.execute(sa.insert(downlink_status).values(device_id=status.device_id, kind=kind, updated_at=now,
                                                       **{"refused_count": 0, **values}))
    else:
        conn.execute(sa.update(downlink_status).where(key).values(updated_at=now, **values))


def _refused_before(conn: sa.Connection, status: DownlinkStatus, kind: str) -> bool:
    """This device already refused this very version of this kind."""
    row = conn.execute(sa.select(downlink_status.c.refused_version).where(
        downlink_status.c.device_id == status.device_id, downlink_status.c.kind == kind)).first()
    return status.outcome == "refused" and row is not None and row.refused_version == status.version


def record_status(engine: Engine, topic: str, payload: bytes) -> list[tuple[str, bytes]]:
    """Store one report; returns the (topic, envelope) the server should publish again (retained), if any."""
    return run_one(Context(engine), ROUTE, topic, payload).report


def handle_status(ctx: Context, uplink: Uplink) -> Handled:
    """The downlink status route: keep the report; a foreign retained message is replaced by the server's own."""
    status: DownlinkStatus = uplink.message
    device_id, kind = uplink.device_id, status.kind or "unknown"
    ours = []
    with ctx.engine.begin() as conn:
        repeated = _refused_before(conn, status, kind)
        _upsert(conn, status, kind)
        if status.outcome == "refused":
            log.warning("kiosk %s refused a %s downlink v%s: %s (%s)", device_id, kind, status.version,
                        status.reason, status.detail)
        if status.outcome == "refused" and status.reason in FOREIGN_REASONS and status.kind is not None:
            ours = [s for s in latest_versions(conn, device_id) if s.kind == status.kind]
            if repeated and any(s.version == status.version for s in ours):
                # The kiosk refused the server's own latest version again (no server key, a wrong one): putting
                # it back would only be refused once more, for ever. Stop; the fleet shows the kiosk as needing
                # attention until it applies a version or someone re-publishes.
                log.error("kiosk %s keeps refusing the server's %s v%s (%s): not re-published; it needs "
                          "attention", device_id, kind, status.version, status.reason)
                ours = []
    again = [(s.topic, s.envelope) for s in ours]
    return Handled(report=again, publish=[Publish(topic, envelope, retain=True) for topic, envelope in again])


def refused_status(_ctx: Context, _topic: str, _refused: Refused) -> Handled:
    return Handled(report=[])


# A report is not checked against the device's standing and its refusals are only logged, as before the guard:
# it changes nothing but the report row and, at most, puts the server's own retained message back.
ROUTE = Route("downlink_status", handle_status, refused_status, keep_refusals=False, on_error="raise")
