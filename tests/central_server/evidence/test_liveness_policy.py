"""A kiosk's liveness on/off, as its heartbeats report it (SQLite and PostgreSQL): each change logged once,
audited, and an old agent's silence no change."""

import time

import sqlalchemy as sa

from central_server.db.schema import audit_log, liveness_policy_events
from central_server.devices.heartbeat import ingest_heartbeat
from hajiri_common.timefmt import utc_iso
from hajiri_wire import Heartbeat, encode_heartbeat, topics


def heartbeat(**kw) -> Heartbeat:
    return Heartbeat(device_id="kiosk-01", sent_at=utc_iso(time.time()), boot_id="boot-a", mono_ns=10**12,
                     uptime_s=10.0, clock_synced=True, queue_depth=0, **kw)


def test_liveness_changes_are_logged_once_each_and_audited(engine, registered) -> None:
    for enabled in (None, True, False, False, True):  # None: an old agent, says nothing
        hb = heartbeat() if enabled is None else heartbeat(liveness_enabled=enabled)
        assert ingest_heartbeat(engine, topics.heartbeat("kiosk-01"), encode_heartbeat(hb)).rejection is None
    with engine.connect() as conn:
        events = conn.execute(sa.select(liveness_policy_events).order_by(liveness_policy_events.c.id)).all()
        audits = conn.execute(sa.select(audit_log.c.action, audit_log.c.actor)
                              .where(audit_log.c.action.like("liveness.%")).order_by(audit_log.c.id)).all()
    assert [(e.enabled, e.site_id, e.changed_by) for e in events] == [
        (False, "office-1", "device:kiosk-01"), (True, "office-1", "device:kiosk-01")]
    assert [tuple(a) for a in audits] == [("liveness.disable", "device:kiosk-01"),
                                          ("liveness.enable", "device:kiosk-01")]
    # An old heartbeat without the field still parses.
    old = heartbeat().model_dump(exclude={"liveness_enabled", "evidence_pending", "evidence_uplink"})
    assert Heartbeat.model_validate(old).liveness_enabled is None
