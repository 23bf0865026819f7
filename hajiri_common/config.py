"""Load a TOML config file into a strict pydantic model; errors name the bad key and say what was wrong."""

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A config file that cannot be used. The message names the file and every bad key."""


def describe_errors(e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = "unknown key (not allowed here)" if err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"  {key}: {msg}")
    return "\n".join(lines)


def parse_config(model: type[M], data: dict, source: str = "config") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{source}: invalid config\n{describe_errors(e)}") from e


def load_config(model: type[M], path: Path | None) -> M:
    """Defaults when `path` is None; otherwise the file's keys over the defaults."""
    if path is None:
        return parse_config(model, {}, "defaults")
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: config file not found") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    return parse_config(model, data, str(path))
