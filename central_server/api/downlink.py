"""/api/v1/downlink: publish signed gallery versions, site config and commands to kiosks; see what they applied."""

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import Field

from central_server.access.tokens import Principal, Role
from central_server.api.deps import authorize, bearer_token
from central_server.api.schemas import Strict
from central_server.config import ServerConfig
from central_server.db.schema import devices
from central_server.downlink.keys import DownlinkKeyError, load_or_create_signing_key, set_enc_key
from central_server.downlink.publish import PublishError, publish_retained
from central_server.downlink.versions import (
    DownlinkError,
    NoEncKey,
    NoTargets,
    Stored,
    device_downlink,
    latest_versions,
    make_command,
    make_config,
    make_gallery,
    mark_published,
    target_devices,
)
from edge_models.opencv_runtime import EMBEDDING_DIM, MODEL_VERSION
from hajiri_wire import WireError, public_key_b64
from hajiri_wire.downlink import Command, GalleryContent, GalleryPerson, SiteConfig, key_id
from hajiri_wire.record import DeviceId, SiteId

router = APIRouter(prefix="/api/v1/downlink", tags=["downlink"])
STAFF = frozenset({Role.STATE_ADMIN, Role.IT_STAFF})


def _staff(request: Request) -> Principal:
    # Checked in a transaction of its own, closed before the endpoint runs: the endpoint commits its rows and
    # only then publishes them, which a request-long transaction (SQLite BEGIN IMMEDIATE) would not allow.
    with request.app.state.engine.begin() as conn:
        return authorize(conn, bearer_token(request), STAFF)


Staff = Annotated[Principal, Depends(_staff)]


class Targets(Strict):
    site_id: SiteId | None = None
    device_ids: Annotated[list[DeviceId], Field(min_length=1, max_length=1000)] | None = None


class GalleryPublish(Targets):
    model_version: Annotated[str, Field(min_length=1, max_length=128)] = MODEL_VERSION
    # Each template: base64 of EMBEDDING_DIM little-endian float32 values.
    people: Annotated[list[GalleryPerson], Field(max_length=100_000)]


class ConfigPublish(Targets):
    config: SiteConfig


class CommandPublish(Targets):
    command: Command


class EncKey(Strict):
    enc_public_key: Annotated[str, Field(min_length=1, max_length=100)]


class Published(Strict):
    device_id: str
    kind: str
    version: int
    published: bool


class PublishReport(Strict):
    items: list[Published]
    error: str | None = None  # why publishing failed; the versions stay stored and go out on republish


def _config(request: Request) -> ServerConfig:
    return request.app.state.config


def _signing_key(request: Request):
    try:
        return load_or_create_signing_key(_config(request).downlink_key_path)
    except DownlinkKeyError as e:
        raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, detail=str(e)) from e


def _publish(request: Request, stored: list[Stored]) -> PublishReport:
    """After the commit: put each version on its retained topic, then note which went out."""
    error = None
    try:
        publish_retained(_config(request).mqtt, [(s.topic, s.envelope) for s in stored])
    except PublishError as e:
        error = str(e)
    else:
        with request.app.state.engine.begin() as conn:
            mark_published(conn, [s.id for s in stored])
    return PublishReport(items=[Published(device_id=s.device_id, kind=s.kind, version=s.version,
                                          published=error is None) for s in stored], error=error)


def _make(request: Request, body: Targets, build) -> PublishReport:
    key = _signing_key(request)
    try:
        with request.app.state.engine.begin() as conn:
            stored = build(conn, key, target_devices(conn, body.site_id, body.device_ids))
    except NoTargets as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(e)) from e
    except (DownlinkError, WireError) as e:
        code = status.HTTP_409_CONFLICT if isinstance(e, NoEncKey) else status.HTTP_422_UNPROCESSABLE_CONTENT
        raise HTTPException(code, detail=str(e)) from e
    except sa.exc.IntegrityError as e:  # two publishes raced for the same version number
        raise HTTPException(status.HTTP_409_CONFLICT, detail="another publish for these devices ran at the "
                            "same time; try again") from e
    return _publish(request, stored)


@router.get("/server-key")
def get_server_key(request: Request, who: Staff) -> dict:
    """The public key kiosks verify downlinks with (install it with `hajiri provision --server-key`)."""
    public = _signing_key(request).public
    return {"public_key": public_key_b64(public), "key_id": key_id(public)}


@router.put("/devices/{device_id}/enc-key", status_code=status.HTTP_204_NO_CONTENT)
def put_enc_key(device_id: str, body: EncKey, request: Request, who: Staff) -> None:
    """Record the X25519 key (from `hajiri provision`) that this device's galleries are sealed to."""
    with request.app.state.engine.begin() as conn:
        if conn.execute(sa.select(devices.c.device_id).where(devices.c.device_id == device_id)).first() is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"device {device_id!r} is not registered")
        try:
            set_enc_key(conn, device_id, body.enc_public_key, actor=who.label)
        except DownlinkKeyError as e:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(e)) from e


@router.post("/gallery", status_code=status.HTTP_201_CREATED, response_model=PublishReport)
def post_gallery(body: GalleryPublish, request: Request, who: Staff) -> PublishReport:
    """A new gallery version (the whole gallery) for each target device, sealed to that device's key."""
    content = GalleryContent(model_version=body.model_version, dim=EMBEDDING_DIM, people=body.people)
    return _make(request, body, lambda conn, key, ids: make_gallery(conn, key, ids, content, actor=who.label))


@router.post("/config", status_code=status.HTTP_201_CREATED, response_model=PublishReport)
def post_config(body: ConfigPublish, request: Request, who: Staff) -> PublishReport:
    """Site settings (thresholds, shift times), checked against the kiosk's config model first."""
    return _make(request, body, lambda conn, key, ids: make_config(conn, key, ids, body.config, actor=who.label))


@router.post("/commands", status_code=status.HTTP_201_CREATED, response_model=PublishReport)
def post_command(body: CommandPublish, request: Request, who: Staff) -> PublishReport:
    return _make(request, body, lambda conn, key, ids: make_command(conn, key, ids, body.command, actor=who.label))


@router.post("/devices/{device_id}/republish", response_model=PublishReport)
def post_republish(device_id: str, request: Request, who: Staff) -> PublishReport:
    """Publish the newest stored version of each kind again (after a broker outage or a lost retained message)."""
    with request.app.state.engine.begin() as conn:
        stored = latest_versions(conn, device_id, _signing_key(request))  # the key re-signs the derived notices
    if not stored:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no downlink stored for {device_id!r}")
    return _publish(request, stored)


@router.get("/devices/{device_id}")
def get_device_downlink(device_id: str, request: Request, who: Staff) -> dict:
    """Per kind: the newest version issued (and whether it was published), and what the kiosk last applied
    and last refused (with the reason and how many refusals so far)."""
    with request.app.state.engine.begin() as conn:
        if conn.execute(sa.select(devices.c.device_id).where(devices.c.device_id == device_id)).first() is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"device {device_id!r} is not registered")
        return device_downlink(conn, device_id)
