"""Active challenge: eye aspect ratio and nose offset from real Face Mesh landmarks; a blink or a real head turn
passes, a printed photo turned as a whole does not; in the pipeline a doubtful print attack fails the challenge
and becomes a SPOOF, while a real head that turns passes."""

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_models.litert_runtime import FaceMesh
from edge_models.liveness.faces import find_face
from edge_models.opencv_runtime import read_image
from kiosk.config import KioskConfig
from kiosk.gallery import Gallery
from kiosk.liveness.challenge import (
    LEFT_EYE,
    RIGHT_EYE,
    ChallengeSession,
    ChallengeSettings,
    doubtful,
    eye_aspect_ratio,
    nose_offset,
)
from kiosk.pipeline import Pipeline
from model_lab.liveness import attacks

pytestmark = pytest.mark.shared_data
T0 = time.mktime((2025, 11, 25, 9, 0, 0, 0, 0, -1))
LIVE = Path("liveness") / "replay_a" / "live"


@pytest.fixture(scope="module")
def mesh() -> FaceMesh:
    return FaceMesh()


def landmarks(detector, mesh, image):
    found = find_face(detector, image)
    assert found is not None
    m = mesh.landmarks(found.image, found.face.box, found.face.landmarks[:2])
    return m.points, m.score


def closed(points: np.ndarray) -> np.ndarray:
    """The same face with both eyelids shut: upper lid points moved onto the lower lid."""
    out = points.copy()
    for eye in (RIGHT_EYE, LEFT_EYE):
        out[eye[1]], out[eye[2]] = points[eye[5]], points[eye[4]]
    return out


def test_open_eyes_and_a_blink(detector, mesh, shared_data) -> None:
    points, score = landmarks(detector, mesh, read_image(shared_data / LIVE / "0.jpg"))
    assert score > 0.9 and 0.2 < eye_aspect_ratio(points) < 0.35 and eye_aspect_ratio(closed(points)) < 0.05
    assert abs(nose_offset(points)) < 0.2
    settings = ChallengeSettings(enabled=True, max_frames=10)
    blink = ChallengeSession("blink", settings)
    assert [blink.observe(p) for p in (points, points, closed(points), closed(points))] == [None] * 4
    assert blink.observe(points) is True  # closed, then open again
    stare = ChallengeSession("blink", settings)
    assert [stare.observe(points) for _ in range(10)][-1] is False  # time is up
    shut = ChallengeSession("blink", settings)
    assert shut.observe(closed(points), mesh_score=0.1) is None and shut.values == []  # a guess is ignored
    assert ChallengeSession("turn", settings).give_up() is False
    assert doubtful(0.5, 0.55, settings) and not doubtful(0.9, 0.55, settings)
    assert not doubtful(0.5, 0.55, ChallengeSettings())  # off by default


def single_face_photos(detector, shared_data: Path, n: int) -> list[np.ndarray]:
    out = []
    for path in sorted((shared_data / "faces" / "lfw_dev").glob("*/*.jpg"))[1::97]:
        image = read_image(path)
        if len(detector.detect(image)) == 1:
            out.append(image)
        if len(out) == n:
            break
    return out


def test_turning_a_print_is_not_a_head_turn_but_a_real_head_is(detector, mesh, shared_data) -> None:
    settings = ChallengeSettings(enabled=True, kind="turn", max_frames=12)
    for i, photo in enumerate(single_face_photos(detector, shared_data, 4)):
        for kind in ("print", "replay"):
            session = ChallengeSession("turn", settings)
            for frame in attacks.attack_track(photo, kind, 12, seed=i):  # turns through ~20 degrees
                session.observe(*landmarks(detector, mesh, frame))
            assert session.outcome is False, (i, kind)
    # The live person of replay_a turning their head (frames 45-89 of the held-out sequence).
    session = ChallengeSession("turn", settings.model_copy(update={"max_frames": 45}))
    for i in range(45, 90):
        if session.observe(*landmarks(detector, mesh, read_image(shared_data / LIVE / f"{i}.jpg"))) is not None:
            break
    assert session.outcome is True


def on_hall(crop: np.ndarray) -> np.ndarray:
    frame = attacks.background((480, 640), 3)
    scale = 300 / max(crop.shape[:2])
    crop = cv2.resize(crop, (int(crop.shape[1] * scale), int(crop.shape[0] * scale)))
    frame[90:90 + crop.shape[0], 170:170 + crop.shape[1]] = crop
    return frame


def run(config: KioskConfig, frames, detector, embedder) -> tuple[Pipeline, list, list]:
    pipe, decisions, prompts = Pipeline(config, Gallery(), detector, embedder), [], []
    for i, frame in enumerate(frames):
        decisions += pipe.process(i, frame, T0 + i / 10)
        prompts.append(pipe.prompt)
    return pipe, decisions + pipe.finish(T0 + 100), prompts


def test_pipeline_challenges_doubtful_tracks(detector, embedder, shared_data) -> None:
    # A band this wide makes every track doubtful, so both are challenged whatever their passive score.
    config = KioskConfig(liveness={"challenge": {"enabled": True, "kind": "turn", "band": 0.99}})
    photo = single_face_photos(detector, shared_data, 1)[0]
    hall = attacks.background((480, 640), 3)
    attack = attacks.attack_track(photo, "print", 20, seed=2)
    _, decisions, prompts = run(config, attack + [hall] * 8, detector, embedder)
    assert [(d.event, d.liveness_cues["challenge"]) for d in decisions] == [("SPOOF", 0.0)]
    assert "Please turn your head a little" in prompts and prompts[-1] is None
    live = [on_hall(read_image(shared_data / LIVE / f"{i}.jpg")) for i in range(40, 90)]
    _, decisions, _ = run(config, live + [hall] * 8, detector, embedder)
    assert [(d.event, d.liveness_cues["challenge"]) for d in decisions] == [("UNKNOWN", 1.0)]
