"""Multi-frame liveness cue: does the face's texture move as one plane (a photo or screen) or with parallax?"""

from dataclasses import dataclass

import cv2
import numpy as np

from edge_models.liveness.cues import Box, square_crop

PATCH = 160  # every frame's face is resampled to this side: residuals are in patch pixels, size-independent
MIN_POINTS = 12
# Face Mesh landmarks were tried first and rejected: their jitter on a tilted photo (1-2% of the eye
# distance) is as large as a real head's parallax. Skin-texture points tracked by optical flow are ~10x
# steadier, so a plane's homography fits them to ~0.3 px while a head leaves ~1-4 px unexplained.


@dataclass(frozen=True)
class PlanarityStats:
    """How far the tracked face points moved beyond a similarity transform (any shape change at all), and
    what a homography (a plane seen in perspective) still cannot explain, both RMS in patch pixels."""

    similarity: float
    homography: float
    points: int

    @property
    def ratio(self) -> float:
        """~0.2 for a plane (a homography explains the shape change), ~0.9 for a head (parallax)."""
        return self.homography / self.similarity if self.similarity > 0 else 1.0


def face_patch(image: np.ndarray, box: Box) -> np.ndarray:
    """The grey face square (1.0 x the detector box) at PATCH x PATCH: all a track keeps of a frame."""
    crop = square_crop(image, box, 1.0, PATCH)
    return cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.sum((a - b) ** 2, axis=1))))


def track_points(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Corner points of `first` found again in `last` (forward-backward checked). Patches are face-aligned
    crops, so the motion between any two of them is small and one direct flow step suffices."""
    start = cv2.goodFeaturesToTrack(first, 120, 0.01, 6)
    if start is None or len(start) < MIN_POINTS:
        return None
    p = start.reshape(-1, 2).astype(np.float32)
    lk = {"winSize": (15, 15), "maxLevel": 2}
    q, st, _ = cv2.calcOpticalFlowPyrLK(first, last, p, None, **lk)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(last, first, q, None, **lk)
    ok = (st.ravel() == 1) & (st2.ravel() == 1) & (np.linalg.norm(back - p, axis=1) < 0.5)
    if ok.sum() < MIN_POINTS:
        return None
    return p[ok], q[ok]


def planarity_stats(patches: list[np.ndarray]) -> PlanarityStats | None:
    """Residuals of the first -> last patch motion; None with < 2 patches or too few trackable points."""
    if len(patches) < 2:
        return None
    tracked = track_points(patches[0], patches[-1])
    if tracked is None:
        return None
    p, q = tracked
    sim, _ = cv2.estimateAffinePartial2D(p, q, method=cv2.LMEDS)
    h, _ = cv2.findHomography(p, q, 0)  # least squares on purpose: parallax points are the signal, not outliers
    if sim is None or h is None:
        return None
    r_sim = _rms(p @ sim[:, :2].T + sim[:, 2], q)
    r_h = _rms(cv2.perspectiveTransform(p[None], h)[0], q)
    return PlanarityStats(r_sim, r_h, len(p))


# Below MIN_SHAPE_CHANGE px nothing changed shape enough to tell a plane from a head.
MIN_SHAPE_CHANGE = 1.0
RATIO_CENTRE, RATIO_SCALE = 0.6, 0.08


def planarity_score(patches: list[np.ndarray]) -> float:
    """Catches PRINT and a STILL PHOTO ON A SCREEN tilted or turned in front of the camera: the face's texture
    moves exactly as one homography. Neutral (0.5) when the face did not change shape (slid or scaled
    without tilting, like a person walking straight in, or a perfectly still one).
    Cannot catch a VIDEO replay (the head in the video moves in 3D) or a 3D mask."""
    stats = planarity_stats(patches)
    if stats is None:
        return 0.5
    evidence = min(1.0, stats.similarity / MIN_SHAPE_CHANGE)
    parallax = 1.0 / (1.0 + np.exp(-(stats.ratio - RATIO_CENTRE) / RATIO_SCALE))
    return float(0.5 * (1.0 - evidence) + evidence * parallax)
