"""/api/v1/ingest/stats: what the MQTT ingest stored and refused, and the latest refusals."""

import sqlalchemy as sa
from fastapi import APIRouter, Request

from central_server.api.deps import Conn, ItStaff
from central_server.api.schemas import IngestStatsPublic
from central_server.db.schema import records, rejections

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])

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
