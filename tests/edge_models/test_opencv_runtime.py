"""YuNet + SFace through OpenCV: bad frames are named errors, embeddings are unit vectors, real faces are found."""

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_models import thresholds
from edge_models.opencv_runtime import (
    BadFrame,
    Detector,
    Embedder,
    check_frame,
    decode_image,
    read_image,
)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_blank_and_noise_frames_have_no_faces(detector: Detector) -> None:
    assert detector.detect(np.zeros((480, 640, 3), np.uint8)) == []
    assert detector.detect(np.full((480, 640, 3), 255, np.uint8)) == []
    rng = np.random.default_rng(0)
    assert detector.detect(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)) == []


@pytest.mark.parametrize(("image", "reason"), [
    (None, "None"),
    ("not an image", "str"),
    (np.zeros((480, 640, 3), np.float32), "float32"),
    (np.zeros((0, 0, 3), np.uint8), "empty"),
    (np.zeros((10, 10, 5), np.uint8), "HxWx3"),
])
def test_bad_frames_are_named(image: object, reason: str, detector: Detector) -> None:
    with pytest.raises(BadFrame, match=reason):
        detector.detect(image)


def test_grey_and_bgra_frames_are_converted() -> None:
    assert check_frame(np.zeros((20, 30), np.uint8)).shape == (20, 30, 3)
    assert check_frame(np.zeros((20, 30, 4), np.uint8)).shape == (20, 30, 3)


def test_undecodable_bytes_and_files(tmp_path: Path) -> None:
    with pytest.raises(BadFrame, match="cannot decode"):
        decode_image(b"\xff\xd8\xff garbage, not a jpeg")
    with pytest.raises(BadFrame, match="empty"):
        decode_image(b"")
    ok, jpg = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))
    assert ok
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(jpg.tobytes()[:20])
    with pytest.raises(BadFrame, match="cut.jpg"):
        read_image(truncated)
    with pytest.raises(BadFrame, match="cannot read"):
        read_image(tmp_path / "absent.jpg")


def test_embedding_is_unit_float32(embedder: Embedder) -> None:
    rng = np.random.default_rng(1)
    e = embedder.embed(rng.integers(0, 256, (112, 112, 3), dtype=np.uint8))
    assert e.dtype == np.float32 and e.shape == (128,)
    assert abs(float(np.linalg.norm(e)) - 1.0) < 1e-5
    with pytest.raises(BadFrame, match="112x112"):
        embedder.embed(np.zeros((100, 100, 3), np.uint8))


@pytest.mark.shared_data
def test_real_faces_found_and_compared(shared_data: Path, detector: Detector, embedder: Embedder) -> None:
    # CelebA (not LFW, which the threshold was tuned on): same person scores above the threshold, others below.
    root = shared_data / "faces" / "celeba_dev"
    with open(root / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    by_person: dict[str, list[str]] = {}
    for r in rows:
        by_person.setdefault(r["identity"], []).append(r["image"])
    people = sorted(by_person)[:6]

    def embed(rel: str) -> np.ndarray:
        image = read_image(root / rel)
        faces = detector.detect(image)
        assert faces, f"no face in {rel}"
        big = max(faces, key=lambda f: f.size)
        assert big.landmarks.shape == (5, 2) and 0 < big.score <= 1
        return embedder.embed_face(image, big)

    emb = {p: [embed(rel) for rel in by_person[p][:3]] for p in people}
    th = thresholds.match_threshold()
    same = [float(a @ b) for p in people for i, a in enumerate(emb[p]) for b in emb[p][i + 1:]]
    different = [float(a @ b) for p in people for q in people if p < q for a in emb[p] for b in emb[q]]
    # Single in-the-wild photos (profile, make-up, years apart): most same-person pairs pass, no stranger does.
    assert np.mean(np.array(same) >= th) >= 0.7, sorted(same)
    assert max(different) < th, max(different)
    assert np.mean(same) > np.mean(different) + 0.3


@pytest.mark.shared_data
def test_large_photo_detected_in_original_coordinates(shared_data: Path, detector: Detector) -> None:
    image = read_image(shared_data / "faces" / "lfw_dev" / "AJ_Cook" / "AJ_Cook_0001.jpg")
    canvas = np.full((2000, 2400, 3), 90, np.uint8)  # a big photo: detected on a 1280-wide copy
    canvas[900:1500, 1200:1800] = cv2.resize(image, (600, 600), interpolation=cv2.INTER_CUBIC)
    small = cv2.resize(canvas, (1280, round(2000 * 1280 / 2400)), interpolation=cv2.INTER_AREA)
    scale = 2400 / 1280
    on_small = max(detector.detect(small), key=lambda f: f.size)
    on_big = max(detector.detect(canvas), key=lambda f: f.size)
    assert 1200 < on_big.box[0] < 1800 and 900 < on_big.box[1] < 1500  # in the big photo's pixels
    assert np.allclose(on_big.box, np.array(on_small.box) * scale, atol=1.0)
    assert np.allclose(on_big.landmarks, on_small.landmarks * scale, atol=1.0)
