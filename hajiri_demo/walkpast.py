"""Replayed walk-past sequences: face photos approaching the camera across an office background, with truth."""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from hajiri_demo.faces import FaceImage, FaceSet, crop_face, detect_faces, load_image

log = logging.getLogger(__name__)

STRANGER_PREFIX = "stranger:"
TRUTH_FILE = "truth.csv"
SEGMENTS_FILE = "segments.csv"
Box = tuple[int, int, int, int]


class WalkPastError(RuntimeError):
    """A walk-past that cannot be built, written or read; the message says why."""


@dataclass(frozen=True)
class Passer:
    """Someone who walks past: an enrolled person's probe photo (person_id set) or a stranger's (None)."""

    person_id: str | None
    label: str
    image: FaceImage = field(repr=False)


@dataclass(frozen=True)
class Segment:
    """The frames [first_frame, last_frame] in which one passer is in view."""

    person_id: str | None
    stranger_label: str | None
    first_frame: int
    last_frame: int

    @property
    def key(self) -> str:
        """The truth string of this passer's frames: the person id, or "stranger:<label>"."""
        return self.person_id if self.person_id is not None else f"{STRANGER_PREFIX}{self.stranger_label}"


@dataclass
class WalkPast:
    """Frames (BGR 640x480 by default), per-frame truth (None when nobody is in view), passer segments and
    the expected face box (x, y, w, h) per frame; skipped lists photos in which no face could be found."""

    frames: list[np.ndarray]
    truth: list[str | None]
    segments: list[Segment]
    boxes: list[Box | None]
    skipped: list[str] = field(default_factory=list)


def plan_passers(face_set: FaceSet, seed: int = 0, per_person: int = 1, strangers: bool = True) -> list[Passer]:
    """per_person probe photos of every enrolled person plus one photo per stranger, in a seeded order."""
    rng = np.random.default_rng(seed)
    passers = []
    for person in face_set.people:
        picks = rng.permutation(len(person.probes))[:per_person]
        passers += [Passer(person.person_id, person.name, person.probes[i]) for i in picks]
    if strangers:
        for stranger in face_set.strangers:
            passers.append(Passer(None, stranger.label, stranger.probes[int(rng.integers(len(stranger.probes)))]))
    return [passers[i] for i in rng.permutation(len(passers))]


