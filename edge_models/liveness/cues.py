"""Passive per-frame liveness cues on a face: each is a score in [0, 1] (1 = live) independent of image size."""

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

Box = tuple[float, float, float, float]

CANON = 128  # every face crop is resampled to this side first: no cue may depend on the input's size
CONTEXT = 3.0  # the border cue looks at a square this many face widths around the face
CONTEXT_CANON = 192


def squash(x: float, centre: float, scale: float) -> float:
    """Logistic map of a raw statistic to (0, 1): 0.5 at `centre`, rising with x when scale > 0."""
    return float(1.0 / (1.0 + np.exp(-(x - centre) / scale)))


def square_crop(image: np.ndarray, box: Box, factor: float, side: int) -> np.ndarray:
    """A square of `factor` x the face's larger side around its centre, resampled to side x side.

    Out-of-frame parts are replicated edge pixels (no artificial straight border is introduced)."""
    x, y, w, h = box
    half = max(w, h) * factor / 2.0
    cx, cy = x + w / 2.0, y + h / 2.0
    x0, y0, n = int(round(cx - half)), int(round(cy - half)), max(2, int(round(2 * half)))
    ih, iw = image.shape[:2]
    pad = max(0, -x0, -y0, x0 + n - iw, y0 + n - ih)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = image[y0 + pad: y0 + pad + n, x0 + pad: x0 + pad + n]
    # Area averaging down (as a camera sensor integrates), linear up: a small input cannot invent detail.
    interp = cv2.INTER_AREA if n > side else cv2.INTER_LINEAR
    return cv2.resize(crop, (side, side), interpolation=interp)


def face_canon(image: np.ndarray, box: Box) -> np.ndarray:
    """The inner face (0.9 x the detector box, cheeks to brows) at CANON x CANON, BGR."""
    return square_crop(image, box, 0.9, CANON)


