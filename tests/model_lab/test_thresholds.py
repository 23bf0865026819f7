"""Threshold calibration: false accepts are counted exactly, and re-running the shipped threshold's calibration on
its recorded data gives it back."""

from pathlib import Path

import numpy as np
import pytest

from edge_models import thresholds
from edge_models.opencv_runtime import MODEL_VERSION
from model_lab import thresholds as lab


def test_threshold_for_far_counts_false_accepts() -> None:
    different = np.linspace(-0.2, 0.5, 1000)
    same = np.linspace(0.3, 0.9, 100)
    th, far, tar = lab.threshold_for_far(same, different, 0.01)
    assert far <= 0.01 and np.sum(different >= th) == 10
    assert tar == pytest.approx(np.mean(same >= th))


@pytest.mark.slow
@pytest.mark.shared_data
def test_calibration_on_lfw_dev_reproduces_the_shipped_threshold(shared_data: Path, monkeypatch) -> None:
    """model_lab.thresholds.calibrate_all_pairs over every pair of lfw_dev, as thresholds.json records.

    The photos are embedded with the TFLite SFace instead of OpenCV's: the same weights and the same embeddings
    (test_convert_sface.py), at half the cost, which keeps this under a minute (OpenCV's: over 3 minutes here).
    """
    from edge_models.litert_runtime import Embedder as LiteRTEmbedder
    from edge_models.registry import MODELS, ModelError, verify_model_file

    try:
        from model_lab.convert_sface import default_output

        verify_model_file(MODELS["sface_tflite"], default_output())
    except ModelError:
        pytest.importorskip("onnx", reason="converting needs the convert/dev extra (onnx)")
        from model_lab.convert_sface import convert

        convert()
    monkeypatch.setattr("model_lab.thresholds.Embedder", LiteRTEmbedder)  # the embedder embed_photos makes
    shipped = thresholds.shipped()
    recorded = shipped["calibration"]
    assert recorded["dataset"] == "lfw_dev/labels.csv (all pairs)" and shipped["model_version"] == MODEL_VERSION
    calibration = lab.calibrate_all_pairs(shared_data / "faces" / "lfw_dev", recorded["target_far"])
    assert calibration.threshold == recorded["threshold"] == shipped["match_threshold"] == thresholds.match_threshold()
    # The same pairs, the same impostor tail: not just a coincidentally equal number.
    assert (calibration.n_pairs, calibration.n_same, calibration.n_different, calibration.n_unusable) == (
        recorded["n_pairs"], recorded["n_same"], recorded["n_different"], recorded["n_unusable"])
    assert calibration.false_accepts == recorded["false_accepts"]
    assert calibration.far == pytest.approx(recorded["far"]) and calibration.tar == pytest.approx(recorded["tar"])
    assert calibration.far <= recorded["target_far"]
