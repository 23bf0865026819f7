"""The kiosk's config (TOML -> strict pydantic): paths, camera, detection, tracking, liveness, matching, replay."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge_models.thresholds import match_margin, match_threshold
from hajiri_common.config import load_config


class TrackSettings(BaseModel):
    """How detections become tracks and when a track has seen enough to decide."""

    model_config = ConfigDict(extra="forbid")

    iou_min: float = Field(0.2, ge=0.0, le=1.0)  # same track when boxes overlap at least this much...
    max_centre_shift: float = Field(1.0, gt=0.0, le=5.0)  # ...or centres moved < this many face widths
    max_missed: int = Field(5, ge=0, le=300)  # frames unseen before a track ends
    # A face that changes size faster than this between two sightings is someone else, not a person walking.
    max_size_ratio: float = Field(1.4, gt=1.0, le=5.0)
    # Re-seen after a gap, a face must still look like the track (cosine to its template) or it starts a new
    # track: at a door, the next person often appears exactly where the last one left the frame.
    reacquire_min_similarity: float = Field(0.4, ge=-1.0, le=1.0)
    decide_after: int = Field(5, ge=1, le=100)  # good frames before the one decision
    max_samples: int = Field(5, ge=1, le=50)  # best frames whose embeddings are averaged
    min_frontalness: float = Field(0.5, ge=0.0, le=1.0)
    min_sharpness: float = Field(10.0, ge=0.0)  # Laplacian variance of the 112x112 aligned crop


class LivenessSettings(BaseModel):
    """Presentation-attack detection per track. Disabling it is logged loudly at every kiosk start."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # Below this fused score a track is a SPOOF. None: the threshold shipped with the fusion weights
    # (edge_models/liveness_weights.json), so a refit moves it without touching site configs.
    threshold: float | None = Field(None, gt=0.0, lt=1.0)
    cue_frames: int = Field(3, ge=1, le=20)  # good frames per track that get the per-frame cues
    patches: int = Field(12, ge=2, le=60)  # planarity: first good frame vs the latest of the first `patches`


class KioskConfig(BaseModel):
    """Everything `hajiri kiosk` needs. Unknown keys are errors: a typo must not fall back to a default."""

    model_config = ConfigDict(extra="forbid")

    device_dir: Path = Path("/var/lib/hajiri/device")
    store_path: Path = Path("/var/lib/hajiri/records.db")
    gallery_path: Path = Path("/var/lib/hajiri/gallery.hjg")
    gallery_key_path: Path | None = None  # default: <gallery_path>.key
    source: str = "v4l2:0"  # folder:/path, video:/path, v4l2:N, picamera2

    detect_score_threshold: float = Field(0.8, gt=0.0, lt=1.0)
    min_face_px: int = Field(40, ge=16, le=2000)
    track: TrackSettings = TrackSettings()
    liveness: LivenessSettings = Field(default_factory=LivenessSettings)

    match_threshold: float = Field(default_factory=match_threshold, gt=0.0, lt=1.0)
    match_margin: float = Field(default_factory=match_margin, ge=0.0, lt=1.0)
    debounce_minutes: float = Field(5.0, ge=0.0, le=24 * 60)
    direction: Literal["in", "out", "toggle"] = "toggle"

    decisions_log: Path | None = None  # JSON lines, one per decision (no images)
    stats_path: Path | None = None  # stats JSON written when the kiosk stops
    max_frames: int | None = Field(None, ge=1)
    replay_fps: float | None = Field(None, gt=0.0, le=240.0)  # pace replays; None: as fast as frames come

    @model_validator(mode="after")
    def _check(self) -> "KioskConfig":
        if self.match_margin >= self.match_threshold:
            raise ValueError(f"match_margin {self.match_margin} must be below "
                             f"match_threshold {self.match_threshold}")
        if self.gallery_key_path is not None and self.gallery_key_path == self.gallery_path:
            raise ValueError("gallery_key_path must not be the gallery file itself")
        return self

    @property
    def key_path(self) -> Path:
        return self.gallery_key_path or Path(str(self.gallery_path) + ".key")


def load_kiosk_config(path: Path | None) -> KioskConfig:
    """The config file's keys over the defaults; ConfigError names every bad key."""
    return load_config(KioskConfig, path)
