"""LiteRT runtime: the registered Face Mesh loads offline, is sha256-held, and lands on the face."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_models.litert_runtime import MESH_POINTS, FaceMesh, load_interpreter
from edge_models.opencv_runtime import Detector, read_image
from edge_models.registry import ModelError, model_path


def test_face_mesh_points_land_on_the_face(shared_data: Path) -> None:
    image = read_image(shared_data / "liveness" / "smoke" / "image_T1.jpg")
    face = Detector().detect(image)[0]
    mesh = FaceMesh().landmarks(image, face.box, face.landmarks)
    assert mesh.points.shape == (MESH_POINTS, 3) and mesh.score > 0.9
    # Mesh eye centres (corner pairs 33/133 and 362/263) agree with YuNet's eyes to a fraction of the face.
    right = mesh.points[[33, 133], :2].mean(axis=0)
    left = mesh.points[[362, 263], :2].mean(axis=0)
    err = (np.linalg.norm(right - face.landmarks[0]) + np.linalg.norm(left - face.landmarks[1])) / 2
    assert err < 0.12 * face.box[2]


def test_face_mesh_on_a_blank_image_has_a_low_score() -> None:
    blank = np.full((240, 240, 3), 128, np.uint8)
    assert FaceMesh().landmarks(blank, (60, 60, 120, 120)).score < 0.5


def test_only_registered_litert_models_load(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a registered LiteRT model"):
        load_interpreter("yunet")
    altered = tmp_path / "face_landmark.tflite"
    shutil.copy(model_path("face_mesh"), altered)
    with open(altered, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02")
    with pytest.raises(ModelError, match="sha256"):
        FaceMesh(model_file=altered)