def make_background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """An office-ish backdrop without faces: a lit wall gradient, a floor, a door, a notice board, noise."""
    w, h = size
    ys = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    wall = np.float32(rng.uniform(150, 210, 3))
    img = np.broadcast_to(wall * (1.1 - 0.35 * ys), (h, w, 3)).copy()
    floor_y = int(h * rng.uniform(0.72, 0.82))
    img[floor_y:] = np.float32(rng.uniform(60, 110, 3))
    door_x = int(rng.uniform(0.05, 0.75) * w)
    cv2.rectangle(img, (door_x, int(h * 0.15)), (door_x + w // 6, floor_y), rng.uniform(70, 140, 3).tolist(), -1)
    board_x = int(rng.uniform(0.05, 0.8) * w)
    cv2.rectangle(img, (board_x, int(h * 0.2)), (board_x + w // 8, int(h * 0.38)),
                  rng.uniform(90, 240, 3).tolist(), -1)
    img += rng.normal(0, 4, img.shape).astype(np.float32)
    return np.clip(cv2.GaussianBlur(img, (0, 0), 1.5), 0, 255).astype(np.uint8)


def _head_alpha(shape: tuple[int, int], center: tuple[float, float], radii: tuple[float, float]) -> np.ndarray:
    # A feathered ellipse: the photo blends into the backdrop instead of showing a rectangle's hard edges.
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(((xx - center[0]) / radii[0]) ** 2 + ((yy - center[1]) / radii[1]) ** 2)
    return np.clip((1.0 - r) / 0.2, 0.0, 1.0)[..., None]


def _paste(frame: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend patch into frame at (x, y), clipped to the frame."""
    fh, fw = frame.shape[:2]
    ph, pw = patch.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + pw, fw), min(y + ph, fh)
    if x0 >= x1 or y0 >= y1:
        return
    sub = (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))
    a = alpha[sub]
    region = frame[y0:y1, x0:x1].astype(np.float32)
    frame[y0:y1, x0:x1] = (a * patch[sub].astype(np.float32) + (1 - a) * region).astype(np.uint8)


def feathered_paste(frame: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    """Blend a face photo into `frame` at (x, y) through a feathered ellipse. A hard-edged square is what a
    printed photo held up to the camera looks like, and liveness would rightly call it a spoof."""
    h, w = patch.shape[:2]
    _paste(frame, patch, _head_alpha((h, w), (w / 2, h / 2), (w * 0.36, h * 0.45)), x, y)


def _passer_frames(crop: np.ndarray, face: tuple[float, float, float, float], background: np.ndarray,
                   count: int, face_width: tuple[float, float],
                   rng: np.random.Generator) -> tuple[list[np.ndarray], list[Box]]:
    """count frames of one face approaching: it grows from face_width[0] to [1] while crossing the view."""
    h, w = background.shape[:2]
    fx, fy, fw, fh = face
    side = rng.choice([-1, 1])
    x_from, x_to = w / 2 + side * w * rng.uniform(0.2, 0.3), w / 2 + rng.uniform(-0.1, 0.1) * w
    y_from, y_to = h * rng.uniform(0.38, 0.48), h * rng.uniform(0.4, 0.5)
    frames, boxes = [], []
    for k in range(count):
        t = k / max(count - 1, 1)
        scale = (face_width[0] + (face_width[1] - face_width[0]) * t) / fw
        patch = cv2.resize(crop, None, fx=scale, fy=scale,
                           interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        center = ((fx + fw / 2) * scale, (fy + fh / 2) * scale)
        # Per-frame jitter: head sway, auto-exposure and motion blur of a real walk past.
        rot = cv2.getRotationMatrix2D(center, rng.uniform(-6, 6), 1.0)
        patch = cv2.warpAffine(patch, rot, (patch.shape[1], patch.shape[0]), borderMode=cv2.BORDER_REPLICATE)
        patch = cv2.convertScaleAbs(patch, alpha=rng.uniform(0.85, 1.15), beta=rng.uniform(-8, 8))
        sigma = rng.uniform(0, 1.2)
        if sigma > 0.3:
            patch = cv2.GaussianBlur(patch, (0, 0), sigma)
        alpha = _head_alpha(patch.shape[:2], center, (0.95 * fw * scale, 0.95 * fh * scale))
        cx = x_from + (x_to - x_from) * t + rng.normal(0, 2)
        cy = y_from + (y_to - y_from) * t + rng.normal(0, 2)
        frame = background.copy()
        _paste(frame, patch, alpha, int(round(cx - center[0])), int(round(cy - center[1])))
        frames.append(frame)
        boxes.append((int(round(cx - fw * scale / 2)), int(round(cy - fh * scale / 2)),
                      int(round(fw * scale)), int(round(fh * scale))))
    return frames, boxes


def _add_sensor_noise(frames: list[np.ndarray], rng: np.random.Generator, pool: int = 6) -> list[np.ndarray]:
    """Varying sensor noise on every frame (empty frames are not a frozen still), cheaply: a few noise
    fields drawn once, one added and another subtracted per frame with saturating uint8 arithmetic."""
    if not frames:
        return frames
    fields = [np.clip(np.abs(rng.normal(0, 2.0, frames[0].shape)), 0, 255).astype(np.uint8) for _ in range(pool)]
    out = []
    for frame in frames:
        a, b = rng.integers(pool, size=2)
        out.append(cv2.subtract(cv2.add(frame, fields[a]), fields[(b + (a == b)) % pool]))
    return out


def build_walkpast(passers: Sequence[Passer], seed: int = 0, size: tuple[int, int] = (640, 480),
                   frames_per_passer: tuple[int, int] = (10, 30), gap: int = 5,
                   face_width: tuple[float, float] = (80, 200)) -> WalkPast:
    """Each passer in view for 10-30 frames (seeded), then gap empty frames so a tracker closes the track.

    A photo in which YuNet finds no face is skipped (logged, listed in WalkPast.skipped): its truth could
    never be seen by the kiosk either.
    """
    if not 1 <= frames_per_passer[0] <= frames_per_passer[1]:
        raise WalkPastError(f"frames_per_passer must be 1 <= low <= high, got {frames_per_passer}")
    if gap < 1:
        raise WalkPastError(f"gap must be at least 1 empty frame between passers, got {gap}")
    rng = np.random.default_rng(seed)
    background = make_background(size, rng)
    out = WalkPast([], [], [], [])
    for passer in passers:
        image = load_image(passer.image)
        faces = detect_faces(image)
        if len(faces) == 0:
            log.warning("walk-past: no face found in a photo of %s; skipped", passer.label)
            out.skipped.append(passer.label)
            continue
        crop, face = crop_face(image, faces[0], margin=0.5)
        count = int(rng.integers(frames_per_passer[0], frames_per_passer[1] + 1))
        frames, boxes = _passer_frames(crop, face, background, count, face_width, rng)
        first = len(out.frames)
        segment = Segment(passer.person_id, None if passer.person_id else passer.label, first, first + count - 1)
        out.segments.append(segment)
        out.frames += frames
        out.boxes += boxes
        out.truth += [segment.key] * count
        out.frames += [background] * gap
        out.boxes += [None] * gap
        out.truth += [None] * gap
    out.frames = _add_sensor_noise(out.frames, rng)
    return out


def build_demo_walkpast(face_set: FaceSet, seed: int = 0, per_person: int = 1, **kwargs: Any) -> WalkPast:
    """Every enrolled person (per_person photos each) and every stranger walking past once, seeded."""
    return build_walkpast(plan_passers(face_set, seed, per_person), seed=seed, **kwargs)


def segment_for(walkpast: WalkPast, first: int, last: int) -> Segment | None:
    """The ground-truth segment a decision over frames [first, last] belongs to (largest overlap), or None."""
    best, best_overlap = None, 0
    for seg in walkpast.segments:
        overlap = min(last, seg.last_frame) - max(first, seg.first_frame) + 1
        if overlap > best_overlap:
            best, best_overlap = seg, overlap
    return best


def write_walkpast(walkpast: WalkPast, folder: Path) -> Path:
    """Frames as frame_00000.jpg..., truth.csv (frame, file, identity, box) and segments.csv into a new or
    empty folder (refuses to mix with older frames, which a folder source would replay too)."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise WalkPastError(f"{folder} is not empty; write a walk-past into a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / TRUTH_FILE, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["frame", "file", "identity", "x", "y", "w", "h"])
        for i, (frame, truth, box) in enumerate(zip(walkpast.frames, walkpast.truth, walkpast.boxes,
                                                    strict=True)):
            name = f"frame_{i:05d}.jpg"
            if not cv2.imwrite(str(folder / name), frame, [cv2.IMWRITE_JPEG_QUALITY, 92]):
                raise WalkPastError(f"cannot write {folder / name}")
            out.writerow([i, name, truth or "", *(box or ("", "", "", ""))])
    with open(folder / SEGMENTS_FILE, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["person_id", "stranger_label", "first_frame", "last_frame"])
        for s in walkpast.segments:
            out.writerow([s.person_id or "", s.stranger_label or "", s.first_frame, s.last_frame])
    return folder


def read_walkpast_truth(folder: Path) -> tuple[list[str | None], list[Segment]]:
    """The per-frame truth and segments written by write_walkpast (frame i is the i-th sorted image)."""
    folder = Path(folder)
    try:
        with open(folder / TRUTH_FILE, newline="") as f:
            truth = [row["identity"] or None for row in csv.DictReader(f)]
        with open(folder / SEGMENTS_FILE, newline="") as f:
            segments = [Segment(r["person_id"] or None, r["stranger_label"] or None,
                                int(r["first_frame"]), int(r["last_frame"])) for r in csv.DictReader(f)]
    except (OSError, KeyError, ValueError) as e:
        raise WalkPastError(f"{folder}: not a walk-past written by write_walkpast: {e}") from e
    return truth, segments
