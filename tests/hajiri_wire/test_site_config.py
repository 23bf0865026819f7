"""The site settings both sides check: bounds, unknown keys refused, the margin below the threshold."""

import pytest
from pydantic import ValidationError

from hajiri_wire.site_config import SiteSettings


def test_bounds_and_unknown_keys() -> None:
    ok = SiteSettings(match_threshold=0.4, match_margin=0.05, liveness={"threshold": 0.3})
    assert ok.debounce_minutes == 5.0 and ok.direction == "toggle" and ok.liveness.threshold == 0.3
    for bad, where in (({"match_threshold": 1.0}, ("match_threshold",)), ({"debounce_minutes": -1}, ("debounce_minutes",)),
                       ({"liveness": {"threshold": 0.0}}, ("liveness", "threshold")),
                       ({"liveness": {"enabled": False}}, ("liveness", "enabled")), ({"typo": 1}, ("typo",))):
        with pytest.raises(ValidationError) as e:
            SiteSettings.model_validate({"match_threshold": 0.4, "match_margin": 0.05} | bad)
        assert e.value.errors()[0]["loc"] == where


def test_margin_must_be_below_the_threshold() -> None:
    with pytest.raises(ValidationError, match="match_margin 0.4 must be below match_threshold 0.3"):
        SiteSettings(match_threshold=0.3, match_margin=0.4)
