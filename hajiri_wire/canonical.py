"""Canonical JSON encoding: the exact bytes that are hashed and signed."""

import json
from typing import Any


def canonical_bytes(obj: Any) -> bytes:
    """Sorted keys, no whitespace, ASCII only: the same object always gives the same bytes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()
