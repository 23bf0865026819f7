"""Request and response bodies of kiosk devices: registration, health, clock anchors, chain verification."""

from typing import Annotated, Literal

from pydantic import StringConstraints

from hajiri_common.strict import Strict
from hajiri_wire.record import DeviceId, SiteId


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
