"""Active liveness fallback: for a doubtful track, ask for a blink or a head turn and check it with Face Mesh.

Off by default, on per site (`[liveness.challenge]`). Only a track whose passive score lies within `band` of
the threshold is challenged; the kiosk keeps watching that track's next frames:

- blink: the eye aspect ratio (EAR, eyelid gap over eye width, both eyes averaged) must dip to at most
  (1 - blink_dip) of the track's open-eye level and come back;
- turn: the nose tip must move sideways against the eye corners by `turn_shift` eye widths. A photo or screen
  turned as a whole keeps this ratio (an affine squeeze scales the nose offset and the eye width alike), so
  turning a print does not pass; a real head turning does.

No answer within `max_frames` frames of the track, or the track leaving, fails the challenge: a SPOOF event.
"""

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

# Face Mesh indices: (outer corner, upper lid x2, inner corner, lower lid x2) of each eye, and the nose tip.
RIGHT_EYE = (33, 160, 158, 133, 153, 144)
LEFT_EYE = (362, 385, 387, 263, 373, 380)
NOSE_TIP = 1
MIN_MESH_SCORE = 0.5  # Face Mesh's own face-presence score: below it the landmarks are guesses
PROMPTS = {"blink": "Please blink", "turn": "Please turn your head a little"}


class ChallengeSettings(BaseModel):
    """The active fallback for doubtful tracks; off unless a site turns it on."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    kind: Literal["blink", "turn"] = "blink"
    band: float = Field(0.1, gt=0.0, lt=1.0)  # |passive score - threshold| below this is doubtful
    max_frames: int = Field(45, ge=5, le=600)  # frames of the track to answer in (~2 s at 25 fps)
    blink_dip: float = Field(0.35, gt=0.1, lt=0.9)  # EAR must fall by this fraction of the open-eye level
    turn_shift: float = Field(0.12, gt=0.02, lt=1.0)  # nose offset change, in eye widths


def eye_aspect_ratio(points: np.ndarray) -> float:
    """Mean EAR of both eyes from 468 Face Mesh points (about 0.25-0.3 open, under 0.15 closed)."""
    def one(idx: tuple[int, ...]) -> float:
        p = points[list(idx), :2]
        width = float(np.linalg.norm(p[0] - p[3]))
        return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2.0 * max(width, 1e-6)))
    return (one(RIGHT_EYE) + one(LEFT_EYE)) / 2.0


def nose_offset(points: np.ndarray) -> float:
    """Signed sideways offset of the nose tip from the midpoint of the outer eye corners, in eye-corner widths.
    About 0 facing the camera; grows as the head turns. Unchanged by turning a flat picture."""
    right, left, nose = points[RIGHT_EYE[0], :2], points[LEFT_EYE[3], :2], points[NOSE_TIP, :2]
    axis = left - right
    span = float(np.linalg.norm(axis))
    if span < 1e-6:
        return 0.0
    return float(np.dot(nose - (right + left) / 2.0, axis / span) / span)


@dataclass
class ChallengeSession:
    """One track's challenge: feed it each new frame's landmarks until it says passed or failed."""

    kind: str
    settings: ChallengeSettings
    frames: int = 0
    values: list[float] = field(default_factory=list)
    outcome: bool | None = None  # None while waiting

    @property
    def prompt(self) -> str:
        return PROMPTS[self.kind]

    def observe(self, points: np.ndarray | None, mesh_score: float = 1.0) -> bool | None:
        """True passed, False failed (time is up), None still waiting. `points` None: no face this frame."""
        if self.outcome is not None:
            return self.outcome
        self.frames += 1
        if points is not None and mesh_score >= MIN_MESH_SCORE:
            self.values.append(eye_aspect_ratio(points) if self.kind == "blink" else nose_offset(points))
            if self._answered():
                self.outcome = True
                return True
        if self.frames >= self.settings.max_frames:
            self.outcome = False
        return self.outcome

    def give_up(self) -> bool:
        """The track left before answering: failed."""
        if self.outcome is None:
            self.outcome = False
        return self.outcome

    def _answered(self) -> bool:
        v = np.asarray(self.values)
        if len(v) < 3:
            return False
        if self.kind == "turn":
            # Median of 3: one frame of wobbly landmarks is not a turn.
            smooth = np.array([np.median(v[i - 1:i + 2]) for i in range(1, len(v) - 1)])
            return float(smooth.max() - smooth.min()) >= self.settings.turn_shift
        # A blink: a dip well below the open level seen before it, then the eyes open again.
        open_level = float(np.median(v))
        low = int(np.argmin(v))
        closed = v[low] <= (1.0 - self.settings.blink_dip) * open_level
        reopened = low < len(v) - 1 and float(v[low + 1:].max()) >= 0.8 * open_level
        return bool(closed and reopened)


def doubtful(score: float, threshold: float, settings: ChallengeSettings) -> bool:
    """Is a passive score close enough to the threshold to ask for a challenge?"""
    return settings.enabled and abs(score - threshold) < settings.band
