"""Request and response bodies of month close and adjustments."""

from typing import Annotated

from pydantic import Field, StringConstraints

from hajiri_common.strict import Strict
from hajiri_wire.record import SiteId

Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class MonthCloseRequest(Strict):
    site_id: SiteId
    month: Month
    # Checked by the domain (closing.month_close.check_reason, 5 to 500 characters once stripped); the cap here
    # only bounds the body.
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""
    force: bool = Field(False, description="close even with open exceptions; the stored reason says so")


class ExceptionList(Strict):
    count: int
    items: list[dict]


class MonthExceptions(Strict):
    open: int
    explanations_pending: ExceptionList
    checkins_unreviewed: ExceptionList
    days_pending: ExceptionList
    days_not_computed: ExceptionList


class FrozenFileInfo(Strict):
    format: str
    sha256: str
    size: int
    key_id: str


class MonthCloseStatus(Strict):
    site_id: str
    month: str
    closed: bool
    closed_at: str | None
    closed_by: str | None
    reason: str | None
    exceptions: MonthExceptions
    files: list[FrozenFileInfo]


class AdjustmentReview(Strict):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class AdjustmentPublic(Strict):
    id: int
    employee_id: str
    name: str
    site_id: str
    day: str
    closed_month: str
    applied_month: str
    old_status: str
    new_status: str
    payable_delta: float
    cause: str
    created_at: str
    reviewed_by: str | None
    reviewed_at: str | None
    review_note: str | None
