"""API models for spoof evidence review and the liveness policy (strict in, plain out)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from central_server.devices.schemas import DeviceHealthPublic


class DeviceLivenessPublic(DeviceHealthPublic):
    """A device as listed, with its liveness policy and evidence uplink as its latest heartbeat says."""

    liveness_enabled: bool | None = None  # None: no heartbeat yet, or an agent too old to report it
    evidence_pending: int | None = None
    evidence_uplink: bool | None = None  # False: no server key on the kiosk, crops stay there


class EvidencePublic(BaseModel):
    """One crop in the review list, with its record when that has arrived (`linked`)."""

    record_id: str
    device_id: str
    site_id: str
    taken_at: str
    received_at: str
    review_status: str
    reviewed_by: str | None
    reviewed_at: str | None
    note: str | None
    linked: bool
    event: str | None
    person_id: str | None  # for a SPOOF: whom the attacker's face matched best
    liveness_score: float | None
    wall_time: str | None
    image_url: str


class EvidenceReview(BaseModel):
    """An admin's verdict on one crop."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["confirmed_spoof", "false_alarm"]
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class LivenessEventPublic(BaseModel):
    id: int
    device_id: str
    site_id: str
    enabled: bool
    at: str
    changed_by: str
    reason: str


class EvidenceKeyPublic(BaseModel):
    """What a kiosk's evidence.server_public_key must be set to."""

    public_key: str
    key_id: str
