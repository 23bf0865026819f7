"""The kiosk settings a site's server may set: their bounds, checked by the server before signing and by the kiosk."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The bounds travel as types: the kiosk's own config gives these fields its defaults (from its models package).
MatchThreshold = Annotated[float, Field(gt=0.0, lt=1.0)]
MatchMargin = Annotated[float, Field(ge=0.0, lt=1.0)]


class SiteLivenessSettings(BaseModel):
    """The liveness setting a site may set."""

    model_config = ConfigDict(extra="forbid")

    # Below this fused score a track is a SPOOF. None: the threshold shipped with the fusion weights
    # (edge_models/liveness_weights.json), so a refit moves it without touching site configs.
    threshold: float | None = Field(None, gt=0.0, lt=1.0)


class SiteSettings(BaseModel):
    """The part of the kiosk config a site's server sends down (hajiri_wire.downlink.SiteConfig.kiosk_overrides),
    with its bounds. Unknown keys are errors: a typo must not fall back to a default."""

    model_config = ConfigDict(extra="forbid")

    match_threshold: MatchThreshold
    match_margin: MatchMargin
    debounce_minutes: float = Field(5.0, ge=0.0, le=24 * 60)
    direction: Literal["in", "out", "toggle"] = "toggle"
    liveness: SiteLivenessSettings = Field(default_factory=SiteLivenessSettings)

    @model_validator(mode="after")
    def _check_margin(self) -> "SiteSettings":
        if self.match_margin >= self.match_threshold:
            raise ValueError(f"match_margin {self.match_margin} must be below "
                             f"match_threshold {self.match_threshold}")
        return self
