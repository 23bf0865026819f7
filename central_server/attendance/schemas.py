"""Request and response bodies of attendance: a day's records, check-ins, days, explanations, face templates."""

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from hajiri_common.strict import Day, Strict
from hajiri_wire.record import PersonId, SiteId

# Wire-style instant with an explicit offset: a phone's local time must say which zone it is in.
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")


class AttendanceRow(Strict):
    record_id: str
    device_id: str
    site_id: str
    person_id: str | None
    name: str | None
    event: str
    time: str = Field(description="when it happened: the re-based time where the kiosk clock was corrected, "
                                  "else the signed wall_time")
    time_corrected: bool
    wall_time: str = Field(description="the time the kiosk signed, as sent")
    match_score: float | None
    clock_synced: bool
    chain_ok: bool | None


class AttendanceDay(Strict):
    date: str
    timezone: str
    site_id: str | None
    records: list[AttendanceRow]


class CheckinCreate(Strict):
    """A mobile check-in. Times carry their zone (Z or +05:30)."""

    employee_id: PersonId
    idempotency_key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{8,128}$")] = Field(
        description="unique per check-in on the phone; a resend with the same key returns the first result")
    event: Literal["IN", "OUT"]
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    accuracy_m: Annotated[float, Field(gt=0, le=100_000)]
    device_time: str = Field(description="when the phone took the check-in, by its clock")
    device_sent_time: str | None = Field(
        None, description="the phone's clock when it sent this request; lets the server tell a queued "
                          "check-in from a wrong clock")
    selfie_jpeg_b64: Annotated[str, StringConstraints(min_length=16, max_length=400_000)]
    mock_location: bool | None = Field(None, description="client hint: the OS reported a mock location")
    app_version: Annotated[str, StringConstraints(max_length=40)] | None = None

    @field_validator("device_time", "device_sent_time")
    @classmethod
    def _instant(cls, v: str | None) -> str | None:
        if v is not None and not _INSTANT.match(v):
            raise ValueError(f"{v!r} is not an ISO 8601 instant with a zone, e.g. 2026-11-25T09:58:03+05:30")
        return v


class CheckinPublic(Strict):
    checkin_id: str
    employee_id: str
    event: str
    lat: float
    lon: float
    accuracy_m: float
    device_time: str
    event_time: str
    received_at: str
    geofence_id: int | None
    distance_m: float | None
    flags: list[str]
    selfie_status: str
    replayed: bool = Field(False, description="true when this answers a resend of an earlier request")


class CheckinResult(CheckinPublic):
    """A stored check-in with its selfie's numbers (the selfie image itself is never kept)."""

    selfie_match_score: float | None = Field(
        None, description="best cosine similarity of the selfie to the employee's templates (SFace, as on the "
                          "kiosk); null when no single face or no template; below the shipped threshold is "
                          "selfie_mismatch")
    selfie_liveness_score: float | None = Field(
        None, description="passive liveness of the selfie (the kiosk's per-frame cues, 0..1, higher = live); "
                          "below the kiosk's fusion threshold is selfie_spoof")


class RecomputeRequest(Strict):
    dates: Annotated[list[Day], Field(min_length=1, max_length=62)]
    employee_id: PersonId | None = None
    site_id: SiteId | None = None


class DayPublic(Strict):
    employee_id: str
    name: str
    site_id: str
    day: str
    status: str
    first_in: str | None
    last_out: str | None
    worked_minutes: int | None
    late_minutes: int
    early_minutes: int
    flags: list[str]
    events: int


class ExplanationPublic(Strict):
    id: int
    employee_id: str
    day: str
    reason: str
    ref: str
    status: str
    reply: str | None
    decided_by: str | None
    decision_note: str | None
    created_at: str
    updated_at: str


class ExplanationReply(Strict):
    reply: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ExplanationDecision(Strict):
    accept: bool
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


MAX_PHOTO_B64 = 1_400_000  # about 1 MiB of image


class TemplatePhotos(Strict):
    photos_b64: Annotated[list[Annotated[str, StringConstraints(min_length=16, max_length=MAX_PHOTO_B64)]],
                          Field(min_length=1, max_length=10)] = Field(
        description="1-10 photos (base64 JPEG or PNG), each with exactly one face; used once, never stored")


class TemplateInfo(Strict):
    template_no: int
    model_version: str
    created_at: str


class TemplatesPublic(Strict):
    employee_id: str
    added: list[int] = Field(description="template numbers added by this request (empty on a listing)")
    templates: list[TemplateInfo]
