"""BlazeFace through LiteRT: anchors and NMS as MediaPipe builds them, and it finds the faces YuNet finds."""

from pathlib import Path

import numpy as np
import pytest

from edge_models.blazeface import VARIANTS, Detector, five_points, iou_one_to_many, ssd_anchors, weighted_nms
from edge_models.opencv_runtime import BadFrame, Embedder, read_image
from edge_models.opencv_runtime import Detector as YuNet
from edge_models.registry import ModelError

CELEBA = Path("faces") / "celeba_dev"
LFW = Path("faces") / "lfw_dev"


def _corners(face) -> np.ndarray:
    x, y, w, h = face.box
    return np.array([x, y, x + w, y + h])


@pytest.fixture(scope="module")
def photos(shared_data: Path) -> list[np.ndarray]:
    """CelebA in-the-wild photos: faces at many sizes and poses (every 20th photo, in name order)."""
    paths = sorted((shared_data / CELEBA).glob("*/*.jpg"))[::20]
    assert len(paths) >= 30
    return [read_image(p) for p in paths]


def test_anchor_layouts_match_the_models() -> None:
    short, full = ssd_anchors(VARIANTS["short"]), ssd_anchors(VARIANTS["full"])
    assert short.shape == (896, 2) and full.shape == (2304, 2)
    # short range: 16x16 cells x 2 anchors at stride 8, then 8x8 cells x 6 anchors at stride 16
    assert np.allclose(short[0], [0.5 / 16, 0.5 / 16]) and np.allclose(short[1], short[0])
    assert np.allclose(short[512], [0.5 / 8, 0.5 / 8]) and np.allclose(short[517], short[512])
    assert np.allclose(full[1], [1.5 / 48, 0.5 / 48])


def test_weighted_nms_merges_overlaps_by_score_and_keeps_separate_faces() -> None:
    data = np.array([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [50.0, 50.0, 60.0, 60.0]])
    scores = np.array([0.9, 0.3, 0.8])
    kept = weighted_nms(data, scores, 0.3)
    assert len(kept) == 2 and kept[0][1] == pytest.approx(0.9) and kept[1][1] == pytest.approx(0.8)
    assert np.allclose(kept[0][0], [0.25, 0.25, 10.25, 10.25])  # (0.9*0 + 0.3*1) / 1.2
    assert np.allclose(kept[1][0], data[2])
    assert iou_one_to_many(data[0], data[2:]) == pytest.approx(0.0)


def test_five_points_orders_eyes_and_places_mouth_corners_along_the_eye_line() -> None:
    kp = np.array([[70.0, 50.0], [30.0, 50.0], [50.0, 65.0], [50.0, 80.0], [10.0, 55.0], [90.0, 55.0]])
    pts = five_points(kp)
    assert pts[0].tolist() == [30.0, 50.0] and pts[1].tolist() == [70.0, 50.0]  # image-left eye first
    assert pts[3][1] == pts[4][1] == 80.0 and pts[3][0] < 50.0 < pts[4][0]
    assert (pts[4][0] - pts[3][0]) / 40.0 == pytest.approx(29.18 / 35.24, abs=0.01)


def test_blank_bad_and_unknown_inputs() -> None:
    detector = Detector()
    assert detector.detect(np.full((480, 640, 3), 127, np.uint8)) == []
    with pytest.raises(BadFrame):
        detector.detect(None)
    with pytest.raises(ModelError, match="unknown BlazeFace variant"):
        Detector(variant="back")


@pytest.mark.parametrize("variant", ["full", "short"])
def test_finds_the_faces_yunet_finds(photos: list[np.ndarray], variant: str) -> None:
    yunet, blaze = YuNet(), Detector(variant=variant)
    found = total = 0
    ious, eye_errors = [], []
    for image in photos:
        theirs = blaze.detect(image)
        for face in yunet.detect(image):
            if face.size < 40:  # the kiosk's min_face_px: smaller faces are never used
                continue
            total += 1
            if not theirs:
                continue
            overlap = iou_one_to_many(_corners(face), np.stack([_corners(f) for f in theirs]))
            best = int(np.argmax(overlap))
            if overlap[best] >= 0.3:
                found += 1
                ious.append(overlap[best])
                eye_errors.append(np.linalg.norm(theirs[best].landmarks[:2] - face.landmarks[:2], axis=1).mean()
                                  / face.box[2])
    assert total >= 30
    assert found / total >= 0.9, (found, total)
    assert np.mean(ious) >= 0.6 and np.median(eye_errors) < 0.08


@pytest.mark.parametrize("variant", ["full", "short"])
def test_blazeface_points_align_faces_like_yunets(shared_data: Path, variant: str) -> None:
    """BlazeFace has no mouth corners: the fitted map (edge_models/blazeface_landmarks.json, fitted on CelebA)
    places YuNet-style points, checked here on LFW photos it never saw. The crops then embed close to YuNet's."""
    photos = [read_image(p) for p in sorted((shared_data / LFW).glob("*/*.jpg"))[::40]]
    yunet, blaze, embedder = YuNet(), Detector(variant=variant), Embedder()
    guessed = Detector(variant=variant, landmark_fit=None)
    cosines, fitted_errors, guessed_errors = [], [], []
    for image in photos:
        ours, theirs = yunet.detect(image), blaze.detect(image)
        if not ours or not theirs:
            continue
        face = max(ours, key=lambda f: f.size)
        overlap = iou_one_to_many(_corners(face), np.stack([_corners(f) for f in theirs]))
        if overlap.max() >= 0.3:
            other = theirs[int(np.argmax(overlap))]
            cosines.append(float(embedder.embed_face(image, face) @ embedder.embed_face(image, other)))
            guess = guessed.detect(image)[int(np.argmax(overlap))]
            eye_distance = float(np.linalg.norm(face.landmarks[1] - face.landmarks[0]))
            fitted_errors.append(np.linalg.norm(other.landmarks - face.landmarks, axis=1).mean() / eye_distance)
            guessed_errors.append(np.linalg.norm(guess.landmarks - face.landmarks, axis=1).mean() / eye_distance)
    assert len(cosines) >= 30
    assert np.median(fitted_errors) < np.median(guessed_errors)
    assert np.median(cosines) >= 0.9 and np.mean(np.array(cosines) >= 0.7) >= 0.95, np.round(cosines, 3)
