"""Request and response bodies of the register: sites, people, departments, shifts, employees, geofences,
holidays, leave and tours, CSV imports."""

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from hajiri_common.strict import ClockTime, Day, Name, Slug, Strict
from hajiri_wire.record import PersonId, SiteId

Mobile = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{10,15}$")]


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


EMPLOYEE_ROLES = ("staff", "field_staff", "office_head", "warden", "ddo", "it_staff", "resident")
GO_LIVE_EARLIEST_YEAR = 2020  # Hajiri did not exist before: an earlier go-live day is a typing slip


class SiteCreate(Strict):
    site_id: SiteId
    name: Name
    kind: Literal["office", "hostel", "field"] = "office"


class SitePublic(SiteCreate):
    created_at: str


class PersonCreate(Strict):
    person_id: PersonId
    name: Name
    site_id: SiteId


class PersonPublic(PersonCreate):
    created_at: str


class DepartmentCreate(Strict):
    department_id: Slug
    name: Name


class SiteDetails(Strict):
    department_id: Slug | None = None
    district: Name | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    curfew: ClockTime | None = None
    go_live_on: Day | None = Field(None, description="local day the site started on Hajiri (YYYY-MM-DD): days "
                                                     "before it are not_live, neither absent nor explained. "
                                                     "Left out, the stored day stays; null: live since always")

    @field_validator("go_live_on")
    @classmethod
    def _go_live_day(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                day = date.fromisoformat(value)
            except ValueError as e:
                raise ValueError(f"go_live_on {value!r} is not a calendar date") from e
            if day.year < GO_LIVE_EARLIEST_YEAR:
                raise ValueError(f"go_live_on {value} is before {GO_LIVE_EARLIEST_YEAR}: not a go-live day")
        return value


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


class ImportRowError(Strict):
    row: int
    column: str | None
    message: str


class ImportResult(Strict):
    imported: int
    errors: list[ImportRowError]
