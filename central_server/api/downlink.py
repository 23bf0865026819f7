"""/api/v1/downlink: publish signed gallery versions, site config and commands to kiosks; see what they applied."""


from fastapi import APIRouter, Request, status

from central_server.access.tokens import Principal
from central_server.api.deps import ItStaffApart, check_device_scope, check_site_scope
from central_server.config import ServerConfig
from central_server.devices.registry import get_device
from central_server.downlink.keys import load_or_create_signing_key, set_enc_key
from central_server.downlink.publish import publish_stored, store_versions
from central_server.downlink.schemas import (
    CommandPublish,
    ConfigPublish,
    EncKey,
    GalleryPublish,
    PublishReport,
    Targets,
)
from central_server.downlink.versions import (
    device_downlink,
    latest_versions,
    make_command,
    make_config,
    make_gallery,
)
from central_server.errors import NotFound
from edge_models.opencv_runtime import EMBEDDING_DIM
from hajiri_wire import DeviceKey, public_key_b64
from hajiri_wire.downlink import GalleryContent, key_id

router = APIRouter(prefix="/api/v1/downlink", tags=["downlink"])
# Callers are checked in a transaction of their own (ItStaffApart): these endpoints commit their rows and
# only then publish them.


def _config(request: Request) -> ServerConfig:
    return request.app.state.config


def _signing_key(request: Request) -> DeviceKey:
    return load_or_create_signing_key(_config(request).downlink_key_path)  # 500 when its file cannot be used


def _scoped_device(request: Request, who: Principal, device_id: str) -> None:
    """The device exists and the caller may act on it (a site-scoped IT login: its own site's only)."""
    with request.app.state.engine.begin() as conn:
        get_device(conn, device_id)
        check_device_scope(conn, who, [device_id])


def _make(request: Request, who: Principal, body: Targets, build) -> dict:
    engine = request.app.state.engine
    site_id = body.site_id
    if body.device_ids is None:
        site_id = check_site_scope(who, body.site_id)  # another site's name: 403; none: its own
    else:
        with engine.begin() as conn:
            check_device_scope(conn, who, body.device_ids)
    stored = store_versions(engine, _signing_key(request), site_id, body.device_ids, build)
    return publish_stored(engine, _config(request).mqtt, stored)


@router.get("/server-key")
def get_server_key(request: Request, who: ItStaffApart) -> dict:
    """The public key kiosks verify downlinks with (install it with `hajiri provision --server-key`)."""
    public = _signing_key(request).public
    return {"public_key": public_key_b64(public), "key_id": key_id(public)}


@router.put("/devices/{device_id}/enc-key", status_code=status.HTTP_204_NO_CONTENT)
def put_enc_key(device_id: str, body: EncKey, request: Request, who: ItStaffApart) -> None:
    """Record the X25519 key (from `hajiri provision`) that this device's galleries are sealed to."""
    _scoped_device(request, who, device_id)
    with request.app.state.engine.begin() as conn:
        set_enc_key(conn, device_id, body.enc_public_key, actor=who.label)


@router.post("/gallery", status_code=status.HTTP_201_CREATED, response_model=PublishReport)
def post_gallery(body: GalleryPublish, request: Request, who: ItStaffApart) -> dict:
    """A new gallery version (the whole gallery) for each target device, sealed to that device's key."""
    content = GalleryContent(model_version=body.model_version, dim=EMBEDDING_DIM, people=body.people)
    return _make(request, who, body, lambda conn, key, ids: make_gallery(conn, key, ids, content, actor=who.label))


@router.post("/config", status_code=status.HTTP_201_CREATED, response_model=PublishReport)
def post_config(body: ConfigPublish, request: Request, who: ItStaffApart) -> dict:
    """Site settings (thresholds, shift times), checked against the kiosk's config model first."""
    return _make(request, who, body, lambda conn, key, ids: make_config(conn, key, ids, body.config, actor=who.label))


@router.post("/commands", status_code=status.HTTP_201_CREATED, response_model=PublishReport)
def post_command(body: CommandPublish, request: Request, who: ItStaffApart) -> dict:
    return _make(request, who, body, lambda conn, key, ids: make_command(conn, key, ids, body.command, actor=who.label))


@router.post("/devices/{device_id}/republish", response_model=PublishReport)
def post_republish(device_id: str, request: Request, who: ItStaffApart) -> dict:
    """Publish the newest stored version of each kind again (after a broker outage or a lost retained message)."""
    _scoped_device(request, who, device_id)
    with request.app.state.engine.begin() as conn:
        stored = latest_versions(conn, device_id, _signing_key(request))  # the key re-signs the derived notices
    if not stored:
        raise NotFound(f"no downlink stored for {device_id!r}")
    return publish_stored(request.app.state.engine, _config(request).mqtt, stored)


@router.get("/devices/{device_id}")
def get_device_downlink(device_id: str, request: Request, who: ItStaffApart) -> dict:
    """Per kind: the newest version issued (and whether it was published), and what the kiosk last applied
    and last refused (with the reason and how many refusals so far)."""
    _scoped_device(request, who, device_id)
    with request.app.state.engine.begin() as conn:
        return device_downlink(conn, device_id)
