"""Each cue reacts to the attack it is meant to catch, and no cue depends on the image's size (the experimental
moiré cue included: it reacts to a screen's pixel grid on the same face, and not to the face's size)."""

import cv2
import numpy as np
import pytest

from edge_models.liveness import cues
from edge_models.liveness.faces import find_face
from model_lab.liveness import attacks

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


def _moire(detector, image: np.ndarray) -> float:
    found = find_face(detector, image)
    assert found is not None
    return cues.experimental_cues(found.image, found.face.box)["moire"]


def test_moire_cue_catches_a_screen_grid_on_the_same_face(detector, live_sequence) -> None:
    # The same real camera crops, once as they are and once re-shown on a simulated phone screen (sub-pixel
    # grid, slight rotation: moiré). Only the face crop is judged, so no bezel or border can help.
    live = [_moire(detector, im) for im in live_sequence]
    screen = [_moire(detector, attacks.screen_look(im, i)) for i, im in enumerate(live_sequence)]
    assert np.median(live) > 0.8, live
    assert np.median(screen) < np.median(live) - 0.5, (live, screen)
    assert sum(s < t for s, t in zip(screen, live, strict=True)) >= 6


def test_moire_cue_does_not_depend_on_size_or_aspect(detector, live_sequence) -> None:
    # A camera sees the same face smaller from further away (area downsampling); a narrower frame crops the
    # sides. The face stays above CANON px in every copy.
    for image in live_sequence:
        w = image.shape[1]
        base = _moire(detector, image)
        smaller = _moire(detector, cv2.resize(image, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA))
        narrow = _moire(detector, image[:, int(0.1 * w): int(0.9 * w)])
        assert 0.0 <= base <= 1.0
        assert abs(base - smaller) < 0.2 and abs(base - narrow) < 0.2, (base, smaller, narrow)


def test_moire_peak_is_pure_and_sees_a_synthetic_grid() -> None:
    # A smooth random texture has no periodic peak; the same texture with a faint pixel grid has one.
    rng = np.random.default_rng(0)
    smooth = cv2.GaussianBlur(rng.normal(128, 30, (cues.CANON, cues.CANON)).astype(np.float32), (0, 0), 1.0)
    yy, xx = np.mgrid[: cues.CANON, : cues.CANON]
    grid = smooth + 8.0 * np.cos(2 * np.pi * (0.3 * xx + 0.05 * yy))
    face, gridded = (np.clip(np.dstack([a] * 3), 0, 255).astype(np.uint8) for a in (smooth, grid))
    assert cues.moire_peak(face) == cues.moire_peak(face.copy())
    assert cues.moire_peak(gridded) > cues.moire_peak(face) + 1.5
