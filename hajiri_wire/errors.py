"""Named exceptions for everything that can be wrong with a payload on the wire."""


class WireError(ValueError):
    """A payload or record that does not satisfy the wire contract. `reason` is a short stable code."""

    reason = "invalid"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class MalformedPayload(WireError):
    """Not JSON, truncated, or fields missing / of the wrong type."""

    reason = "malformed"


class PayloadTooLarge(WireError):
    """Bigger than the contract allows; rejected before parsing."""

    reason = "too_large"


class UnsupportedSchema(WireError):
    """A schema version this code does not speak."""

    reason = "schema_version"


class BadSignature(WireError):
    """The Ed25519 signature does not verify against the device's registered key."""

    reason = "bad_signature"


class ChainBroken(WireError):
    """A record's prev_hash does not match the device's previous record."""

    reason = "chain_broken"
