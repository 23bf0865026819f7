"""Strict parsing of every wire message: size cap before parsing, one JSON object, our schema version, and a
pydantic model whose first errors name the bad field. Each decode_* in hajiri_wire goes through here."""

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from hajiri_wire.errors import MalformedPayload, PayloadTooLarge, UnsupportedSchema
from hajiri_wire.record import SCHEMA_VERSION

M = TypeVar("M", bound=BaseModel)


def json_object(payload: bytes, what: str, limit: int) -> dict:
    """The payload as a JSON object of our schema version; the error says which check failed."""
    if len(payload) > limit:
        raise PayloadTooLarge(f"{what}: {len(payload)} bytes, more than the {limit} allowed")
    try:
        obj = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MalformedPayload(f"{what}: not valid JSON ({e})") from e
    if not isinstance(obj, dict):
        raise MalformedPayload(f"{what}: expected a JSON object, got {type(obj).__name__}")
    version = obj.get("schema_version")
    if version != SCHEMA_VERSION:
        raise UnsupportedSchema(f"{what}: schema_version {version!r}, this code speaks {SCHEMA_VERSION}")
    return obj


def validation_summary(e: ValidationError) -> str:
    """The first three problems, each as `field.path: message`."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()[:3])


def validate(model: type[M], obj: object, what: str) -> M:
    try:
        return model.model_validate(obj)
    except ValidationError as e:
        raise MalformedPayload(f"{what}: {validation_summary(e)}") from e


def parse_model(payload: bytes, model: type[M], what: str, limit: int) -> M:
    """json_object, then the model: MalformedPayload names the first bad fields."""
    return validate(model, json_object(payload, what, limit), what)
