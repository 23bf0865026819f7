"""Request and response bodies of field work: inspections on tour, tasks and group notices."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from central_server.attendance.schemas import CheckinCreate
from central_server.org.geofence import INDIA_BBOX, GeofenceError, check_position
from hajiri_common.strict import Day, Strict
from hajiri_wire.record import PersonId, SiteId

_checkin = CheckinCreate.model_fields


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


FLAGS = Literal["repeat_village", "no_tour", "accuracy_too_poor", "device_clock_skew", "queued_offline"]


class InspectionCreate(Strict):
    """One site visit on tour. Times carry their zone (Z or +05:30); lat/lon/accuracy as for check-ins."""

    idempotency_key: Annotated[str, _checkin["idempotency_key"]]
    lat: Annotated[float, _checkin["lat"]]
    lon: Annotated[float, _checkin["lon"]]
    accuracy_m: Annotated[float, _checkin["accuracy_m"]]
    device_time: Annotated[str, _checkin["device_time"]]
    device_sent_time: Annotated[str | None, _checkin["device_sent_time"]] = None
    block: Text
    village: Text
    work_item: Text
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""
    photo_jpeg_b64: Annotated[str, StringConstraints(min_length=16, max_length=1_400_000)] = Field(
        description="base64 JPEG; only its sha256 and size are kept unless the site keeps photos")

    # The same checks as a check-in's times, and the geofence module's service-area and swapped-order checks.
    _instant = field_validator("device_time", "device_sent_time")(CheckinCreate._instant.__func__)

    @model_validator(mode="after")
    def _in_service_area(self) -> "InspectionCreate":
        try:
            check_position([self.lon, self.lat], "lat/lon", INDIA_BBOX)
        except GeofenceError as e:
            raise ValueError(str(e)) from e
        return self


class InspectionPublic(Strict):
    inspection_id: str
    employee_id: str
    site_id: str
    tour_id: int | None
    lat: float
    lon: float
    accuracy_m: float
    block: str
    village: str
    work_item: str
    notes: str
    device_time: str
    event_time: str
    received_at: str
    photo_sha256: str
    photo_bytes: int
    photo_kept: bool
    flags: list[str]
    replayed: bool = False


class VillageVisits(Strict):
    village: str
    visits: int


class OfficerSummary(Strict):
    employee_id: str
    inspections: int
    repeat_village: int = Field(description="inspections flagged repeat_village")
    villages: list[VillageVisits]


class PhotoPolicy(Strict):
    keep_photos: bool


Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


Body = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class TaskCreate(Strict):
    employee_id: PersonId
    title: Title
    details: Body = ""
    due_day: Day | None = None


class TaskPublic(Strict):
    id: int
    employee_id: str
    site_id: str
    title: str
    details: str
    due_day: str | None
    status: str
    assigned_by: str
    done_note: str | None
    created_at: str
    updated_at: str


class TaskDone(Strict):
    note: Body = ""


class NoticeCreate(Strict):
    audience: Literal["site", "district", "all"]
    site_id: SiteId | None = None
    district: Title | None = None
    title: Title
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]

    @model_validator(mode="after")
    def _target(self) -> "NoticeCreate":
        if (self.audience == "site") != (self.site_id is not None):
            raise ValueError("site_id is given exactly when audience is 'site'")
        if (self.audience == "district") != (self.district is not None):
            raise ValueError("district is given exactly when audience is 'district'")
        return self


class NoticePublic(Strict):
    id: int
    audience: str
    site_id: str | None
    district: str | None
    title: str
    body: str
    sent_by: str
    created_at: str


class KioskDelivery(Strict):
    devices: int  # active kiosks at the sites the notice reaches
    published: bool
    error: str | None = None  # why not (yet): the notice is stored; POST .../downlink/devices/{id}/republish


class NoticeSent(NoticePublic):
    kiosks: KioskDelivery
