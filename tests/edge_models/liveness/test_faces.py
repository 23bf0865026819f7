"""find_face's `valid` leaves out black fill bars along a picture's edges, so no cue judges how a file was cut."""

import numpy as np

from edge_models.liveness.faces import picture_bounds


def test_fill_bars_are_not_picture() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(40, 255, (150, 150, 3), dtype=np.uint8)
    image[:8] = rng.integers(0, 12, (8, 150, 3), dtype=np.uint8)  # JPEG-noisy black fill along the top
    image[:, 140:] = 0
    assert picture_bounds(image) == (0, 8, 140, 150)


def test_dark_picture_and_all_fill_keep_the_whole_frame() -> None:
    dark = np.full((60, 80, 3), 5, np.uint8)
    assert picture_bounds(dark) == (0, 0, 80, 60)  # nothing but fill: nothing to trim against
    night = dark.copy()
    yy, xx = np.mgrid[:60, :80]
    night[(yy + xx) % 20 == 0] = 200  # a few bright pixels in every row and column: picture, however dark
    assert picture_bounds(night) == (0, 0, 80, 60)
