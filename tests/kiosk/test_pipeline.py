"""Pipeline on real models: one decision per walk-past, strangers UNKNOWN, bad frames counted, debounce, IN/OUT."""

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_models.liveness.fusion import load_fusion
from edge_models.opencv_runtime import Detector, Embedder, read_image
from hajiri_demo.walkpast import feathered_paste
from kiosk.config import KioskConfig
from kiosk.gallery import Gallery, build_gallery
from kiosk.pipeline import Pipeline
from model_lab.evaluation.labelled import load_identities
from model_lab.liveness import attacks

# Frame times, not the wall clock: 09:00 on 2025-11-25 in the kiosk's local time zone (IN/OUT days are local).
T0 = time.mktime((2025, 11, 25, 9, 0, 0, 0, 0, -1))


def background(seed: int = 0, size: tuple[int, int] = (480, 640)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = size
    grad = np.linspace(60, 160, w, dtype=np.float32)[None, :, None] * np.ones((h, 1, 3), np.float32)
    return np.clip(grad + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)


def face_crop(image: np.ndarray, detector: Detector) -> np.ndarray:
    """A square crop 2.2x the size of the photo's largest face, face centred (edges replicated)."""
    f = max(detector.detect(image), key=lambda f: f.size)
    x, y, w, h = f.box
    side = int(2.2 * max(w, h))
    cx, cy = int(x + w / 2), int(y + h / 2)
    padded = cv2.copyMakeBorder(image, side, side, side, side, cv2.BORDER_REPLICATE)
    return padded[cy + side - side // 2: cy + side + side // 2, cx + side - side // 2: cx + side + side // 2]


def walk_frames(crop: np.ndarray, n: int = 15, seed: int = 0) -> list[np.ndarray]:
    """Someone walking towards the kiosk across the frame: the face grows ~70 -> ~130 px and shifts right."""
    frames = []
    for i in range(n):
        frame = background(seed)
        side = int((70 + 60 * i / max(n - 1, 1)) * 2.2)
        patch = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)
        feathered_paste(frame, patch, 60 + 15 * i, 40 + 3 * i)
        frames.append(frame)
    return frames


def feed(pipeline: Pipeline, frames: list, start_index: int = 0, t0: float = T0, fps: float = 10.0) -> list:
    decisions = []
    for i, image in enumerate(frames):
        decisions += pipeline.process(start_index + i, image, t0 + i / fps)
    return decisions


def blank(n: int) -> list[np.ndarray]:
    return [background(1) for _ in range(n)]


@pytest.fixture(scope="module")
def models() -> tuple[Detector, Embedder]:
    return Detector(), Embedder()


def test_blank_and_bad_frames_without_shared_data(models, tmp_path: Path) -> None:
    pipe = Pipeline(KioskConfig(), Gallery(), *models)
    garbage = cv2.imdecode(np.frombuffer(b"garbage bytes", np.uint8), cv2.IMREAD_COLOR)  # None
    frames = [np.zeros((480, 640, 3), np.uint8), None, garbage, np.zeros((480, 640, 3), np.float64),
              np.zeros((0, 640, 3), np.uint8), "frame.jpg", background(2)]
    assert feed(pipe, frames) == [] and pipe.finish(T0 + 1) == []
    c = pipe.counters
    assert (c.frames, c.bad_frames, c.faces_detected, c.tracks) == (7, 5, 0, 0)
    assert pipe.stats.counts["detect"] == 2
    assert set(pipe.stats.summary()) == {"detect", "align", "embed", "match"}


@pytest.fixture(scope="module")
def people(shared_data: Path, models) -> dict:
    """Gallery of 6 CelebA people (3 photos each); walk-past crops from their OTHER photos and from strangers."""
    detector, embedder = models
    root = shared_data / "faces" / "celeba_dev"
    by_person = load_identities(root)
    ids = sorted(by_person)
    enrolled, strangers = ids[:6], ids[55:58]
    gallery, report = build_gallery([(p, f"Person {p}", [root / r for r in by_person[p][:3]]) for p in enrolled],
                                    detector, embedder)
    assert report.people == 6

    def crop_of(rel: str) -> np.ndarray | None:
        image = read_image(root / rel)
        return face_crop(image, detector) if len(detector.detect(image)) == 1 else None

    def first_crops(pid: str, photos: list[str], k: int) -> list[np.ndarray]:
        crops = [c for c in (crop_of(r) for r in photos) if c is not None]
        return crops[:k]

    return {"gallery": gallery, "enrolled": enrolled,
            "probe": {p: first_crops(p, by_person[p][3:], 2) for p in enrolled[:4]},
            "stranger": {p: first_crops(p, by_person[p], 1)[0] for p in strangers}}


@pytest.mark.shared_data
def test_walk_past_gives_one_decision_for_the_right_person(people, models) -> None:
    pipe = Pipeline(KioskConfig(), people["gallery"], *models)
    results = []
    for n, pid in enumerate(people["probe"]):
        crop = people["probe"][pid][0]
        decisions = feed(pipe, walk_frames(crop, seed=n) + blank(8), start_index=100 * n, t0=T0 + 600 * n)
        results.append((pid, decisions))
    assert all(len(decisions) == 1 for _, decisions in results), results  # one decision per walk-past
    # In-the-wild probe photos (make-up, pose, years apart): a miss is UNKNOWN, never somebody else.
    assert all(d.person_id in (pid, None) for pid, [d] in results), results
    known = [(pid, d) for pid, [d] in results if d.person_id is not None]
    assert len(known) >= 3, results
    for pid, d in known:
        assert d.event == "IN" and d.name == f"Person {pid}"
        assert d.match_score >= pipe.config.match_threshold and d.frames_used == pipe.config.track.decide_after
        assert d.first_frame % 100 == 0 and d.last_frame >= d.first_frame + d.frames_used - 1
    c = pipe.counters
    assert c.tracks == 4 and c.decisions["IN"] == len(known) and c.bad_frames == 0
    assert pipe.stats.counts["embed"] >= 20 and pipe.stats.summary()["detect"]["mean_ms"] > 0


@pytest.mark.shared_data
def test_strangers_stay_unknown_once_per_track(people, models) -> None:
    pipe = Pipeline(KioskConfig(), people["gallery"], *models)
    decisions = []
    for n, crop in enumerate(people["stranger"].values()):
        decisions += feed(pipe, walk_frames(crop, seed=10 + n) + blank(8), start_index=100 * n, t0=T0 + 60 * n)
    assert [d.event for d in decisions] == ["UNKNOWN"] * 3
    assert all(d.person_id is None and d.name == "" for d in decisions)
    assert pipe.counters.decisions == {"UNKNOWN": 3}


@pytest.mark.shared_data
def test_debounce_and_in_out_toggle(people, models) -> None:
    pid = next(iter(people["probe"]))
    crop_a, crop_b = people["probe"][pid][:2]
    pipe = Pipeline(KioskConfig(debounce_minutes=5), people["gallery"], *models)

    def walk(t0: float, crop: np.ndarray, start: int) -> list:
        return feed(pipe, walk_frames(crop) + blank(8), start_index=start, t0=t0)

    first = walk(T0, crop_a, 0)
    again = walk(T0 + 120, crop_b, 100)  # two minutes later: same person, no new decision
    later = walk(T0 + 3600, crop_b, 200)  # an hour later: leaves
    back = walk(T0 + 7200, crop_a, 300)
    next_day = walk(T0 + 86400, crop_b, 400)  # a new day starts with IN again
    assert [d.event for d in first] == ["IN"] and again == [] and [d.event for d in later] == ["OUT"]
    assert [d.event for d in back] == ["IN"] and [d.event for d in next_day] == ["IN"]
    assert pipe.counters.debounced == 1 and pipe.counters.decisions == {"IN": 3, "OUT": 1}

    fixed = Pipeline(KioskConfig(direction="in", debounce_minutes=0), people["gallery"], *models)
    events = [d.event for n in range(2) for d in
              feed(fixed, walk_frames(crop_a) + blank(8), start_index=100 * n, t0=T0 + 10 * n)]
    assert events == ["IN", "IN"]


@pytest.mark.shared_data
def test_bad_frames_inside_a_walk_are_skipped(people, models) -> None:
    pid = next(iter(people["probe"]))
    frames = walk_frames(people["probe"][pid][0])
    frames[3], frames[7] = None, np.zeros((480, 640), np.float32)
    pipe = Pipeline(KioskConfig(), people["gallery"], *models)
    decisions = feed(pipe, frames + blank(8))
    assert [(d.person_id, d.event) for d in decisions] == [(pid, "IN")]
    assert pipe.counters.bad_frames == 2 and pipe.counters.frames == 23


@pytest.mark.shared_data
def test_track_cut_short_decides_at_end_of_stream(people, models) -> None:
    pid = next(iter(people["probe"]))
    cfg = KioskConfig(track={"decide_after": 50})  # never reached: decision comes when the stream ends
    pipe = Pipeline(cfg, people["gallery"], *models)
    assert feed(pipe, walk_frames(people["probe"][pid][0], n=6)) == []
    decisions = pipe.finish(T0 + 1)
    assert [(d.person_id, d.first_frame, d.last_frame) for d in decisions] == [(pid, 0, 5)]


def still_frames(crop: np.ndarray, n: int, side: int = 240, x: int = 200, y: int = 100) -> list[np.ndarray]:
    """A face standing still at one spot (the doorway), n frames."""
    frame = background(5)
    patch = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)
    frame[y:y + side, x:x + side] = patch
    return [frame.copy() for _ in range(n)]


