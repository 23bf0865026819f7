"""The one base of every request and response body (unknown fields refused) and the field spellings several
packages' bodies share. Here, importing only pydantic, so every feature package's schemas.py and the CSV import
can use it without import cycles, and the server's root keeps only app, cli, config and errors."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


class Strict(BaseModel):
    # JSON from Python accepts NaN and Infinity: refused here, once, so no body stores or compares with them.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Day = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
