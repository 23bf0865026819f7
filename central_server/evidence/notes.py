"""The dashboard's evidence notes: kiosks running without liveness, and crops waiting for review."""

from html import escape

import sqlalchemy as sa

from central_server.db.schema import evidence, liveness_policy_events


def liveness_off(conn: sa.Connection, site_id: str | None) -> list[sa.Row]:
    """Devices whose latest reported liveness setting is off (with when and why)."""
    latest = (sa.select(liveness_policy_events.c.device_id, sa.func.max(liveness_policy_events.c.id).label("id"))
              .group_by(liveness_policy_events.c.device_id).subquery())
    query = (sa.select(liveness_policy_events).join(latest, latest.c.id == liveness_policy_events.c.id)
             .where(liveness_policy_events.c.enabled.is_(False)).order_by(liveness_policy_events.c.device_id))
    if site_id is not None:
        query = query.where(liveness_policy_events.c.site_id == site_id)
    return list(conn.execute(query))


def dashboard_notes(conn: sa.Connection, site_id: str | None) -> str:
    """HTML for the dashboard: a warning per kiosk without liveness, and the review queue's length."""
    parts = [f"<p class='flag'>Liveness is OFF on kiosk {escape(r.device_id)} ({escape(r.site_id)}) since "
             f"{escape(r.at)}: a printed photo or a phone screen would be accepted there.</p>"
             for r in liveness_off(conn, site_id)]
    query = sa.select(sa.func.count()).select_from(evidence).where(evidence.c.review_status == "pending")
    if site_id is not None:
        query = query.where(evidence.c.site_id == site_id)
    pending = conn.execute(query).scalar_one()
    parts.append(f"<p><a href='/dashboard/evidence'>Spoof evidence: {pending} waiting for review</a></p>")
    return "".join(parts)
