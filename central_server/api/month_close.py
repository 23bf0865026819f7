"""/api/v1/month-close and /api/v1/adjustments: the office head (DDO) reviews and closes a site's month; the
adjustments later changes make to a closed month, and their review. An office head sees and acts for their own
site, the state admin for any; a district officer reads their district's."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from central_server.api.deps import Conn, OfficeHead, PayrollReader, check_site_scope, request_clock
from central_server.closing.adjustments import get_adjustment, list_adjustments, review_adjustment
from central_server.closing.month_close import close_month, month_status, parse_month
from central_server.closing.schemas import (
    AdjustmentPublic,
    AdjustmentReview,
    MonthCloseRequest,
    MonthCloseStatus,
)
from central_server.downlink.keys import load_or_create_signing_key
from central_server.errors import Invalid, NotFound
from central_server.org.sites import site_exists

router = APIRouter(prefix="/api/v1", tags=["month close"])

Site = Annotated[str | None, Query(description="the office; an office head's token names it already")]
Month = Annotated[str, Query(description="YYYY-MM")]


def _site(who, site_id: str | None) -> str:
    site = check_site_scope(who, site_id)
    if site is None:
        raise Invalid("site_id: name the site")
    return site


@router.get("/month-close", response_model=MonthCloseStatus)
def get_month_close(request: Request, conn: Conn, who: PayrollReader, month: Month, site_id: Site = None) -> dict:
    """Whether the site's month is closed (who, when, why), its open exceptions, and the frozen files."""
    return month_status(conn, _site(who, site_id), month, tz=request.app.state.config.timezone)


@router.post("/month-close", status_code=status.HTTP_201_CREATED, response_model=MonthCloseStatus)
def post_month_close(request: Request, body: MonthCloseRequest, conn: Conn, who: OfficeHead) -> dict:
    """Close a month that is over: 409 when closed already, not over, or (without force) with open exceptions;
    422 without a reason of 5 to 500 characters. The report is frozen in CSV, XLSX and PDF and signed."""
    config = request.app.state.config
    now = datetime.fromtimestamp(request_clock(request), UTC)
    return close_month(conn, _site(who, body.site_id), body.month, who.label, body.reason, now,
                       key=load_or_create_signing_key(config.downlink_key_path), tz=config.timezone,
                       force=body.force)


@router.get("/adjustments", response_model=list[AdjustmentPublic])
def get_adjustments(conn: Conn, who: PayrollReader, site_id: Site = None,
                    month: Annotated[str | None, Query(description="YYYY-MM: adjustments to that closed month "
                                                                   "or paid in it")] = None) -> list[dict]:
    """A site's adjustments to closed months, by day."""
    site = _site(who, site_id)
    if month is not None:
        parse_month(month)
    if not site_exists(conn, site):
        raise NotFound(f"site_id: {site!r} is not registered")
    return list_adjustments(conn, site, month)


@router.post("/adjustments/{adjustment_id}/review", response_model=AdjustmentPublic)
def post_review(request: Request, adjustment_id: int, body: AdjustmentReview, conn: Conn, who: OfficeHead) -> dict:
    """The office head acknowledges an adjustment (once: 409 after), with an optional note; audited."""
    check_site_scope(who, get_adjustment(conn, adjustment_id)["site_id"])
    return review_adjustment(conn, adjustment_id, body.note, actor=who.label, now=request_clock(request))
