"""The experimental moiré cue reacts to a screen's pixel grid on the same face, and not to the face's size."""

import cv2
import numpy as np
import pytest

from kiosk.liveness import attacks, cues
from kiosk.liveness.faces import find_face

pytestmark = pytest.mark.shared_data


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
