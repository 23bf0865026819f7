"""/api/v1/ingest/stats: what the MQTT ingest stored and refused, and the latest refusals."""

from fastapi import APIRouter, Request

from central_server.api.deps import Conn, ItStaff
from central_server.ingest.rejections import rejection_totals
from hajiri_common.strict import Strict

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
    totals = rejection_totals(conn, request.app.state.config.ingest.recent_rejections)
    return {"since_start": request.app.state.ingest_stats.snapshot(), **totals}
