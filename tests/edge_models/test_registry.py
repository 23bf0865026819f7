"""The model registry refuses files that are missing or differ from the sha256 it names."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_models.opencv_runtime import Detector, Embedder
from edge_models.registry import MODELS, ModelError, model_path, sha256_file, verify_model_file


@pytest.mark.parametrize("name", ["yunet", "sface"])
def test_shipped_models_verify(name: str) -> None:
    path = model_path(name)
    assert path.is_file()
    assert sha256_file(path) == MODELS[name].sha256


def _tampered_copy(name: str, tmp_path: Path) -> Path:
    copy = tmp_path / model_path(name).name
    shutil.copyfile(model_path(name), copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit in the middle of the weights
    copy.write_bytes(bytes(data))
    return copy


@pytest.mark.parametrize("name", ["yunet", "sface"])
def test_flipped_byte_refuses_to_load(name: str, tmp_path: Path) -> None:
    copy = _tampered_copy(name, tmp_path)
    with pytest.raises(ModelError, match="sha256") as e:
        verify_model_file(MODELS[name], copy)
    assert "refusing" in str(e.value)


def test_runtime_refuses_tampered_model_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="yunet"):
        Detector(model_file=_tampered_copy("yunet", tmp_path))
    with pytest.raises(ModelError, match="sface"):
        Embedder(model_file=_tampered_copy("sface", tmp_path))


def test_untampered_copy_loads(tmp_path: Path) -> None:
    copy = tmp_path / "yunet.onnx"
    shutil.copyfile(model_path("yunet"), copy)
    assert Detector(model_file=copy).detect(np.zeros((64, 64, 3), np.uint8)) == []


def test_missing_and_unknown_models(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        verify_model_file(MODELS["sface"], tmp_path / "nope.onnx")
    with pytest.raises(ModelError, match="no model named"):
        model_path("facenet")
