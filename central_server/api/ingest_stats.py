"""/api/v1/ingest/stats: what the MQTT ingest stored and refused, and the latest refusals."""

import sqlalchemy as sa
from fastapi import APIRouter, Request

from central_server.api.deps import Conn, ItStaff
from central_server.db.schema import records, rejections
from central_server.schema_base import Strict

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])


# The answer of this route only (the ingest package keeps no API bodies).
class RejectionPublic(Strict):
    id: int
    received_at: str
    device_id: str | None
    record_id: str | None
    topic: str
    reason: str
    detail: str
    payload_sha256: str
    payload_excerpt: str


class IngestStatsPublic(Strict):
    since_start: dict
    stored_total: int
    rejected_total_by_reason: dict[str, int]
    latest_rejections: list[RejectionPublic]


@router.get("/stats", response_model=IngestStatsPublic)
def get_stats(request: Request, conn: Conn, who: ItStaff) -> dict:
    by_reason = dict(conn.execute(
        sa.select(rejections.c.reason, sa.func.count()).group_by(rejections.c.reason)).all())
    latest = conn.execute(sa.select(rejections).order_by(rejections.c.id.desc())
                          .limit(request.app.state.config.ingest.recent_rejections)).all()
    return {
        "since_start": request.app.state.ingest_stats.snapshot(),
        "stored_total": conn.execute(sa.select(sa.func.count()).select_from(records)).scalar_one(),
        "rejected_total_by_reason": by_reason,
        "latest_rejections": [dict(r._mapping) for r in latest],
    }
