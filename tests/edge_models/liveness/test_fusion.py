"""Track-level liveness: simulated print and replay tracks are rejected, real live tracks pass."""

import pytest

from edge_models.liveness.faces import find_face
from edge_models.liveness.fusion import TrackLiveness, load_fusion
from model_lab.liveness import attacks

pytestmark = pytest.mark.shared_data


def track_score(detector, frames) -> float:
    evidence = TrackLiveness()
    for frame in frames:
        found = find_face(detector, frame)
        if found is not None:
            evidence.add_frame(found.image, found.face.box, found.valid)
    return evidence.evaluate(load_fusion())[0]


def test_simulated_print_and_replay_tracks_are_rejected(detector, lfw_faces) -> None:
    fusion = load_fusion()
    for i, image in enumerate(lfw_faces[:3]):
        for kind in ("print", "replay"):
            assert track_score(detector, attacks.attack_track(image, kind, 6, seed=i)) < fusion.threshold, kind


def test_real_live_track_passes(detector, live_sequence) -> None:
    assert track_score(detector, live_sequence) >= load_fusion().threshold
