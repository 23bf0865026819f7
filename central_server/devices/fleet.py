"""The kiosk fleet as IT staff read it: every device of the sites one may see with its office and what its
latest heartbeat says (age, queue, clock, temperature, models, liveness), silent ones first. Reads only."""

import sqlalchemy as sa

from central_server.db.schema import downlink_status, sites
from central_server.devices.heartbeat import device_health, latest_heartbeats
from central_server.devices.registry import list_devices


def fleet(conn: sa.Connection, site_ids: set[str] | None, now_unix_ms: int, silent_after_s: float) -> list[dict]:
    """Devices (of site_ids; None: all) with their heartbeat's figures, in the order they need looking at:
    silent active ones first (never heard from, then the longest silent), then the rest, revoked ones last."""
    names = dict(conn.execute(sa.select(sites.c.site_id, sites.c.name)).all())
    beats = latest_heartbeats(conn)
    refusing = downlinks_refused(conn)
    out = []
    for device in list_devices(conn):
        if site_ids is not None and device["site_id"] not in site_ids:
            continue
        health = device_health(beats.get(device["device_id"]), now_unix_ms, silent_after_s)
        hb = health.pop("heartbeat") or {}
        out.append({**device, **health, "site_name": names.get(device["site_id"], device["site_id"]),
                    "revoked": device["status"] == "revoked", **{k: hb.get(k) for k in HEARTBEAT_FIELDS},
                    "model_versions": dict(sorted((hb.get("model_versions") or {}).items())),
                    "downlink_refused": refusing.get(device["device_id"], [])})
    return sorted(out, key=_order)


def downlinks_refused(conn: sa.Connection) -> dict[str, list[str]]:
    """Per device, the downlink kinds whose latest report is a refusal (after any version applied): the kiosk
    runs on an older gallery, config or command than the server issued and someone has to look."""
    out: dict[str, list[str]] = {}
    rows = conn.execute(sa.select(downlink_status.c.device_id, downlink_status.c.kind, downlink_status.c.applied_at,
                                  downlink_status.c.refused_at).where(downlink_status.c.refused_at.is_not(None))
                        .order_by(downlink_status.c.device_id, downlink_status.c.kind))
    for r in rows:
        if r.applied_at is None or r.refused_at > r.applied_at:
            out.setdefault(r.device_id, []).append(r.kind)
    return out


# What the fleet table shows of a heartbeat (hajiri_wire.Heartbeat), besides its age.
HEARTBEAT_FIELDS = ("queue_depth", "oldest_unsent_age_s", "clock_offset_s", "clock_synced", "cpu_temp_c",
                    "disk_free_bytes", "uptime_s", "last_error", "liveness_enabled", "evidence_pending")


def _order(d: dict) -> tuple:
    never = d["heartbeat_age_s"] is None
    return (d["revoked"], not d["silent"], not never, -(d["heartbeat_age_s"] or 0.0) if d["silent"] else 0.0,
            d["site_id"], d["device_id"])
