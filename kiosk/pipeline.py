"""Frames in, attendance decisions out: detect, track, embed the best frames, match once per track, debounce."""

import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from edge_models.liveness.fusion import TrackLiveness, load_fusion
from edge_models.opencv_runtime import BadFrame, Detector, Embedder, check_frame
from kiosk.config import KioskConfig
from kiosk.evidence import CropKeeper, keeps
from kiosk.gallery import Gallery
from kiosk.liveness.challenge import ChallengeSession, doubtful
from kiosk.tracking import Quality, Track, Tracker, decide, frontalness, sharpness

log = logging.getLogger(__name__)

STAGES = ("detect", "align", "embed", "match", "liveness")  # liveness: total ms per decided track
OPTIONAL_STAGES = ("liveness",)  # left out of summaries until it has a sample (off, or nothing decided yet)


@dataclass(frozen=True)
class Decision:
    """One attendance decision about one track."""

    track_id: int
    person_id: str | None
    name: str
    event: str  # "IN" | "OUT" | "UNKNOWN" | "SPOOF"
    match_score: float
    first_frame: int
    last_frame: int
    frames_used: int
    t: float  # frame time of the decision
    liveness_score: float | None = None  # None when liveness is disabled
    liveness_cues: dict[str, float] = field(default_factory=dict)
    # The track's best small face crop, only for events the evidence config keeps (kiosk/evidence.py).
    evidence_crop: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        return {"track_id": self.track_id, "person_id": self.person_id, "name": self.name, "event": self.event,
                "match_score": round(self.match_score, 4), "first_frame": self.first_frame,
                "last_frame": self.last_frame, "frames_used": self.frames_used, "t": self.t,
                "liveness_score": None if self.liveness_score is None else round(self.liveness_score, 4),
                "liveness_cues": {k: round(v, 3) for k, v in self.liveness_cues.items()}}


class StageStats:
    """Per-stage timings in ms (bounded: the last `keep` samples) for benchmarks and the stats file."""

    def __init__(self, keep: int = 4096) -> None:
        self.samples: dict[str, deque[float]] = {s: deque(maxlen=keep) for s in STAGES}
        self.totals: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self.counts: dict[str, int] = dict.fromkeys(STAGES, 0)

    def add(self, stage: str, ms: float) -> None:
        self.samples[stage].append(ms)
        self.totals[stage] += ms
        self.counts[stage] += 1

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for stage in STAGES:
            if stage in OPTIONAL_STAGES and not self.counts[stage]:
                continue
            s = np.array(self.samples[stage]) if self.samples[stage] else np.zeros(1)
            out[stage] = {"count": self.counts[stage],
                          "mean_ms": round(self.totals[stage] / max(self.counts[stage], 1), 3),
                          "p50_ms": round(float(np.percentile(s, 50)), 3),
                          "p95_ms": round(float(np.percentile(s, 95)), 3)}
        return out


@dataclass
class PipelineCounters:
    frames: int = 0
    bad_frames: int = 0
    faces_detected: int = 0
    tracks: int = 0
    debounced: int = 0
    decisions: Counter = field(default_factory=Counter)  # by event
    liveness: str = "on"  # "on" | "DISABLED": in the stats file, so a site without liveness is visible

    def to_dict(self) -> dict:
        return {"frames": self.frames, "bad_frames": self.bad_frames, "faces_detected": self.faces_detected,
                "tracks": self.tracks, "debounced": self.debounced, "decisions": dict(self.decisions),
                "liveness": self.liveness}


class _Timer:
    def __init__(self, stats: StageStats, stage: str) -> None:
        self.stats, self.stage = stats, stage

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.stats.add(self.stage, (time.perf_counter() - self.start) * 1000.0)


