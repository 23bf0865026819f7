"""Crash-safe file writes: a power cut leaves either the old file or the new one, never half of either."""

import os
import stat
from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write `data` to a temporary file beside `path` (created with `mode`), fsync it, then rename it over."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class PrivateFileError(ValueError):
    """A private file (a key) that cannot be read, or that other users could read."""


def create_private(path: Path, data: bytes) -> None:
    """Create `path` holding `data`, readable by its owner only (0600), fsync'd. FileExistsError when it exists:
    a key is never overwritten, and of two processes racing to create one, the first one's stays."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def read_private(path: Path, what: str) -> bytes:
    """The bytes of an owner-only file; PrivateFileError, naming `what` and the path, when it cannot be read or
    its mode lets the group or others in (a key others can read is not a secret any more)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as e:
        raise PrivateFileError(f"{what} {path}: cannot read: {e.strerror or e}") from e
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PrivateFileError(f"{what} {path} is accessible by other users (mode {stat.S_IMODE(mode):o}); "
                               "chmod 600 it")
    return data
