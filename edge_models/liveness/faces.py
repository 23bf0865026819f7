"""Find the face to judge in a frame or in a tight face crop (a crop gets a margin so the detector sees it)."""

from dataclasses import dataclass

import cv2
import numpy as np

from edge_models.opencv_runtime import Detector, Face

CROP_SIDE = 240  # a tight crop is resized to this longest side and given a 50% margin before detecting
FILL_LEVEL = 16  # a pixel at or below this (every channel) is black fill, JPEG ringing included
FILL_SHARE = 0.01  # a row or column with fewer brighter pixels than this share is a fill bar, not picture


def largest_face(faces: list[Face]) -> Face | None:
    return max(faces, key=lambda f: f.size) if faces else None


def picture_bounds(image: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of `image` without the black fill bars along its edges (letterboxing, or what an
    aligned crop leaves where the photo did not reach). A bar's inner edge is a straight edge of the file, not
    of the scene: left in, the border cue would judge a photo by how its file was cut."""
    g = image.max(axis=2) if image.ndim == 3 else image
    bright = g > FILL_LEVEL
    rows = np.flatnonzero(bright.mean(axis=1) >= FILL_SHARE)
    cols = np.flatnonzero(bright.mean(axis=0) >= FILL_SHARE)
    if rows.size == 0 or cols.size == 0:  # all fill: nothing to trim against
        return (0, 0, image.shape[1], image.shape[0])
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


@dataclass(frozen=True)
class Found:
    """The face to judge: `image` its box refers to, and `valid` (x0, y0, x1, y1), the part of `image` that
    is real picture (not a margin added for the detector, nor black fill bars: see picture_bounds)."""

    image: np.ndarray
    face: Face
    valid: tuple[int, int, int, int]


def find_face(detector: Detector, image: np.ndarray) -> Found | None:
    """The largest face, or None when no face is found.

    A whole frame is used as it is. YuNet misses a face that fills the whole image, so a crop with no
    detection is retried downscaled and framed by a replicated margin; cues then run on that framed copy
    and ignore the margin."""
    face = largest_face(detector.detect(image))
    if face is not None:
        return Found(image, face, picture_bounds(image))
    h, w = image.shape[:2]
    s = min(1.0, CROP_SIDE / max(h, w))
    small = cv2.resize(image, (max(2, round(w * s)), max(2, round(h * s))), interpolation=cv2.INTER_AREA)
    pad = CROP_SIDE // 2
    framed = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    face = largest_face(detector.detect(framed))
    if face is None:
        return None
    x0, y0, x1, y1 = picture_bounds(small)
    return Found(framed, face, (pad + x0, pad + y0, pad + x1, pad + y1))
