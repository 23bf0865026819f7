"""The kiosk's config (TOML -> strict pydantic): paths, camera, detection, tracking, liveness, matching, replay."""

import json
import logging
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge_models.runtimes import DETECTORS, RECOGNISER_RUNTIMES
from edge_models.thresholds import match_margin, match_threshold
from hajiri_common.config import load_config
from hajiri_wire.site_config import MatchMargin, MatchThreshold, SiteLivenessSettings, SiteSettings
from kiosk.liveness.challenge import ChallengeSettings

log = logging.getLogger(__name__)


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


class LivenessSettings(SiteLivenessSettings):
    """Presentation-attack detection per track. Disabling it is logged loudly at every kiosk start.
    `threshold` (a site may set it) and its bounds are the wire's (hajiri_wire.site_config)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    cue_frames: int = Field(3, ge=1, le=20)  # good frames per track that get the per-frame cues
    patches: int = Field(12, ge=2, le=60)  # planarity: first good frame vs the latest of the first `patches`
    # Ask a doubtful track to blink or turn (kiosk/liveness/challenge.py); off unless a site turns it on.
    challenge: ChallengeSettings = Field(default_factory=ChallengeSettings)


class EvidenceSettings(BaseModel):
    """Face crops kept as evidence (kiosk/evidence.py): which decisions, how small, how long, sent to whom."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["spoof", "off", "spoof_and_unknown"] = "spoof"
    dir: Path | None = None  # default: an `evidence` folder beside store_path
    key_path: Path | None = None  # AES-256 key (hex, 0600); default: <dir>/evidence.key
    max_px: int = Field(160, ge=48, le=160)  # longest side of the kept crop
    jpeg_quality: int = Field(80, ge=30, le=95)
    max_age_days: float = Field(30.0, gt=0.0, le=365.0)
    max_count: int = Field(500, ge=1, le=100_000)
    max_bytes: int = Field(20 * 1024 * 1024, ge=64 * 1024, le=1024 * 1024 * 1024)
    # The server's evidence public key (base64 X25519, GET /api/v1/evidence/server-key); None: crops stay here.
    server_public_key: str | None = Field(None, min_length=40, max_length=64)


class ModelSettings(BaseModel):
    """Which face detector and which SFace runtime the kiosk runs (edge_models/runtimes.py). Defaults chosen by
    measurement (README, Recognition): LiteRT gives OpenCV's embeddings (cosine >= 0.99) in about 0.6x the
    embed time; YuNet found every face it was shown, BlazeFace is faster but missed LFW photos and passers."""

    model_config = ConfigDict(extra="forbid")

    detector: Literal[DETECTORS] = "yunet"
    recogniser_runtime: Literal[RECOGNISER_RUNTIMES] = "litert"  # needs `python -m model_lab.convert_sface`
    # BlazeFace scores run lower than YuNet's (detect_score_threshold): at 0.8 it lost 1 of 5 walk-past passers.
    blazeface_score_threshold: float = Field(0.5, gt=0.0, lt=1.0)


class KioskConfig(SiteSettings):
    """Everything `hajiri kiosk` needs. Unknown keys are errors: a typo must not fall back to a default.
    The settings a site's server may send down (match threshold and margin, debounce, direction, liveness
    threshold) and their bounds are the wire's (hajiri_wire.site_config.SiteSettings): both sides check them."""

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
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)

    match_threshold: MatchThreshold = Field(default_factory=match_threshold)
    match_margin: MatchMargin = Field(default_factory=match_margin)

    # Seconds between checks of gallery_path for a new gallery (written by the sync agent); 0: never reload.
    gallery_reload_s: float = Field(2.0, ge=0.0, le=3600.0)
    # The server's signed site settings as the sync agent applied them (its downlink.state_dir); they override
    # this file's thresholds at kiosk start. None: not used.
    site_config_path: Path | None = None

    decisions_log: Path | None = None  # JSON lines, one per decision (no images)
    stats_path: Path | None = None  # stats JSON written when the kiosk stops
    max_frames: int | None = Field(None, ge=1)
    replay_fps: float | None = Field(None, gt=0.0, le=240.0)  # pace replays; None: as fast as frames come

    @model_validator(mode="after")
    def _check(self) -> "KioskConfig":
        if self.gallery_key_path is not None and self.gallery_key_path == self.gallery_path:
            raise ValueError("gallery_key_path must not be the gallery file itself")
        return self

    @property
    def detector_score_threshold(self) -> float:
        """The face score threshold on the chosen detector's own scale."""
        return self.detect_score_threshold if self.models.detector == "yunet" else self.models.blazeface_score_threshold

    @property
    def key_path(self) -> Path:
        return self.gallery_key_path or Path(str(self.gallery_path) + ".key")


def with_site_config(config: KioskConfig) -> KioskConfig:
    """`config` with the server's site settings (site_config_path) on top; unchanged when there are none.

    The sync agent wrote the file only after verifying the server's signature and these same bounds; a file
    that no longer validates is logged and ignored, so a bad update never stops the kiosk.
    """
    path = config.site_config_path
    if path is None or not path.exists():
        return config
    try:
        overrides = json.loads(path.read_text())["kiosk_overrides"]
        merged = config.model_dump()
        for key, value in overrides.items():
            merged[key] = {**merged[key], **value} if isinstance(value, dict) else value
        return KioskConfig.model_validate(merged)
    except (OSError, ValueError, KeyError, TypeError) as e:  # pydantic's ValidationError is a ValueError
        log.error("site config %s ignored, keeping the local settings: %s", path, e)
        return config


def load_kiosk_config(path: Path | None) -> KioskConfig:
    """The config file's keys over the defaults; ConfigError names every bad key."""
    return load_config(KioskConfig, path)
