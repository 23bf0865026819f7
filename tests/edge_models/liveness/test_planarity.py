"""Track planarity: a photo tilted in front of the camera moves as one plane, a real head does not."""

import pytest

from edge_models.liveness.faces import find_face
from edge_models.liveness.planarity import face_patch, planarity_score, planarity_stats
from model_lab.liveness import attacks

pytestmark = pytest.mark.shared_data


def test_planarity_separates_a_tilted_photo_from_a_head(detector, lfw_faces, live_sequence) -> None:
    def patches(frames):
        return [face_patch(f.image, f.face.box) for f in (find_face(detector, frame) for frame in frames)]

    live = planarity_stats(patches(live_sequence))
    printed = [planarity_stats(patches(attacks.attack_track(im, "print", 6, seed=i)))
               for i, im in enumerate(lfw_faces[:4])]
    assert live is not None and live.ratio > 0.7
    assert all(p is not None and p.ratio < 0.45 for p in printed)
    # No shape change at all (the same frame twice) tells nothing: neutral.
    still = patches(live_sequence[:1] * 3)
    assert planarity_score(still) == pytest.approx(0.5, abs=0.05)
