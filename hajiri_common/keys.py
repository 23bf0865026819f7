"""AES-256 key files (hex, owner-only) for the kiosk's gallery and evidence and the server's templates."""

import secrets
from pathlib import Path

from hajiri_common.files import PrivateFileError, create_private, read_private

KEY_BYTES = 32  # AES-256


class KeyFileError(ValueError):
    """A key file that cannot be read, that others can read, or that holds no 32-byte hex key."""


def load_or_create_key(key_path: Path | str, what: str = "key") -> bytes:
    """The 32-byte AES key in `key_path` (hex, mode 0600); a new random one is created when the file is absent.
    `what` names the key in errors (a gallery's, a template or an evidence key)."""
    key_path = Path(key_path)
    if not key_path.exists():
        key = secrets.token_bytes(KEY_BYTES)
        create_private(key_path, (key.hex() + "\n").encode())
        return key
    return load_key(key_path, what)


def load_key(key_path: Path | str, what: str = "key") -> bytes:
    """The 32-byte AES key in an existing `key_path`; KeyFileError, naming `what` and the path, otherwise."""
    key_path = Path(key_path)
    try:
        text = read_private(key_path, what).decode().strip()
    except PrivateFileError as e:
        raise KeyFileError(str(e)) from e
    try:
        key = bytes.fromhex(text)
    except ValueError as e:
        raise KeyFileError(f"{what} {key_path} is not hex") from e
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{what} {key_path} holds {len(key)} bytes, AES-256 needs 32")
    return key