def _grey(face: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(face, cv2.COLOR_BGR2GRAY).astype(np.float32) if face.ndim == 3 else face.astype(np.float32)


MOIRE_BAND = (0.12, 0.48)  # cycles per CANON pixel: above skin's coarse structure, below Nyquist
MOIRE_TOP = 8  # strongest bins averaged (4 peaks: the spectrum of a real image is point-symmetric)


@cache
def _rings(n: int) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """For an n x n centred spectrum: each bin's ring (rounded radius), the flat indices of each ring, and the
    mask of the moiré band without the two axes (JPEG's 8x8 blocks and the crop's own edges put energy there)."""
    yy, xx = np.mgrid[:n, :n]
    r = np.hypot(yy - n // 2, xx - n // 2)
    ring = np.rint(r).astype(np.int32).ravel()
    members = [np.flatnonzero(ring == i) for i in range(ring.max() + 1)]
    band = (r / n > MOIRE_BAND[0]) & (r / n < MOIRE_BAND[1])
    band &= (np.abs(yy - n // 2) > 1) & (np.abs(xx - n // 2) > 1)
    return ring, members, band.ravel()


def moire_peak(face: np.ndarray) -> float:
    """Peakiness of the fine-texture spectrum of a CANON face crop: log of the mean of its MOIRE_TOP strongest
    bins in the band, each relative to the median of its own frequency ring.

    Skin's spectrum falls smoothly with frequency, so every bin is near its ring's median (~2.5-3 here); a
    periodic pattern (screen pixel grid, its moiré, print halftone) puts isolated peaks far above it. Taking
    the ratio per ring makes it independent of the overall spectral slope (focus, JPEG); the crop has a fixed
    size, so frequencies are in face units and the figure does not depend on the input's size."""
    g = _grey(face)
    g = g - cv2.GaussianBlur(g, (0, 0), 2.0)  # keep the fine texture only
    g /= float(g.std()) + 1e-3
    n = g.shape[0]
    win = np.outer(np.hanning(n), np.hanning(n)).astype(np.float32)
    power = (np.abs(np.fft.fftshift(np.fft.fft2(g * win))) ** 2).ravel()
    ring, members, band = _rings(n)
    medians = np.array([np.median(power[m]) for m in members])
    ratio = power[band] / (medians[ring[band]] + 1e-9)
    top = np.partition(ratio, ratio.size - MOIRE_TOP)[-MOIRE_TOP:]
    return float(np.log(np.mean(top)))


def moire_score(face: np.ndarray) -> float:
    """EXPERIMENTAL (measured, not fused: see EXPERIMENTAL). Meant to catch REPLAY (screen pixel grid, moiré)
    and PRINT halftone through moire_peak.

    What it does: on the simulator's attacks it separates well (median peak 4.2 print, 4.5 replay vs 3.1 on
    live CelebA). On the one real replay set (replay_a) it does not: 2.6 on the phone replays vs 2.7 live, the
    phone's pixel grid is far finer than this camera resolves at face distance and leaves no periodic trace.
    Fused (model_lab/liveness_experiments.py) it made the held-out replay_a APCER worse (11.0% -> 13.2%)."""
    return 1.0 - squash(moire_peak(face), 4.0, 0.3)


@dataclass(frozen=True)
class ColourStats:
    saturation: float  # mean HSV saturation of the face, 0..1
    cast: float  # distance of the mean chroma from the skin locus (Lab a*, b*), in Lab units
    highlights: float  # fraction of clipped (specular / glare) pixels
    contrast: float  # 5-95 percentile spread of luminance, 0..1


def colour_stats(face: np.ndarray) -> ColourStats:
    face = cv2.resize(face, (CANON // 2, CANON // 2), interpolation=cv2.INTER_AREA)  # colour needs no detail
    hsv = cv2.cvtColor(face, cv2.COLOR_BGR2HSV).astype(np.float32)
    lab = cv2.cvtColor(face, cv2.COLOR_BGR2LAB).astype(np.float32)
    a, b = lab[..., 1] - 128.0, lab[..., 2] - 128.0
    # Skin (any tone) sits near a* ~ 14, b* ~ 18 in OpenCV's 8-bit Lab; screens pull it blue, prints grey.
    cast = float(np.hypot(np.mean(a) - 14.0, np.mean(b) - 18.0))
    lum = lab[..., 0] / 255.0
    lo, hi = np.percentile(lum, [5, 95])
    return ColourStats(float(np.mean(hsv[..., 1]) / 255.0), cast, float(np.mean(lum > 0.97)), float(hi - lo))


def colour_score(face: np.ndarray) -> float:
    """Catches REPLAY (screen gamma and blue/red cast, glare) and PRINT (washed-out gamut, low contrast,
    dull colour): a recaptured face loses contrast and saturation and drifts off the skin-colour locus."""
    s = colour_stats(face)
    off_locus = squash(s.cast, 17.0, 2.5)
    flat = max(1.0 - squash(s.contrast, 0.4, 0.05), 1.0 - squash(s.saturation, 0.2, 0.03))
    glare = squash(s.highlights, 0.08, 0.02)
    return float(1.0 - max(off_locus, flat, glare))


def texture_score(face: np.ndarray, source_px: float = CANON) -> float:
    """Catches PRINT (paper, ink bleed) and REPLAY (screen blur, recapture softness): a recaptured face has
    less fine detail relative to its coarse structure than skin seen directly.

    Statistic: log of fine (Laplacian at CANON) over coarse (gradient at CANON/4) energy. A face smaller than
    CANON px had to be upsampled, which removes fine detail whatever the medium: the cue then abstains
    (towards 0.5, fully at CANON/2 px and below) instead of calling every distant face a print."""
    g = _grey(face)
    fine = float(np.mean(np.abs(cv2.Laplacian(g, cv2.CV_32F, ksize=1))))
    small = cv2.resize(g, (CANON // 4, CANON // 4), interpolation=cv2.INTER_AREA)
    gx, gy = cv2.Sobel(small, cv2.CV_32F, 1, 0), cv2.Sobel(small, cv2.CV_32F, 0, 1)
    coarse = float(np.mean(np.hypot(gx, gy))) + 1e-3
    score = squash(float(np.log(fine / coarse + 1e-6)), -3.3, 0.2)
    trust = float(np.clip((source_px - CANON / 2) / (CANON / 2), 0.0, 1.0))
    return trust * score + (1.0 - trust) * 0.5


def context_canon(image: np.ndarray, box: Box,
                  valid: tuple[int, int, int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The face's surroundings (CONTEXT x face size) at CONTEXT_CANON, and a mask of the pixels that come from
    the picture: inside the frame, or inside `valid` (x0, y0, x1, y1) when part of the image is a margin."""
    ctx = square_crop(image, box, CONTEXT, CONTEXT_CANON)
    # Where the frame's own edges land in the resampled square (the rest is replicated padding).
    x, y, w, h = box
    half = max(w, h) * CONTEXT / 2.0
    scale = CONTEXT_CANON / (2.0 * half)
    x0, y0 = x + w / 2.0 - half, y + h / 2.0 - half
    vx0, vy0, vx1, vy1 = valid if valid is not None else (0, 0, image.shape[1], image.shape[0])
    cols = (np.arange(CONTEXT_CANON) + 0.5) / scale + x0
    rows = (np.arange(CONTEXT_CANON) + 0.5) / scale + y0
    margin = 3.5 / scale  # stay off the picture's edge itself (3-4 px in the square)
    inside_x = (cols > vx0 + margin) & (cols < vx1 - margin)
    inside_y = (rows > vy0 + margin) & (rows < vy1 - margin)
    return ctx, inside_y[:, None] & inside_x[None, :]


def side_strengths(context: np.ndarray, inside: np.ndarray) -> dict[str, float]:
    """Per side of the face (left, right, top, bottom): total length of straight edges parallel to that side
    and beside the face, in face sizes, capped at 1 (a full frame edge)."""
    g = cv2.cvtColor(context, cv2.COLOR_BGR2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(g, (5, 5), 1.2), 40, 120)
    edges[~inside] = 0  # the frame's own edge (or replicated padding) is not a bezel
    n = context.shape[0]
    face = n / CONTEXT
    face_half = face / 2.0
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=int(0.3 * face), minLineLength=0.5 * face,
                            maxLineGap=4)
    length = dict.fromkeys(("left", "right", "top", "bottom"), 0.0)
    c = n / 2.0
    for x1, y1, x2, y2 in (lines.reshape(-1, 4) if lines is not None else []):
        mx, my = (x1 + x2) / 2.0 - c, (y1 + y2) / 2.0 - c
        angle = abs(np.degrees(np.arctan2(y2 - y1, x2 - x1))) % 180
        seg = float(np.hypot(x2 - x1, y2 - y1)) / face
        # A frame edge lies outside the face (beyond its half-size), beside it, not through it.
        if abs(angle - 90) < 25 and abs(mx) > 1.05 * face_half and abs(my) < 2.0 * face_half:
            length["right" if mx > 0 else "left"] += seg
        elif (angle < 25 or angle > 155) and abs(my) > 1.05 * face_half and abs(mx) < 2.0 * face_half:
            length["bottom" if my > 0 else "top"] += seg
    # 0 below half a face size of edge, 1 from one and a half: a short stray edge counts for nothing.
    return {k: float(np.clip(v - 0.5, 0.0, 1.0)) for k, v in length.items()}


def frame_sides(context: np.ndarray, inside: np.ndarray) -> float:
    """How many sides of the face are framed by straight edges (0..4, fractional for partial edges)."""
    return float(sum(side_strengths(context, inside).values()))


def border_score(context: np.ndarray, inside: np.ndarray) -> float:
    """Catches PRINT (paper edge, a hand-held sheet) and REPLAY (phone/tablet bezel): long straight edges
    framing the face on two or more sides. One straight edge (a door frame, a wall) counts little."""
    return float(1.0 - squash(frame_sides(context, inside), 1.6, 0.3))


CUES = ("colour", "texture", "border")
# Measured by the eval CLI but not fused (and not computed on the kiosk): they did not improve the held-out
# figures (README, Liveness).
EXPERIMENTAL = ("moire",)


def frame_cues(image: np.ndarray, box: Box, valid: tuple[int, int, int, int] | None = None) -> dict[str, float]:
    """All per-frame cue scores for the face in `box` of a BGR frame (`valid`: see context_canon)."""
    face = face_canon(image, box)
    ctx, inside = context_canon(image, box, valid)
    source_px = 0.9 * max(box[2], box[3])  # the face's own resolution, before resampling to CANON
    return {"colour": colour_score(face), "texture": texture_score(face, source_px),
            "border": border_score(ctx, inside)}


def experimental_cues(image: np.ndarray, box: Box) -> dict[str, float]:
    """The EXPERIMENTAL cue scores for the face in `box` (for measurement only; the kiosk does not run them)."""
    return {"moire": moire_score(face_canon(image, box))}
