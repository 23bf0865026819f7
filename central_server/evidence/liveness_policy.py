"""Liveness policy per kiosk: every change its heartbeats report is logged (table and audit log) and shown."""

import logging
import time

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.db.schema import devices, liveness_policy_events
from hajiri_common.timefmt import utc_iso
from hajiri_wire import Heartbeat

log = logging.getLogger(__name__)


def latest_policy(conn: sa.Connection, device_id: str) -> sa.Row | None:
    return conn.execute(sa.select(liveness_policy_events).where(liveness_policy_events.c.device_id == device_id)
                        .order_by(liveness_policy_events.c.id.desc()).limit(1)).first()


def note_liveness_policy(conn: sa.Connection, device_id: str, hb: Heartbeat) -> bool:
    """Log a change of the kiosk's liveness setting (a kiosk never heard from counts as enabled, the default).
    Returns True when a change was logged. Runs in the heartbeat's transaction."""
    enabled = hb.liveness_enabled
    if enabled is None:
        return False  # an agent too old to say: no news is not a change
    last = latest_policy(conn, device_id)
    if (last.enabled if last is not None else True) == enabled:
        return False
    site_id = conn.execute(sa.select(devices.c.site_id).where(devices.c.device_id == device_id)).scalar_one()
    state = "enabled" if enabled else "DISABLED"
    reason = f"kiosk heartbeat of {hb.sent_at} reports liveness {state} in its config"
    conn.execute(sa.insert(liveness_policy_events).values(
        device_id=device_id, site_id=site_id, enabled=enabled, at=utc_iso(time.time()),
        changed_by=f"device:{device_id}", reason=reason))
    write_audit(conn, f"device:{device_id}", "liveness.enable" if enabled else "liveness.disable", device_id,
                f"site {site_id}: {reason}")
    (log.info if enabled else log.warning)("liveness %s on %s (site %s)", state, device_id, site_id)
    return True