class Pipeline:
    """Stateful per kiosk: feed frames in order with `process`, call `finish` at end of stream."""

    def __init__(self, config: KioskConfig, gallery: Gallery, detector: Detector, embedder: Embedder) -> None:
        self.config = config
        self.gallery = gallery
        self.detector = detector
        self.embedder = embedder
        self.tracker = Tracker(config.track)
        self.counters = PipelineCounters()
        self.stats = StageStats()
        self._last_emitted: dict[str, float] = {}  # person_id -> frame time of their last decision
        self._day_events: dict[str, tuple[date, int]] = {}  # person_id -> (day, decisions that day)
        self.fusion = load_fusion() if config.liveness.enabled else None
        self.liveness_threshold = (config.liveness.threshold if config.liveness.threshold is not None
                                   else self.fusion.threshold if self.fusion is not None else None)
        self._liveness: dict[int, TrackLiveness] = {}  # track_id -> evidence, dropped when the track ends
        self._liveness_ms: dict[int, float] = {}  # track_id -> liveness work so far (the per-track cost)
        self.crops = CropKeeper(config.evidence.max_px) if config.evidence.mode != "off" else None
        # Doubtful tracks asked to blink or turn: track_id -> (session, verdict, liveness, cues) until answered.
        self._challenges: dict[int, tuple] = {}
        self._mesh = None  # Face Mesh, loaded at the first challenge
        self.prompt: str | None = None  # what the screen should ask now (None: nothing)
        if self.fusion is None:
            self.counters.liveness = "DISABLED"
            log.warning("LIVENESS DISABLED by config (liveness.enabled = false): a printed photo or a phone "
                        "screen held up to this kiosk will be accepted as the person")

    def process(self, frame_index: int, image: object, t: float) -> list[Decision]:
        """Decisions made on this frame (usually none). A bad frame is counted and skipped."""
        self.counters.frames += 1
        try:
            image = check_frame(image)
            with _Timer(self.stats, "detect"):
                faces = self.detector.detect(image)
        except BadFrame as e:
            self.counters.bad_frames += 1
            log.warning("frame %d skipped: %s", frame_index, e)
            return []
        self.counters.faces_detected += len(faces)
        faces = [f for f in faces if f.size >= self.config.min_face_px / 2]  # too small even to track
        decisions = []
        pairs = self.tracker.associate(frame_index, faces)
        self.counters.tracks = self.tracker.created
        for track, face in pairs:
            if track.gap > 0 and track.samples and not self._same_person(track, image, face):
                log.info("track %d: face re-seen after %d frames looks like someone else; new track",
                         track.track_id, track.gap)
                track = self.tracker.split(track, face, frame_index)
                self.counters.tracks = self.tracker.created
            if track.decided:
                if track.track_id in self._challenges:
                    decisions += self._challenge_step(track, image, face, t)
                continue
            self._sample(track, image, face)
            if track.good_frames >= self.config.track.decide_after:
                decisions += self._decide(track, t)
        for track in self.tracker.expire():
            if not track.decided and track.samples:
                decisions += self._decide(track, t)
            decisions += self._end_challenge(track, t)
            self._drop_liveness(track)
        return decisions

    def finish(self, t: float) -> list[Decision]:
        """End of stream: decide every open track that has at least one good frame."""
        decisions = []
        for track in self.tracker.flush():
            if not track.decided and track.samples:
                decisions += self._decide(track, t)
            decisions += self._end_challenge(track, t)
            self._drop_liveness(track)
        return decisions

    def _drop_liveness(self, track: Track) -> None:
        self._liveness.pop(track.track_id, None)
        self._liveness_ms.pop(track.track_id, None)
        if self.crops is not None:
            self.crops.drop(track.track_id)

    def _same_person(self, track: Track, image: np.ndarray, face) -> bool:
        """Does a face re-acquired after a gap still look like the track? (One extra embedding per gap.)"""
        with _Timer(self.stats, "align"):
            aligned = self.embedder.align(image, face)
        with _Timer(self.stats, "embed"):
            embedding = self.embedder.embed(aligned)
        similarity = float(track.template() @ embedding)
        log.debug("track %d re-seen after %d frames: similarity %.3f", track.track_id, track.gap, similarity)
        return similarity >= self.config.track.reacquire_min_similarity

    def _sample(self, track: Track, image: np.ndarray, face) -> None:
        with _Timer(self.stats, "align"):
            aligned = self.embedder.align(image, face)
        quality = Quality(face.size, sharpness(aligned), frontalness(face))
        if not quality.is_good(self.config.track, self.config.min_face_px):
            return
        with _Timer(self.stats, "embed"):
            embedding = self.embedder.embed(aligned)
        track.add_sample(quality.score, embedding, self.config.track.max_samples)
        if self.crops is not None:
            self.crops.offer(track.track_id, quality.score, image, face.box)
        if self.fusion is not None:
            start = time.perf_counter()
            s = self.config.liveness
            evidence = self._liveness.setdefault(track.track_id, TrackLiveness(s.cue_frames, s.patches))
            evidence.add_frame(image, face.box)
            self._add_liveness_ms(track, start)

    def _add_liveness_ms(self, track: Track, start: float) -> None:
        ms = (time.perf_counter() - start) * 1000.0
        self._liveness_ms[track.track_id] = self._liveness_ms.get(track.track_id, 0.0) + ms

    def _liveness_of(self, track: Track) -> tuple[float | None, dict[str, float]]:
        """(fused score, cue scores) of a deciding track; its evidence (patches) is dropped right here."""
        if self.fusion is None:
            return None, {}
        start = time.perf_counter()
        evidence = self._liveness.pop(track.track_id, None) or TrackLiveness()
        score, cues = evidence.evaluate(self.fusion)
        self._add_liveness_ms(track, start)
        self.stats.add("liveness", self._liveness_ms.pop(track.track_id))
        return score, cues

    def _evidence_crop(self, track: Track, event: str) -> np.ndarray | None:
        """The track's crop if this event keeps one; dropped otherwise (no image outlives its decision)."""
        if self.crops is None:
            return None
        crop = self.crops.take(track.track_id)
        return crop if keeps(self.config.evidence, event) else None

    def _decide(self, track: Track, t: float) -> list[Decision]:
        track.decided = True
        with _Timer(self.stats, "match"):
            verdict = decide(track, self.gallery, self.config.match_threshold, self.config.match_margin)
        liveness, cues = self._liveness_of(track)
        if liveness is not None and doubtful(liveness, self.liveness_threshold, self.config.liveness.challenge):
            session = ChallengeSession(self.config.liveness.challenge.kind, self.config.liveness.challenge)
            self._challenges[track.track_id] = (session, verdict, liveness, cues)
            self.prompt = session.prompt
            log.info("track %d: liveness %.3f is doubtful; asking: %s", track.track_id, liveness, session.prompt)
            return []
        return self._conclude(track, verdict, liveness, cues, t)

    def _challenge_step(self, track: Track, image: np.ndarray, face, t: float) -> list[Decision]:
        """Feed one more frame of a challenged track to its session; conclude once it has an answer."""
        if self._mesh is None:
            from edge_models.litert_runtime import FaceMesh  # only sites with the challenge on load it

            self._mesh = FaceMesh()
        mesh = self._mesh.landmarks(image, face.box, face.landmarks[:2])
        if self._challenges[track.track_id][0].observe(mesh.points, mesh.score) is None:
            return []
        return self._end_challenge(track, t)

    def _end_challenge(self, track: Track, t: float) -> list[Decision]:
        """Conclude a challenged track: passed decides as live, failed (or left unanswered) is a SPOOF."""
        pending = self._challenges.pop(track.track_id, None)
        if pending is None:
            return []
        session, verdict, liveness, cues = pending
        passed = session.give_up()  # the outcome if answered; a track leaving unanswered fails
        self.prompt = next(iter(self._challenges.values()))[0].prompt if self._challenges else None
        log.info("track %d: challenge %s %s after %d frame(s)", track.track_id, session.kind,
                 "passed" if passed else "FAILED", session.frames)
        return self._conclude(track, verdict, liveness, {**cues, "challenge": 1.0 if passed else 0.0}, t, passed)

    def _conclude(self, track: Track, verdict, liveness: float | None, cues: dict[str, float], t: float,
                  passed: bool | None = None) -> list[Decision]:
        """The decision once liveness is settled (by the passive score, or by a challenge when `passed` is set)."""
        score = verdict.match.score
        spoof = liveness is not None and (liveness < self.liveness_threshold if passed is None else not passed)
        if spoof:
            # No attendance, no debounce, no IN/OUT toggle: every attempt is its own SPOOF event.
            log.warning("track %d: SPOOF (liveness %.3f, threshold %.3f; cues %s; best match %s)", track.track_id,
                        liveness, self.liveness_threshold, {k: round(v, 2) for k, v in cues.items()},
                        verdict.person_id)
            self.counters.decisions["SPOOF"] += 1
            return [Decision(track.track_id, verdict.person_id, verdict.name, "SPOOF", score, track.first_frame,
                             track.last_frame, verdict.frames_used, t, liveness, cues,
                             self._evidence_crop(track, "SPOOF"))]
        if verdict.person_id is None:
            event = "UNKNOWN"
        else:
            last = self._last_emitted.get(verdict.person_id)
            if last is not None and 0 <= t - last < self.config.debounce_minutes * 60:
                self.counters.debounced += 1
                self._evidence_crop(track, event="IN")  # drops it
                log.info("track %d: %s seen again within %.1f min, no new decision", track.track_id,
                         verdict.person_id, self.config.debounce_minutes)
                return []
            self._last_emitted[verdict.person_id] = t
            event = self._direction(verdict.person_id, t)
        self.counters.decisions[event] += 1
        return [Decision(track.track_id, verdict.person_id, verdict.name, event, score, track.first_frame,
                         track.last_frame, verdict.frames_used, t, liveness, cues,
                         self._evidence_crop(track, event))]

    def _direction(self, person_id: str, t: float) -> str:
        if self.config.direction == "in":
            return "IN"
        if self.config.direction == "out":
            return "OUT"
        # toggle: the day's first decision for a person is IN, then OUT, IN, ... (kiosk's local calendar day)
        day = datetime.fromtimestamp(t).date()
        last_day, n = self._day_events.get(person_id, (day, 0))
        n = n if last_day == day else 0
        self._day_events[person_id] = (day, n + 1)
        return "IN" if n % 2 == 0 else "OUT"
