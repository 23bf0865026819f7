"""JPEGs sent as base64 in a request body (check-in selfies, inspection photos): checked, decoded, or refused
with an error that names the field."""

import base64
import binascii

import cv2
import numpy as np

from central_server.errors import Invalid

JPEG_MAGIC = b"\xff\xd8\xff"


class RejectedField(Invalid):
    """A request refused outright because of one field; `field` names it, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    @property
    def detail(self) -> str:
        return f"{self.field}: {self}"


def decode_jpeg_b64(b64: str, field: str, *, max_bytes: int, min_side: int,
                    error: type[RejectedField] = RejectedField) -> tuple[bytes, np.ndarray]:
    """(raw bytes, BGR pixels) of a base64 JPEG within `max_bytes` and at least `min_side` px a side; else
    `error(field, why)`."""
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as e:
        raise error(field, f"not valid base64: {e}") from e
    if len(raw) > max_bytes:
        raise error(field, f"{len(raw)} bytes, more than {max_bytes}; send a smaller JPEG")
    if not raw.startswith(JPEG_MAGIC):
        raise error(field, "not a JPEG (it must start with the JPEG marker FF D8 FF)")
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise error(field, "the JPEG does not decode (truncated or corrupt)")
    if min(image.shape[:2]) < min_side:
        raise error(field, f"image is {image.shape[1]}x{image.shape[0]}; at least {min_side} px a side")
    return raw, image