@pytest.mark.shared_data
def test_next_person_in_the_same_spot_after_a_short_gap_is_a_new_track(people, models) -> None:
    """At a door the next person appears where the last one left: the tracker must not hand them the old
    track (that would silently drop their attendance, or worse give them the first person's name)."""
    a, b = list(people["probe"])[:2]
    pipe = Pipeline(KioskConfig(), people["gallery"], *models)
    frames = still_frames(people["probe"][a][0], 8) + blank(2) + still_frames(people["probe"][b][0], 8) + blank(8)
    decisions = feed(pipe, frames)
    assert pipe.counters.tracks == 2
    assert len(decisions) == 2 and decisions[0].person_id in (a, None) and decisions[1].person_id in (b, None)
    assert decisions[1].first_frame == 10


def _run(config: KioskConfig, frames, detector, embedder) -> tuple[Pipeline, list]:
    pipe = Pipeline(config, Gallery(), detector, embedder)
    decisions = []
    for i, frame in enumerate(frames):
        decisions += pipe.process(i, frame, T0 + i / 10)
    return pipe, decisions + pipe.finish(T0 + 10)


@pytest.mark.shared_data
def test_pipeline_writes_spoof_for_a_print_attack_and_nothing_when_disabled(detector, embedder, lfw_faces,
                                                                            caplog) -> None:
    frames = attacks.attack_track(lfw_faces[0], "print", 8, seed=5)
    pipe, decisions = _run(KioskConfig(), frames, detector, embedder)
    assert [d.event for d in decisions] == ["SPOOF"]
    assert decisions[0].person_id is None and decisions[0].liveness_score < pipe.liveness_threshold
    assert set(decisions[0].liveness_cues) >= {"colour", "texture", "border", "planarity"}
    cost = pipe.stats.summary()["liveness"]
    assert cost["count"] == 1 and cost["p95_ms"] > 0
    assert pipe.counters.decisions == {"SPOOF": 1}

    assert pipe.liveness_threshold == load_fusion().threshold  # the shipped one unless a site sets its own

    off = KioskConfig(liveness={"enabled": False})
    with caplog.at_level("WARNING"):
        pipe, decisions = _run(off, frames, detector, embedder)
    assert [d.event for d in decisions] == ["UNKNOWN"] and decisions[0].liveness_score is None
    assert "LIVENESS DISABLED" in caplog.text
    assert "liveness" not in pipe.stats.summary() and pipe.counters.to_dict()["liveness"] == "DISABLED"
