"""Each cue reacts to the attack it is meant to catch, and no cue depends on the image's size."""

import cv2
import numpy as np
import pytest

from kiosk.liveness import attacks, cues
from kiosk.liveness.faces import find_face
from kiosk.liveness.planarity import face_patch, planarity_score, planarity_stats

pytestmark = pytest.mark.shared_data


def _cues(detector, image) -> dict[str, float]:
    found = find_face(detector, image)
    assert found is not None
    return cues.frame_cues(found.image, found.face.box, found.valid)


def test_scores_are_in_range_and_size_independent(detector, lfw_faces) -> None:
    # LFW faces are ~110 px; at 3x and 3x * 0.6 they are ~330 and ~200 px, both above CANON (see texture_score
    # for faces below it). The narrow copy crops the sides off (another aspect ratio, same face).
    for image in lfw_faces[:8]:
        big = cv2.resize(image, None, fx=3.0, fy=3.0, interpolation=cv2.INTER_CUBIC)
        small = cv2.resize(big, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
        w = big.shape[1]
        narrow = big[:, int(0.15 * w): int(0.85 * w)]
        a, b, c = _cues(detector, big), _cues(detector, small), _cues(detector, narrow)
        for name in cues.CUES:
            assert 0.0 <= a[name] <= 1.0
            assert abs(a[name] - b[name]) < 0.2, (name, a[name], b[name])
            assert abs(a[name] - c[name]) < 0.2, (name, a[name], c[name])


def _median(detector, images, name) -> float:
    return float(np.median([_cues(detector, im)[name] for im in images]))


def test_colour_cue_catches_screen_replay(detector, lfw_faces) -> None:
    live = _median(detector, lfw_faces, "colour")
    replay = _median(detector, [attacks.attack_still(im, "replay", i) for i, im in enumerate(lfw_faces)], "colour")
    assert live > 0.7 and replay < live - 0.3


def test_texture_cue_catches_print(detector, lfw_faces) -> None:
    live = _median(detector, lfw_faces, "texture")
    printed = _median(detector, [cues_free(im, i) for i, im in enumerate(lfw_faces)], "texture")
    assert printed < live - 0.1


def cues_free(image: np.ndarray, seed: int) -> np.ndarray:
    """A print attack without the paper margin (only the print look): texture must catch it on its own."""
    picture = attacks.print_look(image, seed)
    return attacks.present(picture, "print", rng=seed, hand=False)


def test_border_cue_catches_a_framed_medium(detector, lfw_faces) -> None:
    live = [_cues(detector, im)["border"] for im in lfw_faces]
    framed = [_cues(detector, attacks.attack_still(im, kind, i))["border"]
              for i, im in enumerate(lfw_faces) for kind in ("print", "replay")]
    assert np.median(framed) <= 0.3 < np.median(live)


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
