"""Request and response bodies of the downlink API: targets, gallery, config and command publishes, reports."""

from typing import Annotated

from pydantic import Field

from edge_models.opencv_runtime import MODEL_VERSION
from hajiri_common.strict import Strict
from hajiri_wire.downlink import Command, GalleryPerson, SiteConfig
from hajiri_wire.record import DeviceId, SiteId


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
