"""Tracker: boxes across frames become tracks; tracks end when unseen; quality and the one decision per track."""

import numpy as np
import pytest

from edge_models.opencv_runtime import Face
from kiosk.config import TrackSettings
from kiosk.gallery import Gallery
from kiosk.tracking import Quality, Track, Tracker, centre_shift, decide, frontalness, iou


def face_at(x: float, y: float, size: float, turn: float = 0.0) -> Face:
    """A face box with plausible landmarks; `turn` moves the nose towards one eye (head turned)."""
    lm = np.array([[0.3, 0.4], [0.7, 0.4], [0.5 + turn, 0.6], [0.35, 0.8], [0.65, 0.8]], np.float32)
    return Face((x, y, size, size), lm * size + np.array([x, y], np.float32), 0.9)


def test_iou_and_centre_shift() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == pytest.approx(1.0)
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (20, 20, 10, 10)) == 0.0
    assert centre_shift((0, 0, 10, 10), (10, 0, 10, 10)) == pytest.approx(1.0)


def test_frontalness_drops_when_head_turns() -> None:
    assert frontalness(face_at(0, 0, 100)) == pytest.approx(1.0)
    assert frontalness(face_at(0, 0, 100, turn=0.15)) < 0.8
    assert frontalness(face_at(0, 0, 100, turn=0.2)) < frontalness(face_at(0, 0, 100, turn=0.1))


def test_quality_gate() -> None:
    s = TrackSettings()
    assert Quality(120, 300, 0.95).is_good(s, 40)
    assert not Quality(30, 300, 0.95).is_good(s, 40)  # too small
    assert not Quality(120, 2, 0.95).is_good(s, 40)  # blurred
    assert not Quality(120, 300, 0.3).is_good(s, 40)  # profile
    assert Quality(120, 300, 1.0).score > Quality(60, 300, 1.0).score > Quality(60, 50, 1.0).score


def test_moving_face_stays_one_track_and_ends_when_unseen() -> None:
    tracker = Tracker(TrackSettings(max_missed=3))
    ids = set()
    for i in range(15):  # walks right and grows, as someone approaching the kiosk
        pairs = tracker.associate(i, [face_at(100 + 20 * i, 150 + 2 * i, 70 + 4 * i)])
        ids |= {t.track_id for t, _ in pairs}
        assert tracker.expire() == []
    assert len(ids) == 1
    for i in range(15, 18):
        tracker.associate(i, [])
        assert tracker.expire() == []
    tracker.associate(18, [])
    ended = tracker.expire()
    assert [t.track_id for t in ended] == list(ids) and ended[0].first_frame == 0 and ended[0].last_frame == 14
    assert tracker.active == []


def test_two_people_two_tracks_and_a_newcomer_gets_a_new_id() -> None:
    tracker = Tracker(TrackSettings(max_missed=1))
    for i in range(5):
        pairs = tracker.associate(i, [face_at(50 + 5 * i, 100, 80), face_at(450 - 5 * i, 100, 80)])
        assert sorted(t.track_id for t, _ in pairs) == [1, 2]
    # both leave, someone else appears far away later: a new track
    tracker.associate(5, [])
    tracker.associate(6, [])
    assert len(tracker.expire()) == 2
    pairs = tracker.associate(7, [face_at(300, 300, 80)])
    assert [t.track_id for t, _ in pairs] == [3]
    assert [t.track_id for t in tracker.flush()] == [3]


def test_track_keeps_best_samples_and_decides_with_margin() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(128), rng.standard_normal(128)
    a, b = (a / np.linalg.norm(a)).astype(np.float32), (b / np.linalg.norm(b)).astype(np.float32)
    g = Gallery()
    g.add("emp-a", "A", a)
    g.add("emp-b", "B", b)
    track = Track(1, (0, 0, 100, 100), 0, 0)
    for q in (0.1, 0.9, 0.5, 0.7):
        noisy = a + 0.03 * rng.standard_normal(128).astype(np.float32)
        track.add_sample(q, noisy / np.linalg.norm(noisy), keep=3)
    assert [q for q, _ in track.samples] == [0.9, 0.7, 0.5] and track.good_frames == 4
    v = decide(track, g, threshold=0.5, margin=0.05)
    assert v.person_id == "emp-a" and v.name == "A" and v.frames_used == 3
    assert decide(track, g, threshold=0.99, margin=0.05).person_id is None  # below threshold: unknown
    # between two people: no margin -> unknown even though the score is high
    mid = (a + b) / np.linalg.norm(a + b)
    twin = Track(2, (0, 0, 100, 100), 0, 0)
    twin.add_sample(1.0, mid.astype(np.float32), keep=3)
    v = decide(twin, g, threshold=0.5, margin=0.05)
    assert v.match.score > 0.5 and v.person_id is None


def test_a_face_that_jumps_in_size_is_someone_else() -> None:
    tracker = Tracker(TrackSettings(max_missed=5, max_size_ratio=1.4))
    for i in range(5):
        tracker.associate(i, [face_at(200 + 10 * i, 100, 180)])
    # Two frames later a much smaller face close by: a new person entering, not the same one walking.
    tracker.associate(5, [])
    pairs = tracker.associate(6, [face_at(230, 110, 100)])
    assert [t.track_id for t, _ in pairs] == [2]


def test_split_ends_the_old_track_at_its_last_sighting() -> None:
    tracker = Tracker(TrackSettings(max_missed=5))
    for i in range(4):
        tracker.associate(i, [face_at(100, 100, 120)])
    tracker.associate(4, [])
    tracker.associate(5, [])
    [(track, face)] = tracker.associate(6, [face_at(100, 100, 120)])
    assert track.track_id == 1 and track.gap == 2
    new = tracker.split(track, face, 6)
    assert new.track_id == 2 and new.first_frame == 6
    ended = tracker.expire()
    assert [t.track_id for t in ended] == [1] and ended[0].last_frame == 3
    assert [t.track_id for t in tracker.active] == [2]
