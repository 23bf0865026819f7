"""The demo's small files: flat TOML configs for the processes it starts, and owner-only secret files."""

import json
import os
from pathlib import Path


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def write_toml(path: Path, tables: dict[str, dict]) -> Path:
    """A flat TOML writer for the demo's configs: {"": top-level keys, "mqtt": {...}, ...}."""
    lines = [f"{k} = {_toml(v)}" for k, v in tables.get("", {}).items() if v is not None]
    for name, keys in tables.items():
        if name:
            lines += ["", f"[{name}]", *(f"{k} = {_toml(v)}" for k, v in keys.items() if v is not None)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_secret(path: Path, value: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return path
