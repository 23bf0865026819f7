"""One liveness score per track: a logistic fusion of the cue scores with fitted, checked weights."""

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from edge_models.liveness.cues import CUES, Box, frame_cues
from edge_models.liveness.planarity import face_patch, planarity_score

WEIGHTS_PATH = Path(__file__).resolve().parents[1] / "liveness_weights.json"
# The fitted file the kiosk was tested with (model_lab/fit_liveness.py prints it); any other file is refused.
WEIGHTS_SHA256 = "717d37087c6835fc638039bd2c989268c19de65622adda043ab260d1e75fbcac"
# Planarity is not fitted (the image sets have no tracks): a fixed, explainable weight, equal to the
# strongest fitted cue's, so a clearly planar track alone pulls the score below the threshold.
PLANARITY_WEIGHT = 2.0
EPS = 1e-3


class LivenessError(RuntimeError):
    """The fusion weights are missing or are not the file the kiosk was tested with."""


def logit(p: float) -> float:
    p = min(max(p, EPS), 1.0 - EPS)
    return float(np.log(p / (1.0 - p)))


@dataclass(frozen=True)
class Fusion:
    bias: float
    weights: dict[str, float]
    threshold: float

    def score(self, cues: dict[str, float], planarity: float | None = None) -> float:
        """Fused liveness in [0, 1] from per-frame cue scores (and a track's planarity score, if any)."""
        z = self.bias + sum(self.weights[c] * logit(cues[c]) for c in CUES)
        if planarity is not None:
            z += PLANARITY_WEIGHT * logit(planarity)
        return float(1.0 / (1.0 + np.exp(-z)))


def parse_weights(data: dict) -> Fusion:
    try:
        return Fusion(float(data["bias"]), {c: float(data["weights"][c]) for c in CUES}, float(data["threshold"]))
    except (KeyError, TypeError, ValueError) as e:
        raise LivenessError(f"liveness weights: bad or missing field ({e})") from e


@cache
def load_fusion(path: Path = WEIGHTS_PATH, sha256: str | None = WEIGHTS_SHA256) -> Fusion:
    """The shipped fusion (sha256-checked). Pass sha256=None only for a file you are fitting right now."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise LivenessError(f"liveness weights {path}: cannot read: {e.strerror or e}") from e
    digest = hashlib.sha256(raw).hexdigest()
    if sha256 is not None and digest != sha256:
        raise LivenessError(f"liveness weights {path} have sha256 {digest}, expected {sha256}: "
                            "refit with model_lab/fit_liveness.py and update WEIGHTS_SHA256")
    return parse_weights(json.loads(raw))


def mean_cues(frames: list[dict[str, float]]) -> dict[str, float]:
    """Average per-frame cue scores in the logit domain (one odd frame does not swing the track)."""
    return {c: float(1.0 / (1.0 + np.exp(-np.mean([logit(f[c]) for f in frames])))) for c in CUES}


@dataclass
class TrackLiveness:
    """What a track keeps for its liveness decision: a few frames' cue scores and two small grey face patches
    (in memory only, dropped when the track decides; no image is stored)."""

    max_cue_frames: int = 3
    max_patches: int = 12
    cue_frames: list[dict[str, float]] = field(default_factory=list)
    patches: list = field(default_factory=list)

    seen: int = 0

    def add_frame(self, image: np.ndarray, box: Box, valid: tuple[int, int, int, int] | None = None) -> None:
        if len(self.cue_frames) < self.max_cue_frames:
            self.cue_frames.append(frame_cues(image, box, valid))
        # Planarity compares the first patch with the latest one (up to max_patches good frames in): only
        # those two are kept.
        if self.seen < self.max_patches:
            patch = face_patch(image, box)
            self.patches = [self.patches[0], patch] if self.patches else [patch]
        self.seen += 1

    def evaluate(self, fusion: Fusion) -> tuple[float, dict[str, float]]:
        """(fused liveness score, per-cue scores incl. planarity) for this track."""
        if not self.cue_frames:
            return 0.5, {}
        cues = mean_cues(self.cue_frames)
        planar = planarity_score(self.patches)
        return fusion.score(cues, planar), {**cues, "planarity": planar}
