"""The shipped match threshold is reproducible: re-running its calibration on its recorded data gives it back."""

from pathlib import Path

import pytest

from edge_models import thresholds
from edge_models.opencv_runtime import MODEL_VERSION


@pytest.mark.slow
@pytest.mark.shared_data
def test_calibration_on_lfw_dev_reproduces_the_shipped_threshold(shared_data: Path, monkeypatch) -> None:
    """edge_models.thresholds.calibrate_all_pairs over every pair of lfw_dev, as thresholds.json records.

    The photos are embedded with the TFLite SFace instead of OpenCV's: the same weights and the same embeddings
    (test_tflite_sface.py), at half the cost, which keeps this under a minute (OpenCV's: over 3 minutes here).
    """
    from edge_models.litert_runtime import Embedder as LiteRTEmbedder
    from edge_models.registry import MODELS, ModelError, verify_model_file

    try:
        from edge_models.convert_sface import default_output

        verify_model_file(MODELS["sface_tflite"], default_output())
    except ModelError:
        pytest.importorskip("onnx", reason="converting needs the convert/dev extra (onnx)")
        from edge_models.convert_sface import convert

        convert()
    monkeypatch.setattr("edge_models.opencv_runtime.Embedder", LiteRTEmbedder)  # embed_photos imports it late
    shipped = thresholds.shipped()
    recorded = shipped["calibration"]
    assert recorded["dataset"] == "lfw_dev/labels.csv (all pairs)" and shipped["model_version"] == MODEL_VERSION
    calibration = thresholds.calibrate_all_pairs(shared_data / "faces" / "lfw_dev", recorded["target_far"])
    assert calibration.threshold == recorded["threshold"] == shipped["match_threshold"] == thresholds.match_threshold()
    # The same pairs, the same impostor tail: not just a coincidentally equal number.
    assert (calibration.n_pairs, calibration.n_same, calibration.n_different, calibration.n_unusable) == (
        recorded["n_pairs"], recorded["n_same"], recorded["n_different"], recorded["n_unusable"])
    assert calibration.false_accepts == recorded["false_accepts"]
    assert calibration.far == pytest.approx(recorded["far"]) and calibration.tar == pytest.approx(recorded["tar"])
    assert calibration.far <= recorded["target_far"]
