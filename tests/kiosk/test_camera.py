"""Frame sources: image folders (with a corrupt file), video files, in-memory replays and open_source specs."""

import importlib.util
import logging
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.camera import (
    Frame,
    ImageFolderSource,
    SequenceSource,
    SourceError,
    V4L2Source,
    VideoFileSource,
    open_source,
)


def _image(i: int, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    """A frame whose content says which one it is: a bright bar at column 4*i."""
    img = np.full((size[1], size[0], 3), 40, np.uint8)
    img[:, 4 * i:4 * i + 4] = (255, 200, 100)
    return img


def _bar_column(img: np.ndarray) -> int:
    return int(np.argmax(img[:, :, 0].mean(axis=0))) // 4


def test_folder_source_reads_sorted_images_and_skips_a_corrupt_file(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    for i in range(5):
        cv2.imwrite(str(tmp_path / f"frame_{i:03d}.png"), _image(i))
    (tmp_path / "frame_002.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated garbage")
    cv2.imwrite(str(tmp_path / "frame_005.pgm"), cv2.cvtColor(_image(5), cv2.COLOR_BGR2GRAY))
    (tmp_path / "truth.csv").write_text("frame,identity\n")  # not an image: ignored, not "bad"

    with caplog.at_level(logging.WARNING), ImageFolderSource(tmp_path, fps=5.0) as source:
        frames = list(source)
    assert [f.index for f in frames] == [0, 1, 3, 4, 5]  # the corrupt file leaves a gap, indices stay aligned
    assert [f.t for f in frames] == pytest.approx([0.0, 0.2, 0.6, 0.8, 1.0])
    assert source.bad_frames == 1
    assert "frame_002.png" in caplog.text
    for f in frames:
        assert f.image.dtype == np.uint8 and f.image.shape == (48, 64, 3)
        assert _bar_column(f.image) == f.index


def test_folder_source_missing_folder_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        ImageFolderSource(tmp_path / "nope")


@pytest.mark.parametrize(("fourcc", "suffix"), [("MJPG", ".avi"), ("mp4v", ".mp4")])
def test_video_file_source_yields_frames_with_time_from_fps(tmp_path: Path, fourcc: str, suffix: str) -> None:
    path = tmp_path / f"clip{suffix}"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 20.0, (64, 48))
    assert writer.isOpened(), f"this OpenCV build cannot write {fourcc}"
    for i in range(8):
        writer.write(_image(i))
    writer.release()

    with VideoFileSource(path) as source:
        frames = list(source)
    assert source.fps == pytest.approx(20.0)
    assert [f.index for f in frames] == list(range(8))
    assert [f.t for f in frames] == pytest.approx([i / 20.0 for i in range(8)])
    assert [_bar_column(f.image) for f in frames] == list(range(8))  # lossy codec, same frames in order


def test_video_file_source_rejects_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    bogus = tmp_path / "clip.mp4"
    bogus.write_bytes(b"this is not a video" * 100)
    with pytest.raises(SourceError, match="cannot be opened"):
        VideoFileSource(bogus)


def test_sequence_source_as_fast_as_possible_and_paced() -> None:
    images = [_image(i) for i in range(5)]
    frames = list(SequenceSource(images, fps=50.0))
    assert [(f.index, f.t) for f in frames] == [(i, i / 50.0) for i in range(5)]
    assert all(isinstance(f, Frame) and _bar_column(f.image) == f.index for f in frames)

    started = time.monotonic()
    paced = list(SequenceSource(images, fps=50.0, realtime=True))
    elapsed = time.monotonic() - started
    assert len(paced) == 5
    assert elapsed >= 4 / 50.0 * 0.9  # four 20 ms periods between five frames


def test_sequence_source_converts_grey_and_rejects_bad_arrays() -> None:
    grey = np.zeros((10, 12), np.uint8)
    (frame,) = list(SequenceSource([grey]))
    assert frame.image.shape == (10, 12, 3)
    with pytest.raises(SourceError, match="uint8"):
        SequenceSource([np.zeros((10, 12, 3), np.float32)])
    with pytest.raises(SourceError, match="shape"):
        SequenceSource([np.zeros((10, 12, 2), np.uint8)])


def test_open_source_parses_specs(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.jpg"), _image(1))
    with open_source(f"folder:{tmp_path}") as source:
        assert isinstance(source, ImageFolderSource)
        assert len(list(source)) == 1


@pytest.mark.parametrize(("spec", "message"), [
    ("webcam:0", "unknown scheme 'webcam'"),
    ("/some/path", "unknown scheme"),
    ("folder:", "missing the path"),
    ("video:", "missing the path"),
    ("v4l2:", "missing the device"),
    ("v4l2:usbcam", "camera index"),
    ("picamera2:0", "takes no argument"),
])
def test_open_source_bad_specs_say_what_was_wrong(spec: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        open_source(spec)


def test_open_source_missing_paths_are_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=str(tmp_path / "gone")):
        open_source(f"folder:{tmp_path / 'gone'}")
    with pytest.raises(SourceError, match="clip.mp4 does not exist"):
        open_source(f"video:{tmp_path / 'clip.mp4'}")


def test_v4l2_without_that_camera_is_a_named_error() -> None:
    if Path("/dev/video63").exists():
        pytest.skip("this machine has a /dev/video63")
    with pytest.raises(SourceError, match="/dev/video63 cannot be opened"):
        V4L2Source(63)


def test_picamera2_missing_is_a_clear_error() -> None:
    if importlib.util.find_spec("picamera2") is not None:
        pytest.skip("picamera2 is installed here (a Pi): the missing-package error cannot be shown")
    with pytest.raises(SourceError, match="picamera2 is not installed"):
        open_source("picamera2")
