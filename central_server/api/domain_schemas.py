"""Request and response bodies of the domain API: employees, shifts, geofences, leave, check-ins, days."""

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from hajiri_wire.record import PersonId, SiteId

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Day = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Mobile = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{10,15}$")]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EMPLOYEE_ROLES = ("staff", "field_staff", "office_head", "warden", "ddo", "it_staff", "resident")
# Wire-style instant with an explicit offset: a phone's local time must say which zone it is in.
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DepartmentCreate(Strict):
    department_id: Slug
    name: Name


class SiteDetails(Strict):
    department_id: Slug | None = None
    district: Name | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    curfew: ClockTime | None = None


class ShiftCreate(Strict):
    shift_id: Slug
    name: Name
    start_time: ClockTime
    end_time: ClockTime
    grace_late_min: Annotated[int, Field(ge=0, le=240)] = 10
    grace_early_min: Annotated[int, Field(ge=0, le=240)] = 10
    half_day_hours: Annotated[float, Field(gt=0, le=24)] = 4.0
    absent_hours: Annotated[float, Field(ge=0, le=24)] = 2.0
    overnight: bool = False
    weekly_off: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = ["sun"]

    @model_validator(mode="after")
    def _check(self) -> "ShiftCreate":
        crosses_midnight = self.end_time <= self.start_time
        if crosses_midnight and not self.overnight:
            raise ValueError(f"end_time {self.end_time} is not after start_time {self.start_time}: "
                             "set overnight = true for a night shift")
        if self.overnight and not crosses_midnight:
            raise ValueError(f"overnight is true but end_time {self.end_time} is after start_time "
                             f"{self.start_time} on the same day")
        if self.absent_hours >= self.half_day_hours:
            raise ValueError(f"absent_hours ({self.absent_hours}) must be below half_day_hours "
                             f"({self.half_day_hours})")
        return self


class ShiftPublic(ShiftCreate):
    created_at: str


class EmployeeCreate(Strict):
    employee_id: PersonId
    name: Name
    role: Literal["staff", "field_staff", "office_head", "warden", "ddo", "it_staff", "resident"] = "staff"
    site_id: SiteId
    department_id: Slug | None = None
    shift_id: Slug | None = None
    mobile: Mobile | None = None
    active: bool = True
    joined_on: Day | None = Field(None, description="first day of employment (local); days before it are "
                                                    "not_employed, never absent")
    left_on: Day | None = Field(None, description="last day of employment (local)")

    @model_validator(mode="after")
    def _employment_order(self):
        for name in ("joined_on", "left_on"):
            value = getattr(self, name)
            if value is not None:
                try:
                    date.fromisoformat(value)
                except ValueError as e:
                    raise ValueError(f"{name} {value!r} is not a calendar date") from e
        if self.joined_on and self.left_on and self.left_on < self.joined_on:
            raise ValueError(f"left_on {self.left_on} is before joined_on {self.joined_on}")
        return self


class EmployeePublic(EmployeeCreate):
    created_at: str
    geofence_ids: list[int] = []


class GeofenceCreate(Strict):
    name: Name
    polygon: dict = Field(description="GeoJSON Polygon; positions are [longitude, latitude]")


class GeofencePublic(Strict):
    geofence_id: int
    site_id: str
    name: str
    polygon: dict
    centroid_lat: float
    centroid_lon: float
    area_m2: float
    created_at: str


class EmployeeFences(Strict):
    geofence_ids: list[int] = Field(description="the fences this employee may check in from (replaces the list)")


class HolidayCreate(Strict):
    day: Day
    name: Name
    site_id: SiteId | None = Field(None, description="None: a holiday at every site")


class AbsenceCreate(Strict):
    employee_id: PersonId
    from_day: Day
    to_day: Day
    approved: bool = True

    @model_validator(mode="after")
    def _order(self):
        if self.to_day < self.from_day:
            raise ValueError(f"to_day {self.to_day} is before from_day {self.from_day}")
        return self


class LeaveCreate(AbsenceCreate):
    kind: Literal["casual", "earned", "medical", "half_day", "other"] = "casual"


class TourCreate(AbsenceCreate):
    purpose: Name


class TokenIssued(Strict):
    employee_id: str
    token: str = Field(description="shown once; store it on the phone")


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


class ImportRowError(Strict):
    row: int
    column: str | None
    message: str


class ImportResult(Strict):
    imported: int
    errors: list[ImportRowError]
