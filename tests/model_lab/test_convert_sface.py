"""TFLite SFace: the converter is deterministic, its embeddings match OpenCV's, and a bad file refuses to load."""

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_models import runtimes
from edge_models.alignment import align_crop
from edge_models.opencv_runtime import BadFrame, Detector, Embedder, read_image
from edge_models.registry import MODELS, ModelError, sha256_file, verify_model_file
from model_lab import eval as face_eval

LFW = Path("faces") / "lfw_dev"
CELEBA = Path("faces") / "celeba_dev"


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    """A fresh conversion into a temporary folder (the registry's file is never touched here)."""
    pytest.importorskip("onnx", reason="converting needs the convert/dev extra (onnx)")
    pytest.importorskip("tflite", reason="converting needs the convert/dev extra (tflite)")
    from model_lab.convert_sface import convert

    return convert(tmp_path_factory.mktemp("sface") / "sface.tflite")


@pytest.fixture(scope="module")
def generated() -> Path:
    """The set-up location of the converted model (what the kiosk loads), made here if set-up has not run."""
    spec = MODELS["sface_tflite"]
    from model_lab.convert_sface import default_output

    path = default_output()
    try:
        return verify_model_file(spec, path)
    except ModelError:
        pytest.importorskip("onnx", reason="converting needs the convert/dev extra (onnx)")
        from model_lab.convert_sface import convert

        return convert(path)


@pytest.fixture(scope="module")
def faces(shared_data: Path) -> list[tuple[np.ndarray, object]]:
    """(image, YuNet face) for real photos: LFW (centred portraits) and CelebA (in the wild)."""
    paths = sorted((shared_data / LFW).glob("*/*.jpg"))[::60][:16] + sorted((shared_data / CELEBA).glob("*/*.jpg"))[::50][:12]
    detector, out = Detector(), []
    for path in paths:
        image = read_image(path)
        found = detector.detect(image)
        if found:
            out.append((image, max(found, key=lambda f: f.size)))
    assert len(out) >= 24
    return out


def test_conversion_is_byte_deterministic_and_pinned(converted: Path) -> None:
    assert sha256_file(converted) == MODELS["sface_tflite"].sha256
    assert MODELS["sface_tflite"].make == "python -m model_lab.convert_sface"


def test_tflite_embeddings_match_opencv_on_real_faces(converted: Path, faces: list) -> None:
    from edge_models.litert_runtime import Embedder as LiteRTEmbedder

    cv, lite = Embedder(), LiteRTEmbedder(model_file=converted)
    cosines = np.array([float(cv.embed_face(image, face) @ lite.embed_face(image, face)) for image, face in faces])
    assert cosines.min() >= 0.99, cosines.round(4)
    # Different people stay apart on the TFLite path too: it is not a constant vector.
    first, second = lite.embed_face(*faces[0]), lite.embed_face(*faces[-1])
    assert float(first @ second) < 0.5 and abs(float(np.linalg.norm(first)) - 1.0) < 1e-5


def test_alignment_port_gives_opencvs_crop(faces: list) -> None:
    cv = Embedder()
    for image, face in faces:
        diff = np.abs(cv.align(image, face).astype(int) - align_crop(image, face.landmarks).astype(int))
        assert diff.max() <= 2 and (diff > 0).mean() < 0.05


def test_tflite_embedder_checks_its_input(converted: Path) -> None:
    from edge_models.litert_runtime import Embedder as LiteRTEmbedder

    lite = LiteRTEmbedder(model_file=converted)
    with pytest.raises(BadFrame, match="112x112"):
        lite.embed(np.zeros((100, 112, 3), np.uint8))
    with pytest.raises(BadFrame, match="dtype"):
        lite.embed(np.zeros((112, 112, 3), np.float32))


def test_missing_or_altered_converted_file_says_how_to_make_it(converted: Path, tmp_path: Path) -> None:
    from edge_models.litert_runtime import Embedder as LiteRTEmbedder

    with pytest.raises(ModelError, match=r"missing; run `python -m model_lab\.convert_sface`"):
        LiteRTEmbedder(model_file=tmp_path / "sface.tflite")
    altered = tmp_path / "altered.tflite"
    shutil.copyfile(converted, altered)
    with open(altered, "r+b") as f:
        f.seek(altered.stat().st_size // 2)
        f.write(b"\x00\x01\x02\x03")
    with pytest.raises(ModelError, match=r"sha256.*refusing.*python -m model_lab\.convert_sface"):
        LiteRTEmbedder(model_file=altered)


def test_runtime_factory_names_and_versions() -> None:
    assert runtimes.model_version("yunet", "opencv") == face_eval.thresholds.shipped()["model_version"]
    assert runtimes.model_version("blazeface", "litert") == "blazeface-full-range+sface-2021dec-fp32-tflite"
    assert runtimes.shares_embeddings(runtimes.model_version("blazeface", "litert"),
                                      runtimes.model_version("yunet", "opencv"))
    assert not runtimes.shares_embeddings("yunet-2023mar-int8bq+arcface-r50", runtimes.EMBEDDING_SPACE)
    with pytest.raises(runtimes.RuntimeChoiceError, match="unknown recogniser runtime 'onnxruntime'"):
        runtimes.make_embedder("onnxruntime")
    with pytest.raises(runtimes.RuntimeChoiceError, match="unknown detector 'mtcnn'"):
        runtimes.make_detector("mtcnn")


def test_eval_verify_with_the_litert_runtime(generated: Path, shared_data: Path, tmp_path: Path, capsys) -> None:
    root = shared_data / LFW
    with open(root / "pairs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    pick = [r for r in rows if r["same"] == "1"][:4] + [r for r in rows if r["same"] == "0"][:4]
    pairs = tmp_path / "pairs.csv"
    with open(pairs, "w", newline="") as f:
        w = csv.DictWriter(f, ["image_a", "image_b", "same"])
        w.writeheader()
        w.writerows(pick)
    code = face_eval.main(["verify", "--pairs", str(pairs), "--root", str(root), "--runtime", "litert"])
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["runtime"] == "litert" and result["detector"] == "yunet" and result["pairs"] == 8
    assert result["model_version"] == "yunet-2023mar-int8bq+sface-2021dec-fp32-tflite"
    assert "calibrated with yunet-2023mar-int8bq+sface-2021dec-int8bq" in result["fixed_threshold_source"]
    assert result["failed_to_detect"] == 0 and result["ms_per_image"] > 0
    assert result["fixed_threshold_accuracy"] >= 7 / 8
