"""Faces across frames: IoU/centre tracker, per-frame face quality, and the one decision per track."""

import itertools
from dataclasses import dataclass, field

import cv2
import numpy as np

from edge_models.opencv_runtime import Face, normalise
from kiosk.config import TrackSettings
from kiosk.gallery import Gallery, Match


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def centre_shift(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Distance between box centres in units of the smaller box width (the stricter reading)."""
    d = np.hypot(a[0] + a[2] / 2 - b[0] - b[2] / 2, a[1] + a[3] / 2 - b[1] - b[3] / 2)
    return float(d / max(min(a[2], b[2]), 1.0))


def size_ratio(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """How much bigger the larger box is than the smaller one (>= 1)."""
    return float(max(a[2], b[2]) / max(min(a[2], b[2]), 1.0))


def frontalness(face: Face) -> float:
    """1.0 for a frontal face, towards 0 as it turns: nose tip distance to each eye should be equal."""
    right_eye, left_eye, nose = face.landmarks[0], face.landmarks[1], face.landmarks[2]
    dr, dl = float(np.linalg.norm(nose - right_eye)), float(np.linalg.norm(nose - left_eye))
    if dr + dl == 0:
        return 0.0
    return 1.0 - abs(dr - dl) / (dr + dl)


def sharpness(aligned: np.ndarray) -> float:
    """Laplacian variance of the aligned 112x112 crop: same scale for every face, so comparable across sizes."""
    grey = cv2.cvtColor(aligned, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


@dataclass(frozen=True)
class Quality:
    size: float
    sharpness: float
    frontalness: float

    @property
    def score(self) -> float:
        """Ranks a track's frames: bigger, sharper, more frontal is better (each term saturates)."""
        return min(self.size / 112.0, 1.0) * min(self.sharpness / 200.0, 1.0) * self.frontalness

    def is_good(self, settings: TrackSettings, min_face_px: int) -> bool:
        return (self.size >= min_face_px and self.sharpness >= settings.min_sharpness
                and self.frontalness >= settings.min_frontalness)


@dataclass
class Track:
    """One passer-by as the tracker sees them, with the embeddings of their best frames."""

    track_id: int
    box: tuple[float, float, float, float]
    first_frame: int
    last_frame: int
    missed: int = 0
    gap: int = 0  # frames unseen before the latest sighting: > 0 means just re-acquired
    good_frames: int = 0
    decided: bool = False
    samples: list[tuple[float, np.ndarray]] = field(default_factory=list)  # (quality score, embedding)

    def add_sample(self, quality: float, embedding: np.ndarray, keep: int) -> None:
        self.good_frames += 1
        self.samples.append((quality, embedding))
        self.samples.sort(key=lambda s: s[0], reverse=True)
        del self.samples[keep:]

    def template(self) -> np.ndarray:
        """Mean of the kept (normalised) embeddings, re-normalised."""
        return normalise(np.mean([e for _, e in self.samples], axis=0))


class Tracker:
    """Greedy association by IoU, else centre distance; a track ends after `max_missed` unseen frames."""

    def __init__(self, settings: TrackSettings) -> None:
        self.settings = settings
        self.active: list[Track] = []
        self.created = 0
        self._ids = itertools.count(1)
        self._split: list[Track] = []

    def associate(self, frame_index: int, faces: list[Face]) -> list[tuple[Track, Face]]:
        """Match this frame's faces to tracks (new tracks for the rest); returns (track, face) pairs."""
        s = self.settings
        candidates = []
        for ti, track in enumerate(self.active):
            for fi, face in enumerate(faces):
                if size_ratio(track.box, face.box) > s.max_size_ratio:
                    continue
                overlap, shift = iou(track.box, face.box), centre_shift(track.box, face.box)
                if overlap >= s.iou_min or shift <= s.max_centre_shift:
                    candidates.append((-overlap, shift, ti, fi))
        candidates.sort()
        used_t, used_f, pairs = set(), set(), []
        for _, _, ti, fi in candidates:
            if ti in used_t or fi in used_f:
                continue
            used_t.add(ti)
            used_f.add(fi)
            track, face = self.active[ti], faces[fi]
            track.gap = track.missed
            track.box, track.last_frame, track.missed = face.box, frame_index, 0
            pairs.append((track, face))
        for ti, track in enumerate(self.active):
            if ti not in used_t:
                track.missed += 1
        for fi, face in enumerate(faces):
            if fi not in used_f:
                pairs.append((self._new_track(face, frame_index), face))
        return pairs

    def _new_track(self, face: Face, frame_index: int) -> Track:
        track = Track(next(self._ids), face.box, frame_index, frame_index)
        self.created += 1
        self.active.append(track)
        return track

    def split(self, track: Track, face: Face, frame_index: int) -> Track:
        """`face` was wrongly given to `track` (someone else): end `track` as of its previous sighting and
        start a new track with `face`. The ended track comes back from the next expire()."""
        self.active.remove(track)
        track.last_frame = frame_index - track.gap - 1
        self._split.append(track)
        return self._new_track(face, frame_index)

    def expire(self) -> list[Track]:
        """Tracks unseen for more than max_missed frames (or split off): removed and returned."""
        ended = self._split + [t for t in self.active if t.missed > self.settings.max_missed]
        self._split = []
        self.active = [t for t in self.active if t.missed <= self.settings.max_missed]
        return ended

    def flush(self) -> list[Track]:
        """End every track (end of stream)."""
        ended, self.active, self._split = self._split + self.active, [], []
        return ended


@dataclass(frozen=True)
class TrackVerdict:
    """Who a track was: a gallery person, or None (unknown), with the evidence."""

    person_id: str | None
    name: str
    match: Match
    frames_used: int


def decide(track: Track, gallery: Gallery, threshold: float, margin: float) -> TrackVerdict:
    """Known only when the best person reaches `threshold` AND leads the runner-up by `margin`."""
    match = gallery.search(track.template())
    known = match.person_id is not None and match.score >= threshold and match.margin >= margin
    return TrackVerdict(match.person_id if known else None, match.name if known else "", match,
                        len(track.samples))
