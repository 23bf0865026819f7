"""API request and response bodies: *Create for what callers send, *Public for what they get back."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hajiri_wire.record import DeviceId, PersonId, SiteId

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class DeviceCreate(Strict):
    device_id: DeviceId
    site_id: SiteId
    public_key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class DevicePublic(Strict):
    device_id: str
    site_id: str
    public_key: str
    status: Literal["active", "revoked"]
    registered_at: str


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


class ChainIssue(Strict):
    seq: int
    record_id: str
    kind: str
    detail: str


class ChainReport(Strict):
    device_id: str
    records: int
    first_seq: int | None
    last_seq: int | None
    whole: bool
    problems: list[ChainIssue]
    bad_signatures: list[str]
    flagged_at_ingest: int


class DeviceHealthPublic(DevicePublic):
    """A device with what its latest heartbeat says; `silent` is computed when asked."""

    last_heartbeat_at: str | None = None
    heartbeat_age_s: float | None = None
    silent: bool = True
    queue_depth: int | None = None
    oldest_unsent_age_s: float | None = None
    clock_offset_s: float | None = None
    last_error: str | None = None


class ClockAnchorPublic(Strict):
    boot_id: str
    mono_ns: int
    wall_time: str
    uncertainty_ms: int
    updated_at: str


class HeartbeatReport(Strict):
    device_id: str
    status: str
    silent_after_s: float
    last_heartbeat_at: str | None
    heartbeat_age_s: float | None
    silent: bool
    heartbeat: dict | None
    clock_anchors: list[ClockAnchorPublic]
    records_time_corrected: int
    records_time_uncorrected: int
