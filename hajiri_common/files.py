"""Crash-safe file writes: a power cut leaves either the old file or the new one, never half of either."""

import contextlib
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


class KeyFileTooOpen(PrivateFileError):
    """A private key file whose mode lets the group or others in: refused, since a key others can read is no secret."""


def create_private(path: Path, data: bytes) -> None:
    """Create `path` holding `data`, readable by its owner only (0600), fsync'd. FileExistsError when it exists:
    a key is never overwritten, and of two processes racing to create one, the first one's stays."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def read_private(path: Path, what: str, *, missing_ok: bool = False) -> bytes:
    """The bytes of an owner-only file; KeyFileTooOpen when its mode has any group/other bit, PrivateFileError
    (naming `what` and the path) when it cannot be read. With `missing_ok` a missing file raises FileNotFoundError
    as is, for callers to whom "no key yet" is not an error."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError as e:
        if missing_ok:
            raise
        raise PrivateFileError(f"{what} {path}: cannot read: {e.strerror or e}") from e
    except OSError as e:
        raise PrivateFileError(f"{what} {path}: cannot read: {e.strerror or e}") from e
    with os.fdopen(fd, "rb") as f:
        # fstat on the open file: the mode checked is the mode of the bytes read, not of a file swapped in later.
        mode = stat.S_IMODE(os.fstat(f.fileno()).st_mode)
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileTooOpen(f"{what} {path} is accessible by other users (mode {mode:04o}); "
                                 f"run: chmod 600 {path}")
        try:
            return f.read()
        except OSError as e:
            raise PrivateFileError(f"{what} {path}: cannot read: {e.strerror or e}") from e


def precreate_private(path: Path) -> None:
    """Create `path` empty and owner-only (0600) unless it exists, so a database SQLite opens there next is
    private: SQLite gives its -wal, -shm and -journal files the main file's mode. An existing file is left as is;
    one that cannot be made (no folder, read-only disk) is left to the opener, whose own error then says why."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return
    os.close(fd)


def make_private_dir(path: Path) -> None:
    """mkdir -p `path`, each folder it creates owner-only (0700); folders that exist keep their mode."""
    path = Path(path)
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made by another process meanwhile
            folder.mkdir(mode=0o700)
