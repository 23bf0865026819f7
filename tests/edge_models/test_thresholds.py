"""The shipped match threshold and margin are read from thresholds.json, recorded with the data they came from."""

from edge_models import thresholds
from edge_models.opencv_runtime import MODEL_VERSION


def test_shipped_thresholds_are_recorded_with_their_data() -> None:
    data = thresholds.shipped()
    assert 0 < thresholds.match_threshold() < 1 and 0 <= thresholds.match_margin() < thresholds.match_threshold()
    assert data["model_version"] == MODEL_VERSION
    cal = data["calibration"]
    assert cal["dataset"].startswith("lfw_dev") and cal["n_different"] > 100_000
    assert cal["threshold"] == thresholds.match_threshold()
    assert data["check"]["dataset"].startswith("celeba_dev")  # checked on a set it was not tuned on
