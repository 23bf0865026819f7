"""[models] in the kiosk config: strict names, the measured defaults, and each detector's own score scale."""

import pytest
from pydantic import ValidationError

from edge_models.runtimes import make_detector, version_of
from kiosk.config import KioskConfig


def test_defaults_are_yunet_and_the_litert_sface() -> None:
    config = KioskConfig()
    assert (config.models.detector, config.models.recogniser_runtime) == ("yunet", "litert")
    assert config.detector_score_threshold == config.detect_score_threshold == 0.8


def test_blazeface_uses_its_own_score_threshold() -> None:
    config = KioskConfig(models={"detector": "blazeface", "blazeface_score_threshold": 0.55})
    assert config.detector_score_threshold == 0.55
    detector = make_detector(config.models.detector, config.detector_score_threshold)
    assert detector.score_threshold == 0.55 and detector.variant.size == 192


@pytest.mark.parametrize("models", [{"detector": "mtcnn"}, {"recogniser_runtime": "onnxruntime"},
                                    {"detectr": "yunet"}, {"blazeface_score_threshold": 1.5}])
def test_unknown_names_keys_and_bad_values_are_refused(models: dict) -> None:
    with pytest.raises(ValidationError) as e:
        KioskConfig(models=models)
    assert "models." in str(e.value)


def test_records_name_the_runtime_that_ran() -> None:
    from edge_models.blazeface import Detector as BlazeFace
    from edge_models.opencv_runtime import Detector, Embedder

    assert version_of(Detector(), Embedder()) == "yunet-2023mar-int8bq+sface-2021dec-int8bq"
    assert version_of(BlazeFace(variant="short"), Embedder()).startswith("blazeface-short-range+")
